// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` in plain strings is the config's own syntax, not a mistaken template literal.
/**
 * One HTTP(S) request to the upstream, with a hard whole-request deadline and
 * errors that say what went wrong and what to check.
 *
 * node:http(s) rather than fetch: Node 20's fetch cannot take a per-request CA
 * or rejectUnauthorized without the undici package. No keep-alive: each
 * heartbeat walks the whole path (TCP, TLS, HTTP), so a success really means
 * the upstream can be reached now, and no stale pooled socket can fail a beat.
 */
import http from 'node:http';
import https from 'node:https';
import type { RenderedRequest } from './requestTemplate.js';

/** Enough for a status JSON or an error page snippet; more is not read. */
const MAX_BODY_BYTES = 64 * 1024;
const SNIPPET_CHARS = 200;

export type UpstreamErrorKind = 'timeout' | 'tls' | 'connect' | 'status' | 'aborted' | 'protocol';

export class UpstreamHttpError extends Error {
  override name = 'UpstreamHttpError';
  constructor(
    message: string,
    readonly kind: UpstreamErrorKind,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message);
  }
}

export interface HttpResponse {
  status: number;
  /** Up to 64 KiB of the body, UTF-8 decoded. */
  body: string;
  truncated: boolean;
  durationMs: number;
}

/** Make one attempt. Resolves with any HTTP answer; rejects on no answer (timeout, TLS, refused, aborted). */
export function sendOnce(req: RenderedRequest, opts: { what: string; signal?: AbortSignal }): Promise<HttpResponse> {
  const started = performance.now();
  const where = `${opts.what} ${req.method} ${req.displayUrl}`;
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res as HttpResponse);
    };

    const isHttps = req.url.protocol === 'https:';
    const headers: Record<string, string> = { ...req.headers, Connection: 'close' };
    if (req.body) headers['Content-Length'] = String(req.body.length);
    const options: https.RequestOptions = {
      method: req.method,
      headers,
      agent: false,
      ...(isHttps ? { rejectUnauthorized: req.tls.rejectUnauthorized, ...(req.tls.ca ? { ca: req.tls.ca } : {}) } : {}),
    };
    const request = (isHttps ? https : http).request(req.url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      const response = (): HttpResponse => ({
        status: res.statusCode ?? 0,
        body: Buffer.concat(chunks).toString('utf8'),
        truncated,
        durationMs: performance.now() - started,
      });
      res.on('data', (chunk: Buffer) => {
        if (truncated) return;
        const room = MAX_BODY_BYTES - size;
        if (chunk.length > room) {
          chunks.push(chunk.subarray(0, room));
          size = MAX_BODY_BYTES;
          truncated = true;
          // We have what we need; do not let a huge body hold the request open.
          res.destroy();
          finish(undefined, response());
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on('end', () => finish(undefined, response()));
      res.on('error', (err) => finish(describe(err, where, req)));
      res.on('aborted', () => finish(new UpstreamHttpError(`${where}: the connection closed mid-answer`, 'protocol')));
    });

    const timer = setTimeout(() => {
      const err = new UpstreamHttpError(
        `${where}: no complete answer within ${req.timeoutMs} ms (timeoutMs) — is the upstream up and reachable from this box? ` +
          `Raise timeoutMs only if it is known to be slow`,
        'timeout',
      );
      finish(err);
      request.destroy(err);
    }, req.timeoutMs);

    const onAbort = () => {
      const err = new UpstreamHttpError(`${where}: aborted (the supervisor is stopping)`, 'aborted');
      finish(err);
      request.destroy(err);
    };
    if (opts.signal?.aborted) {
      onAbort();
      return;
    }
    opts.signal?.addEventListener('abort', onAbort, { once: true });

    request.on('error', (err) => finish(describe(err, where, req)));
    request.end(req.body);
  });
}

