/**
 * The upgrade router and the live channel's liveness, in-process on a plain
 * http.Server with short timers (the real ones are 10 s and 15 s):
 *  - a client that does not answer pings is terminated; one that does stays and
 *    keeps receiving;
 *  - a handshake that never finishes is destroyed after the handshake timeout;
 *  - a route handler that throws answers 500, the process goes on;
 *  - unknown paths answer 404, a claimed path without a login 401.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { attachLive, type LiveDropReason } from '../../../supervisor/src/api/live.js';
import { UpgradeRouter } from '../../../supervisor/src/api/upgrades.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import type { LiveMessage, Supervisor } from '../../../supervisor/src/supervisor.js';
import { waitFor } from '../../helpers/util.js';

const USER = { id: 1, username: 'op', role: 'operator' as const };

/** Sends a raw upgrade request; resolves with the first line of the answer ('' if none) when the server closes. */
function rawUpgrade(port: number, path: string, headers = ''): Promise<{ line: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve({ line: got.split('\r\n')[0] ?? '', ms: performance.now() - t0 }));
    s.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n${headers}\r\n`);
  });
}

t.test('upgrade router and live liveness', async (t) => {
  const server = http.createServer((_req, res) => res.end());
  const router = new UpgradeRouter(server, { log: silentLogger(), handshakeTimeoutMs: 300 });
  const sup = Object.assign(new EventEmitter(), { snapshot: () => ({ route: 'local' }) }) as unknown as Supervisor;
  const drops: LiveDropReason[] = [];
  const live = attachLive(router, sup, (req) => (req.headers.authorization === 'Bearer ok' ? USER : null), {
    log: silentLogger(),
    pingIntervalMs: 200,
    onDrop: (r) => drops.push(r),
  });
  router.route({ name: 'stalls', matches: (p) => p === '/stall', authenticate: () => USER, handle: () => {} });
  router.route({
    name: 'throws',
    matches: (p) => p === '/throw',
    authenticate: () => USER,
    handle: () => {
      throw new Error('handler bug');
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  t.teardown(() => {
    live.close();
    router.close();
    server.close();
  });

  await t.test('a client that does not answer pings is terminated; one that does stays', async (t) => {
    const open = (autoPong: boolean) =>
      new Promise<{ ws: WebSocket; got: string[] }>((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/api/live`, { headers: { authorization: 'Bearer ok' }, autoPong });
        const got: string[] = [];
        ws.on('message', (d) => got.push(String(d)));
        ws.once('open', () => resolve({ ws, got }));
        ws.once('error', reject);
      });
    const mute = await open(false);
    const good = await open(true);
    t.teardown(() => good.ws.close());
    const code = await new Promise<number>((r) => mute.ws.once('close', (c) => r(c)));
    t.equal(code, 1006, 'the mute client is terminated (no close handshake)');
    t.same(drops, ['unresponsive'], 'counted as unresponsive');
    t.equal(live.clients, 1, 'the answering client is still connected');
    t.match(good.got[0] ?? '', /"type":"snapshot"/, 'which got its snapshot first');
    sup.emit('live', { type: 'event', event: { id: 1, kind: 'x', severity: 'info', en: 'after', nb: 'etter' } } as unknown as LiveMessage);
    await waitFor(() => good.got.some((m) => m.includes('"after"')), { timeoutMs: 2000, what: 'the delta' });
    t.pass('and keeps receiving');
  });

  await t.test('refusals and timeouts', async (t) => {
    t.equal((await rawUpgrade(port, '/nope')).line, 'HTTP/1.1 404 Not Found', 'unknown path → 404, closed');
    t.equal((await rawUpgrade(port, '/api/live')).line, 'HTTP/1.1 401 Unauthorized', 'no login → 401, closed');
    t.equal((await rawUpgrade(port, '/throw')).line, 'HTTP/1.1 500 Internal Server Error', 'a throwing handler → 500, closed');
    const stalled = await rawUpgrade(port, '/stall');
    t.equal(stalled.line, '', 'a stalled handshake gets no answer');
    t.ok(stalled.ms >= 250, `and is destroyed after the handshake timeout (${Math.round(stalled.ms)} ms)`);
    t.equal(router.pendingCount, 0, 'nothing left pending');
  });
});
