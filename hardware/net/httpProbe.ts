/**
 * HTTP probe: any HTTP response (even 404/503) proves the path and a live server;
 * the status is reported so a caller can be stricter. The body is discarded.
 */
import http from 'node:http';
import { type Attempt, type AttemptOutcome, errorCode, explainNetError, hostPort, settleOnce, deadline } from './attempt.js';

export interface HttpProbeParams {
  host: string;
  port: number;
  path?: string;
  localAddress?: string;
  capMs: number;
  /** Host header when `host` is an address resolved from a name (default: host:port). */
  hostHeader?: string;
}

export function httpAttempt(p: HttpProbeParams): Attempt {
  const where = `HTTP ${hostPort(p.host, p.port)}${p.path ?? '/'}`;
  const once = settleOnce<AttemptOutcome>();
  const startedAt = performance.now();
  const req = http.request({
    host: p.host,
    port: p.port,
    path: p.path ?? '/',
    method: 'GET',
    agent: false, // a fresh connection each time: a kept-alive socket would hide a dead path
    headers: { 'user-agent': 'vaktpost-probe', connection: 'close', ...(p.hostHeader !== undefined ? { host: p.hostHeader } : {}) },
    ...(p.localAddress !== undefined ? { localAddress: p.localAddress } : {}),
  });
  const finish = (o: AttemptOutcome) => {
    if (!once.settle(o)) return;
    clearTimeout(cap);
    req.destroy();
  };
  const cap = deadline(() => finish({ kind: 'silent', detail: `no HTTP response from ${where} within ${p.capMs} ms` }), p.capMs);
  req.once('response', (res) => {
    const rttMs = performance.now() - startedAt;
    res.resume();
    const status = res.statusCode ?? 0;
    finish({ kind: 'reply', rttMs, status, detail: `HTTP ${status} from ${where} in ${rttMs.toFixed(1)} ms` });
  });
  req.on('error', (err) => {
    const code = errorCode(err);
    if (code === 'ECONNREFUSED') {
      finish({ kind: 'refused', rttMs: performance.now() - startedAt, detail: explainNetError(code, where) });
    } else finish({ kind: 'error', code, detail: explainNetError(code, where) });
  });
  req.end();
  return { outcome: once.promise, cancel: () => finish({ kind: 'silent', detail: `cancelled waiting for ${where}` }) };
}