/** Turn a socket/TLS error into a message naming the cause and the fix. */
function describe(err: Error, where: string, req: RenderedRequest): UpstreamHttpError {
  if (err instanceof UpstreamHttpError) return err;
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const host = `${req.url.hostname}:${req.url.port || (req.url.protocol === 'https:' ? 443 : 80)}`;
  const tlsFix = req.tls.caFile
    ? `check that tls.caFile (${req.tls.caFile}) holds the CA that signed the upstream's certificate`
    : `set tls.caFile to the CA that signed the upstream's certificate`;
  switch (code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return new UpstreamHttpError(`${where}: TLS certificate of ${host} is not trusted (${code}: ${err.message}) — ${tlsFix}`, 'tls', undefined, code);
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return new UpstreamHttpError(
        `${where}: TLS certificate of ${host} is outside its validity period (${code}) — check the box's clock (chrony) and the upstream's certificate`,
        'tls',
        undefined,
        code,
      );
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return new UpstreamHttpError(
        `${where}: TLS certificate does not name ${req.url.hostname} (${err.message}) — use the host name the certificate was issued for in the URL`,
        'tls',
        undefined,
        code,
      );
    case 'EPROTO':
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
      return new UpstreamHttpError(
        `${where}: TLS handshake with ${host} failed (${err.message}) — does the port speak HTTPS? (http:// vs https:// in the URL)`,
        'tls',
        undefined,
        code,
      );
    case 'ECONNREFUSED':
      return new UpstreamHttpError(
        `${where}: ${host} refused the connection — is the upstream endpoint up, and are host and port in the URL right?`,
        'connect',
        undefined,
        code,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UpstreamHttpError(
        `${where}: cannot resolve ${req.url.hostname} (${code}) — check the host name and the box's DNS / WAN link`,
        'connect',
        undefined,
        code,
      );
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new UpstreamHttpError(`${where}: no route to ${host} (${code}) — check the WAN links and routing`, 'connect', undefined, code);
    case 'ECONNRESET':
    case 'EPIPE':
      return new UpstreamHttpError(
        `${where}: ${host} closed the connection before answering (${code}) — check the upstream's logs and any proxy/firewall in between`,
        'connect',
        undefined,
        code,
      );
    default:
      return new UpstreamHttpError(
        `${where}: request failed (${code || err.name}: ${err.message})`,
        code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') ? 'tls' : 'protocol',
        undefined,
        code || undefined,
      );
  }
}

/** Whether `status` counts as success: the configured list, or any 2xx. */
export function isExpectedStatus(status: number, expected: readonly number[] | undefined): boolean {
  return expected ? expected.includes(status) : status >= 200 && status <= 299;
}

/** A short, single-line excerpt of a response body for error messages. */
export function bodySnippet(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > SNIPPET_CHARS ? `${flat.slice(0, SNIPPET_CHARS)}…` : flat;
}

/** Throw a clear error unless the answer's status is one we expect. */
export function assertExpectedStatus(res: HttpResponse, req: RenderedRequest, opts: { what: string; expected: readonly number[] | undefined }): void {
  if (isExpectedStatus(res.status, opts.expected)) return;
  const want = opts.expected ? opts.expected.join('/') : '2xx';
  throw new UpstreamHttpError(
    `${opts.what} ${req.method} ${req.displayUrl}: answered HTTP ${res.status} (expected ${want}) after ${Math.round(res.durationMs)} ms — ` +
      `${statusHint(res.status)}; body: ${bodySnippet(res.body)}`,
    'status',
    res.status,
  );
}

function statusHint(status: number): string {
  if (status === 401 || status === 403) return 'check the credentials in headers (and the ${env:…} they reference)';
  if (status === 404 || status === 405) return 'check the URL and method against the upstream API';
  if (status === 400 || status === 422) return 'the upstream rejected the request; check bodyTemplate against its API';
  if (status >= 300 && status < 400) return 'redirects are not followed; put the final URL in the config';
  if (status >= 500) return 'the upstream failed; retry, and check its status page / support';
  return 'if this status means success for this API, list it in expectedStatuses';
}
