/**
 * Cross-origin refusal: the one rule for state-changing requests and WebSocket
 * upgrades. SameSite=Strict cookies do not help against a page on another port
 * of the same host (same site, other origin), so the browser's own statement of
 * where a request comes from is checked:
 *
 * - With an `Origin` header, it must be the box's own origin: the scheme this
 *   connection speaks (https when the socket is TLS, else http) and the `Host`
 *   header the request was sent to. A page cannot set `Host` or `Origin` (the
 *   browser does), so a page elsewhere cannot pass; `Origin: null` (sandboxed
 *   frames, opaque redirects) is refused too.
 * - Without `Origin`, a `Sec-Fetch-Site` of `cross-site` or `same-site` is refused.
 * - Without either (curl, the CLI with its token, server-to-server) the request
 *   passes: a non-browser client has no ambient cookie to abuse.
 *
 * The Host header is trusted as "the address the user typed": a DNS-rebinding
 * page would match its own origin, but the browser sends it no session cookie
 * (cookies are kept per host), so it reaches nothing behind the login.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** `scheme://host[:port]` of the box as this request addressed it, or null without a usable Host header. */
export function ownOrigin(req: IncomingMessage): string | null {
  const host = req.headers.host;
  if (!host) return null;
  const scheme = (req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http';
  try {
    return new URL(`${scheme}://${host}`).origin;
  } catch {
    return null;
  }
}

function normalise(origin: string): string | null {
  try {
    const o = new URL(origin).origin;
    return o === 'null' ? null : o;
  } catch {
    return null;
  }
}

/**
 * Why this request must be refused as cross-origin (bilingual, names the fix),
 * or null when it may pass.
 */
export function crossOriginRefusal(req: IncomingMessage): string | null {
  const origin = req.headers.origin;
  const own = ownOrigin(req);
  if (origin !== undefined) {
    if (own !== null && normalise(origin) === own) return null;
    return (
      `cross-origin request refused: Origin ${origin} is not this box (${own ?? 'no Host header'}); open the web UI at the box's own address ` +
      `(forespørsel fra annen opprinnelse avvist: ${origin} er ikke denne boksen; åpne nettgrensesnittet på boksens egen adresse)`
    );
  }
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') {
    return (
      `cross-origin request refused: sent by a page on another ${site === 'same-site' ? 'origin of this site' : 'site'} (Sec-Fetch-Site: ${site}); ` +
      `open the web UI at the box's own address (forespørsel fra annen opprinnelse avvist: åpne nettgrensesnittet på boksens egen adresse)`
    );
  }
  return null;
}

/** Methods that change state: these, and every WebSocket upgrade, must pass `crossOriginRefusal`. */
export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
