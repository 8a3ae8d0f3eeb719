/**
 * TCP connect probe: a completed handshake (or an RST from the host, which proves
 * the path both ways) answers; the connection is closed at once without data.
 */
import net from 'node:net';
import { type Attempt, type AttemptOutcome, errorCode, explainNetError, hostPort, settleOnce, deadline } from './attempt.js';

export interface TcpConnectParams {
  host: string;
  port: number;
  localAddress?: string;
  capMs: number;
}

export function tcpConnectAttempt(p: TcpConnectParams): Attempt {
  const where = `TCP ${hostPort(p.host, p.port)}`;
  const once = settleOnce<AttemptOutcome>();
  const startedAt = performance.now();
  const sock = net.connect({
    host: p.host,
    port: p.port,
    ...(p.localAddress !== undefined ? { localAddress: p.localAddress } : {}),
  });
  const finish = (o: AttemptOutcome) => {
    if (!once.settle(o)) return;
    clearTimeout(cap);
    sock.destroy();
  };
  const cap = deadline(() => finish({ kind: 'silent', detail: `no SYN-ACK from ${where} within ${p.capMs} ms` }), p.capMs);
  sock.once('connect', () => {
    const rttMs = performance.now() - startedAt;
    finish({ kind: 'reply', rttMs, detail: `connected to ${where} in ${rttMs.toFixed(1)} ms` });
  });
  sock.on('error', (err) => {
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') {
      finish({ kind: 'refused', rttMs: performance.now() - startedAt, detail: explainNetError(code, where) });
    } else finish({ kind: 'error', code, detail: explainNetError(code, where) });
  });
  return { outcome: once.promise, cancel: () => finish({ kind: 'silent', detail: `cancelled waiting for ${where}` }) };
}
