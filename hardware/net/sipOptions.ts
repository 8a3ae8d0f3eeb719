/**
 * Minimal SIP OPTIONS "ping" over UDP (RFC 3261 §11), for reachability only.
 *
 * Any SIP response from the far end counts as reachable — a 404 or 483 still proves
 * that a SIP stack is alive there; `status` tells the caller which one it was.
 * Each request has a fresh Call-ID, From-tag and Via branch, and the response is
 * matched on Call-ID + branch, so concurrent probes (and stale answers from earlier
 * ones) never get mixed up.
 *
 * The socket is bound to `localAddress` when given: Node cannot bind to a device, so
 * the probe is pinned to an uplink by its source address and the box's `ip rule
 * from <addr> lookup <table>` (see ops/net/README.md).
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { type Attempt, type AttemptOutcome, deadline, errorCode, explainNetError, hostPort, settleOnce } from './attempt.js';

export interface SipOptionsParams {
  host: string;
  port: number;
  /** Source address to bind (pins the probe to an uplink). */
  localAddress?: string;
  timeoutMs: number;
  /** Request-URI; default `sip:<host>:<port>`. */
  uri?: string;
}

export interface SipOptionsResult {
  /** A SIP response arrived (any status). */
  ok: boolean;
  /** The response's status code (200 for a healthy OPTIONS responder). */
  status?: number;
  rttMs?: number;
  detail: string;
}

export interface SipAttemptParams {
  host: string;
  port: number;
  localAddress?: string;
  uri?: string;
  /** Give up entirely after this long. */
  capMs: number;
  /**
   * Retransmit interval (RFC 3261 Timer E: starts at T1 = 500 ms, doubles up to T2 = 4 s).
   * Retransmissions reuse the branch, so any answer matches. 0 disables.
   */
  retransmitMs?: number;
}

const T2_MS = 4000;

