/**
 * Just enough SIP URI parsing (RFC 3261 §19.1) to know where a centre or
 * announcement server lives: host and port for OPTIONS probes and SIPp runs.
 * Hostnames are kept as given (resolution is the sender's job).
 */

export interface SipUri {
  /** User part without the `@`, if any (e.g. "legevakt"). */
  user?: string;
  /** Host without brackets (IPv6 literals are unbracketed here). */
  host: string;
  /** Explicit port, or 5060 when the URI has none (sips: not supported). */
  port: number;
  /** Whether the URI carried an explicit port (Kamailio compares URIs textually). */
  explicitPort: boolean;
  /** `;name=value` URI parameters, lower-cased names. */
  params: Record<string, string>;
}

const URI_RE = /^sip:(?:([^@\s;?]+)@)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?((?:;[^\s;?]*)*)(?:\?.*)?$/;

/** Parse `sip:user@host:port;params`. Throws with the offending text on anything else. */
export function parseSipUri(uri: string): SipUri {
  const m = URI_RE.exec(uri.trim());
  if (!m) {
    throw new Error(`"${uri}" is not a SIP URI this box can route to — expected sip:user@host:port (sips: and tel: are not supported)`);
  }
  const [, user, rawHost, rawPort, rawParams] = m;
  const host = (rawHost as string).replace(/^\[|\]$/g, '');
  const port = rawPort === undefined ? 5060 : Number(rawPort);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`"${uri}" has port ${rawPort}, outside 1–65535`);
  }
  const params: Record<string, string> = {};
  for (const p of (rawParams ?? '').split(';')) {
    if (p === '') continue;
    const eq = p.indexOf('=');
    const name = (eq < 0 ? p : p.slice(0, eq)).toLowerCase();
    params[name] = eq < 0 ? '' : p.slice(eq + 1);
  }
  const out: SipUri = { host, port, explicitPort: rawPort !== undefined, params };
  if (user !== undefined) out.user = user;
  return out;
}
