/**
 * The one way the UI talks to the API: same origin, the session cookie (HttpOnly,
 * SameSite=Strict) goes along by itself, and every change carries the CSRF header
 * the server demands of browser sessions.
 */
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

export async function api<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET') headers['x-vaktpost-csrf'] = '1';
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch (err) {
    throw new ApiError(0, (err as Error).message, null);
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = { error: text };
  }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/login') onUnauthorized();
    const retry = res.headers.get('retry-after');
    const msg = (json as { error?: string } | null)?.error ?? `HTTP ${res.status}`;
    const issues = (json as { issues?: Array<{ path: string; message: string }> } | null)?.issues;
    throw new ApiError(
      res.status,
      issues?.length ? `${msg}: ${issues.map((i) => `${i.path} – ${i.message}`).join('; ')}` : msg,
      json,
      retry ? Number(retry) : null,
    );
  }
  return json as T;
}
