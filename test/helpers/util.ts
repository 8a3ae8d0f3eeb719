/**
 * Small shared helpers for tests. Waiting is done by awaiting an event or by
 * polling a condition against a deadline — never by a bare fixed sleep.
 */
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Poll `probe` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(probe: () => T | Promise<T>, opts: { timeoutMs: number; intervalMs?: number; what: string }): Promise<NonNullable<T>> {
  const deadline = performance.now() + opts.timeoutMs;
  const interval = opts.intervalMs ?? 20;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      lastError = err;
    }
    if (performance.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${why}`);
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

/** A port the kernel offers for a TCP listener right now (it may be busy for UDP). */
function tcpEphemeralPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      if (addr && typeof addr === 'object') {
        const { port } = addr;
        srv.close(() => resolve(port));
      } else reject(new Error('no port'));
    });
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    sock.once('error', () => {
      sock.close();
      resolve(false);
    });
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/** Ports this test process has handed out: never handed out twice. */
const handedOut = new Set<number>();

/**
 * A port that was free a moment ago on 127.0.0.1 for TCP AND UDP (SIP, RTP and
 * the events socket are UDP: a TCP-only check once handed SIPp a port a UDP
 * socket held — "Unable to bind main socket"), and not handed out before by
 * this process (the kernel readily offers a just-closed port again).
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let i = 0; i < 100; i++) {
    const port = await tcpEphemeralPort(host);
    if (handedOut.has(port) || !(await udpFree(port, host))) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('no port free for both TCP and UDP after 100 tries');
}

/** A scratch directory that is removed by the returned cleanup. */
export async function scratchDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `vaktpost-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Median and p95 of a list of numbers (for benches and measurements). */
export function percentiles(xs: number[]): { median: number; p95: number; min: number; max: number } {
  if (xs.length === 0) return { median: NaN, p95: NaN, min: NaN, max: NaN };
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] as number;
  return { median: at(0.5), p95: at(0.95), min: s[0] as number, max: s[s.length - 1] as number };
}
