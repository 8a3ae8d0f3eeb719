/**
 * The one way the UI talks to the API: same origin, the session cookie (HttpOnly,
 * SameSite=Strict) goes along by itself, and every change carries the CSRF header
 * the server demands of browser sessions.
 */
import { t } from './i18n.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: unknown,
    readonly retryAfterS: number | null = null,
  ) {
    super(message);
  }
}

/** Called when the server says the session is gone (401), so the app can show the login. */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(f: () => void): void {
  onUnauthorized = f;
}

function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return { error: text };
  }
}

/** The server's refusal as an ApiError (its message, the fields it names, Retry-After). */
async function refusal(res: Response, path: string): Promise<ApiError> {
  const json = parseBody(await res.text());
  if (res.status === 401 && path !== '/api/login') onUnauthorized();
  const retry = res.headers.get('retry-after');
  const msg = (json as { error?: string } | null)?.error ?? `HTTP ${res.status}`;
  const issues = (json as { issues?: Array<{ path: string; message: string }> } | null)?.issues;
  return new ApiError(
    res.status,
    issues?.length ? `${msg}: ${issues.map((i) => `${i.path} – ${i.message}`).join('; ')}` : msg,
    json,
    retry ? Number(retry) : null,
  );
}

async function request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body: unknown, accept: string): Promise<Response> {
  const headers: Record<string, string> = { accept };
  if (method !== 'GET') headers['x-vaktpost-csrf'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, (err as Error).message, null);
  }
  if (!res.ok) throw await refusal(res, path);
  return res;
}

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const res = await request(method, path, body, 'application/json');
  return parseBody(await res.text()) as T;
}

/** A POST whose answer is a file (a recording, an export bundle): the Response, for its blob and headers. */
export function apiFile(path: string, body: unknown): Promise<Response> {
  return request('POST', path, body, '*/*');
}

/** What to show for a failed call: "your role does not allow this" for a 403 about roles, else the server's message. */
export function errText(e: unknown): string {
  // A cross-origin refusal is no matter of role: show the server's reason (it names the fix).
  return e instanceof ApiError && e.status === 403 && !e.message.startsWith('cross-') ? t('err.forbidden') : (e as Error).message;
}
