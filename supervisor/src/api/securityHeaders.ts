/**
 * Security headers on every response the API sends, in one place (issue #17): the UI
 * shell, the evidence report and deviations HTML, the Node-RED editor proxied at /flows,
 * error pages, 404s and JSON alike.
 *
 *  - Content-Security-Policy with `frame-ancestors 'none'` (no clickjacking). Our own
 *    pages get the strict policy (only our scripts and styles; the report HTML's one
 *    inline <style> and print button are allowed by hash, set by its route). The Node-RED
 *    editor is not ours: it runs inline scripts (its node definitions are <script>
 *    blocks it inserts), evaluates code, sets inline styles and runs Monaco's workers
 *    from blob: URLs — it gets the looser EDITOR_CSP, still same-origin only and never
 *    framed. Its own response headers cannot loosen it: the hook replaces them.
 *  - X-Frame-Options: DENY (browsers without frame-ancestors), nosniff (a JSON or CSV
 *    body is never run as HTML or script), Referrer-Policy: no-referrer (no URL with a
 *    period or an id leaks to another site).
 *
 * A route may set its own CSP (e.g. an inline <style> allowed by its hash); the hook
 * keeps it, except under the editor's root, where the header came from Node-RED.
 *
 * Why not @fastify/helmet: it would be a new dependency for five headers, and its
 * per-route CSP needs the same hook logic for the editor anyway.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * Our pages: only our own scripts, styles and sockets; no framing, no inline code except
 * what a page allows by hash (`inline`: CSP source expressions such as 'sha256-…').
 */
export function appCsp(inline: { script?: readonly string[]; style?: readonly string[] } = {}): string {
  return [
    "default-src 'self'",
    ['script-src', "'self'", ...(inline.script ?? [])].join(' '),
    ['style-src', "'self'", ...(inline.style ?? [])].join(' '),
    "img-src 'self' data:",
    // Recordings are fetched with the reason in a POST body and played from a blob: URL.
    "media-src 'self' blob:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
  ].join('; ');
}

/** The UI's policy (no inline code at all). */
export const APP_CSP = appCsp();

/** The CSP source expression that allows exactly this inline text. */
export function cspHash(inline: string): string {
  return `'sha256-${createHash('sha256').update(inline, 'utf8').digest('base64')}'`;
}

/**
 * The Node-RED editor: what its index page, node definitions, jQuery UI and Monaco
 * need, and no more reach — everything same-origin, nothing framed, no plugins. Its
 * page loads without 'unsafe-eval' too, but editing code (Monaco, JSONata) may
 * evaluate; with 'unsafe-inline' unavoidable, leaving eval out would protect nothing.
 */
export const EDITOR_CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-inline' 'unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

export interface SecurityHeadersOptions {
  /** Path prefix of the proxied Node-RED editor (FLOWS_ADMIN_ROOT), which gets EDITOR_CSP. */
  editorRoot: string;
}

export function registerSecurityHeaders(app: FastifyInstance, o: SecurityHeadersOptions): void {
  const inEditor = (url: string) => {
    const p = url.split('?')[0] ?? '';
    return p === o.editorRoot || p.startsWith(`${o.editorRoot}/`);
  };
  // Synchronous on purpose: an async hook delays the headers past the end of a handler that
  // streams (the /flows proxy resolves right after reply.send), and Fastify then sent an
  // empty second reply — the editor page came out with content-length 0.
  app.addHook('onSend', (req, reply, payload, done) => {
    const editor = inEditor(req.url);
    if (editor || !reply.hasHeader('content-security-policy')) reply.header('content-security-policy', editor ? EDITOR_CSP : APP_CSP);
    reply.header('x-frame-options', 'DENY');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    // Node-RED answers `Access-Control-Allow-Origin: *` and names its framework; we allow no
    // cross-origin reads (the UI and editor are same-origin) and advertise nothing.
    reply.removeHeader('access-control-allow-origin');
    reply.removeHeader('x-powered-by');
    done(null, payload);
  });
}
