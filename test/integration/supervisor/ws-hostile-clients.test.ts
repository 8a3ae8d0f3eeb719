/**
 * Acceptance: a logged-in but hostile or broken live client cannot take the
 * supervisor down or grow its memory, against the real process on the simulated
 * box.
 *  - A 5 KB frame (over the 4096-byte limit): that client is closed with 1009,
 *    the process stays up, other clients keep receiving.
 *  - A client that stops reading while many large live messages are produced is
 *    dropped (close 1013, counted in /metrics) instead of being buffered for.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { liveClient, startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

const ADMIN_PW = 'ws-hostile-password-1';

interface Msg {
  type: string;
  [k: string]: unknown;
}

/** A session cookie from a real login. */
async function loginCookie(url: string): Promise<string> {
  const res = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PW }),
  });
  if (res.status !== 200) throw new Error(`login answered ${res.status}`);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}

function open(url: string, cookie: string): Promise<{ ws: WebSocket; socket: Socket; messages: Msg[]; closed: Promise<number> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/live`, { headers: { cookie } });
    const messages: Msg[] = [];
    let socket: Socket | null = null;
    ws.on('upgrade', (res) => {
      socket = res.socket as Socket;
    });
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as Msg));
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.once('open', () => resolve({ ws, socket: socket as unknown as Socket, messages, closed }));
    ws.once('error', reject);
  });
}

/** A value from /metrics (0 when the series is absent). */
async function metric(sup: { url: string; token: () => string }, line: RegExp): Promise<number> {
  const res = await fetch(`${sup.url}/metrics`, { headers: { authorization: `Bearer ${sup.token()}` } });
  const m = line.exec(await res.text());
  return m ? Number(m[1]) : 0;
}

const rssMb = (pid: number | undefined) => Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024);

t.test('hostile live clients', async (t) => {
  const { dir, cleanup } = await scratchDir('ws-hostile');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW });
  t.teardown(() => sup.kill('SIGKILL'));
  const cookie = await loginCookie(sup.url);

  await t.test('a 5 KB frame closes that client with 1009; the process and other clients go on', async (t) => {
    const bystander = await liveClient(sup.url, sup.token());
    t.teardown(() => bystander.close());
    await bystander.next((m) => m.type === 'snapshot', 5000);
    const attacker = await open(sup.url, cookie);
    attacker.ws.send(Buffer.alloc(5 * 1024, 0x41));
    t.equal(await attacker.closed, 1009, 'the sender is closed with 1009 (message too big)');
    t.equal(sup.child.exitCode, null, 'the supervisor process is still running');
    t.equal((await fetch(`${sup.url}/healthz`)).status, 200, '/healthz answers');

    const seen = bystander.messages.length;
    await sup.api('POST', '/api/sim/fault', { fault: 'disk-full' });
    const ev = await bystander.next((m) => m.type === 'event' && /disk-full/.test(String((m.event as { en?: string }).en)), 10_000);
    t.ok(ev, 'the other client still receives live messages');
    t.ok(bystander.messages.length > seen, 'and more than before');
    await sup.api('POST', '/api/sim/fault', { fault: 'disk-ok' });
    t.equal(await metric(sup, /^vaktpost_live_dropped_total\{reason="error"\} (\d+)/m), 1, 'counted as dropped for a protocol error');
  });

  await t.test('a client that stops reading is dropped, not buffered for', async (t) => {
    const reader = await liveClient(sup.url, sup.token());
    t.teardown(() => reader.close());
    const slow = await open(sup.url, cookie);
    // Stop taking bytes off the socket: the kernel buffers fill, then the server's.
    slow.socket.pause();
    const snapshotMessages = slow.messages.length;
    const rssBefore = rssMb(sup.child.pid);
    // Each state patch is published as an event carrying the patch (~50 KB): the
    // status stays "OL" (NUT status words are split on whitespace).
    const pad = ' '.repeat(50_000);
    let produced = 0;
    let droppedAt = 0;
    const t0 = performance.now();
    for (let i = 0; i < 2000; i++) {
      const r = await sup.api('POST', '/api/sim/state', { ups: { '*': { status: `OL${pad}${i % 2 ? ' ' : ''}` } } });
      if (r.status !== 200) throw new Error(`sim/state answered ${r.status}`);
      produced += 50_000;
      if (i % 20 === 19 && (await metric(sup, /^vaktpost_live_dropped_total\{reason="slow"\} (\d+)/m)) >= 1) {
        droppedAt = i + 1;
        break;
      }
    }
    t.ok(droppedAt > 0, 'the server dropped the stalled client (vaktpost_live_dropped_total{reason="slow"})');
    t.comment(`dropped after ${droppedAt} patches (~${Math.round(produced / 1e6)} MB published) in ${Math.round(performance.now() - t0)} ms`);
    t.comment(`supervisor RSS: ${rssBefore} MB before, ${rssMb(sup.child.pid)} MB after the drop`);

    // Reading again, the client gets what was buffered (bounded), then the close.
    slow.socket.resume();
    const code = await slow.closed;
    t.equal(code, 1013, 'the stalled client is closed with 1013 (try again later)');
    const bytes = slow.messages.slice(snapshotMessages).filter((m) => m.type === 'event').length * 50_000;
    t.ok(bytes < produced, `it got less than was published (${Math.round(bytes / 1e6)} of ${Math.round(produced / 1e6)} MB)`);

    // The reading client was never affected and still gets news.
    await sup.api('POST', '/api/sim/state', { ups: { '*': { status: 'OL' } } });
    await reader.next((m) => m.type === 'event' && (m.event as { kind?: string }).kind === 'sim.state' && JSON.stringify(m).length < 10_000, 10_000);
    t.pass('a reading client still receives live messages');
    t.equal(sup.child.exitCode, null, 'the supervisor process is still running');
    await waitFor(async () => (await metric(sup, /^vaktpost_live_clients (\d+)/m)) === 1, { timeoutMs: 10_000, what: 'only the reading client left' });
    t.pass('only the reading client is connected');
  });
});
