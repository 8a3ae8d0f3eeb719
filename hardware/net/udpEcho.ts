/**
 * UDP echo probe (RFC 862 style): send a unique token, expect the same bytes back.
 * Cheap enough to send ten times a second per uplink, and it exercises the same
 * UDP path SIP signalling uses.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { type Attempt, type AttemptOutcome, errorCode, explainNetError, hostPort, settleOnce, deadline } from './attempt.js';

export interface UdpEchoParams {
  host: string;
  port: number;
  localAddress?: string;
  capMs: number;
}

/** Small on purpose: ten rounds a second on a metered 4G link add up (ops/net/README.md). */
const MAGIC = Buffer.from('VP');

export function udpEchoAttempt(p: UdpEchoParams): Attempt {
  const where = `UDP echo ${hostPort(p.host, p.port)}`;
  const family = net.isIPv6(p.host) || (p.localAddress !== undefined && net.isIPv6(p.localAddress)) ? 'udp6' : 'udp4';
  const sock = dgram.createSocket({ type: family });
  const once = settleOnce<AttemptOutcome>();
  const payload = Buffer.concat([MAGIC, randomBytes(12)]);
  let sentAt = 0;

  const finish = (o: AttemptOutcome) => {
    if (!once.settle(o)) return;
    clearTimeout(cap);
    try {
      sock.close();
    } catch {
      // already closed
    }
  };
  const cap = deadline(() => finish({ kind: 'silent', detail: `no echo from ${where} within ${p.capMs} ms` }), p.capMs);

  sock.on('error', (err) => {
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') {
      finish({ kind: 'refused', rttMs: performance.now() - sentAt, detail: `ICMP port unreachable from ${where}: host up, echo service down` });
    } else finish({ kind: 'error', code, detail: explainNetError(code, where) });
  });
  sock.on('message', (msg) => {
    if (!msg.equals(payload)) return; // a stray or stale datagram
    const rttMs = performance.now() - sentAt;
    finish({ kind: 'reply', rttMs, detail: `echo from ${where} in ${rttMs.toFixed(1)} ms` });
  });

  sock.bind({ address: p.localAddress ?? (family === 'udp6' ? '::' : '0.0.0.0'), port: 0 }, () => {
    if (once.settled()) return;
    // connect(): only the target's datagrams reach us, and ICMP errors surface as socket errors.
    sock.connect(p.port, p.host, (err?: Error) => {
      if (once.settled()) return;
      if (err) {
        const code = errorCode(err);
        finish({ kind: 'error', code, detail: explainNetError(code, where) });
        return;
      }
      sentAt = performance.now();
      sock.send(payload, (e) => {
        if (e) {
          const code = errorCode(e);
          finish({ kind: 'error', code, detail: explainNetError(code, where) });
        }
      });
    });
  });

  return { outcome: once.promise, cancel: () => finish({ kind: 'silent', detail: `cancelled waiting for ${where}` }) };
}