function token(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

/** Build an OPTIONS request. Exported for unit tests. */
export function buildOptionsRequest(p: {
  uri: string;
  localIp: string;
  localPort: number;
  branch: string;
  callId: string;
  fromTag: string;
  toUri: string;
}): string {
  const local = hostPort(p.localIp, p.localPort);
  const localHost = p.localIp.includes(':') ? `[${p.localIp}]` : p.localIp;
  return [
    `OPTIONS ${p.uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${local};branch=${p.branch};rport`,
    'Max-Forwards: 70',
    `From: <sip:vaktpost@${localHost}>;tag=${p.fromTag}`,
    `To: <${p.toUri}>`,
    `Call-ID: ${p.callId}`,
    'CSeq: 1 OPTIONS',
    `Contact: <sip:vaktpost@${local}>`,
    'Accept: application/sdp',
    'User-Agent: vaktpost-probe',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

export interface ParsedSipResponse {
  status: number;
  reason: string;
  callId?: string;
  branch?: string;
}

/** Parse the parts of a SIP response we match on. Returns undefined for requests or garbage. */
export function parseSipResponse(text: string): ParsedSipResponse | undefined {
  const lines = text.split(/\r?\n/);
  const m = /^SIP\/2\.0\s+(\d{3})\s*(.*)$/.exec(lines[0] ?? '');
  if (!m) return undefined;
  const out: ParsedSipResponse = { status: Number(m[1]), reason: (m[2] ?? '').trim() };
  for (const line of lines.slice(1)) {
    if (line === '') break; // end of headers
    const idx = line.indexOf(':');
    if (idx < 0) continue;
    const name = line.slice(0, idx).trim().toLowerCase();
    const value = line.slice(idx + 1).trim();
    if ((name === 'call-id' || name === 'i') && out.callId === undefined) out.callId = value;
    // The top Via is ours (a stateless responder echoes it back first).
    if ((name === 'via' || name === 'v') && out.branch === undefined) {
      const b = /;\s*branch=([^;,\s]+)/i.exec(value);
      if (b) out.branch = b[1];
    }
  }
  return out;
}

/**
 * Start one OPTIONS transaction. The outcome resolves on the first matching
 * response, on a socket error, or as `silent` at `capMs`.
 */
export function sipOptionsAttempt(p: SipAttemptParams): Attempt {
  const where = `SIP ${hostPort(p.host, p.port)}`;
  const family = net.isIPv6(p.host) || (p.localAddress !== undefined && net.isIPv6(p.localAddress)) ? 'udp6' : 'udp4';
  const sock = dgram.createSocket({ type: family });
  const once = settleOnce<AttemptOutcome>();
  const branch = `z9hG4bK${token(8)}`;
  const callId = `${token(12)}@vaktpost`;
  const timers: NodeJS.Timeout[] = [];
  let sentAt = 0;
  let retransmits = 0;

  const finish = (o: AttemptOutcome) => {
    if (!once.settle(o)) return;
    for (const t of timers) clearTimeout(t);
    try {
      sock.close();
    } catch {
      // already closed
    }
  };

  sock.on('error', (err) => {
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') {
      finish({
        kind: 'refused',
        rttMs: performance.now() - sentAt,
        detail: `ICMP port unreachable from ${where}: the host is up but nothing listens for SIP there`,
      });
    } else finish({ kind: 'error', code, detail: explainNetError(code, where) });
  });

  sock.on('message', (msg) => {
    const parsed = parseSipResponse(msg.toString('utf8'));
    if (!parsed || parsed.callId !== callId || parsed.branch !== branch) return; // not ours
    const rttMs = performance.now() - sentAt;
    const again = retransmits > 0 ? ` after ${retransmits} retransmission(s)` : '';
    finish({
      kind: 'reply',
      rttMs,
      status: parsed.status,
      detail: `${parsed.status} ${parsed.reason} from ${where} in ${rttMs.toFixed(1)} ms${again}`,
    });
  });

  const start = () => {
    const local = sock.address();
    const uri = p.uri ?? `sip:${hostPort(p.host, p.port)}`;
    const payload = Buffer.from(
      buildOptionsRequest({
        uri,
        localIp: local.address,
        localPort: local.port,
        branch,
        callId,
        fromTag: token(4),
        toUri: uri,
      }),
    );
    const send = () => {
      sock.send(payload, (err) => {
        if (err) {
          const code = errorCode(err);
          finish({ kind: 'error', code, detail: explainNetError(code, where) });
        }
      });
    };
    sentAt = performance.now();
    send();
    let interval = p.retransmitMs ?? 0;
    let at = interval;
    while (interval > 0 && at < p.capMs) {
      timers.push(
        setTimeout(() => {
          retransmits++;
          send();
        }, at),
      );
      interval = Math.min(interval * 2, T2_MS);
      at += interval;
    }
  };

  timers.push(deadline(() => finish({ kind: 'silent', detail: `no answer from ${where} within ${p.capMs} ms` }), p.capMs));

  // connect() makes the kernel hand us ICMP errors (port/host unreachable) as socket errors.
  sock.bind({ address: p.localAddress ?? (family === 'udp6' ? '::' : '0.0.0.0'), port: 0 }, () => {
    if (once.settled()) return;
    sock.connect(p.port, p.host, (err?: Error) => {
      if (once.settled()) return;
      if (err) {
        const code = errorCode(err);
        finish({ kind: 'error', code, detail: explainNetError(code, where) });
        return;
      }
      try {
        start();
      } catch (e) {
        const code = errorCode(e);
        finish({ kind: 'error', code, detail: explainNetError(code, where) });
      }
    });
  });

  return {
    outcome: once.promise,
    cancel: () => finish({ kind: 'silent', detail: `cancelled waiting for ${where}` }),
  };
}

/**
 * One-shot SIP OPTIONS: `ok` when any SIP response arrives within `timeoutMs`.
 * Retransmits at T1 = 500 ms (doubling) when the timeout is long enough for it.
 */
export async function sipOptions(params: SipOptionsParams): Promise<SipOptionsResult> {
  const attempt = sipOptionsAttempt({
    host: params.host,
    port: params.port,
    capMs: params.timeoutMs,
    retransmitMs: 500,
    ...(params.localAddress !== undefined ? { localAddress: params.localAddress } : {}),
    ...(params.uri !== undefined ? { uri: params.uri } : {}),
  });
  const o = await attempt.outcome;
  switch (o.kind) {
    case 'reply':
      return { ok: true, status: o.status, rttMs: o.rttMs, detail: o.detail };
    case 'refused':
      return { ok: false, rttMs: o.rttMs, detail: o.detail };
    case 'error':
      return { ok: false, detail: o.detail };
    case 'silent':
      return { ok: false, detail: o.detail };
  }
}
