/**
 * Acceptance: a flood of WebSocket upgrades cannot exhaust the supervisor's
 * file descriptors, against the real process on the simulated box.
 *  - 1000 authenticated live clients connect at once (each gets its snapshot)
 *    and are closed.
 *  - 10 000 unauthenticated upgrade requests follow, 200 at a time, to
 *    127.0.0.1: /api/live without or with a bad cookie (401), unknown paths and
 *    a path that used to throw (404), and requests cut off half-way (the client
 *    ends or destroys its socket); half of the answered ones hang up without
 *    reading the answer.
 *  - Afterwards no socket of the supervisor is in CLOSE-WAIT and its descriptor
 *    count is back to the baseline, and a simulated fault still moves the route
 *    (awaited on the live channel).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import t from 'tap';
import { WebSocket } from 'ws';
import { liveClient, startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

const ADMIN_PW = 'ws-flood-password-1';
const CLIENTS = 1000;
const REQUESTS = 10_000;
const BATCH = 200;

const fdCount = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

/** TCP sockets of `pid` in CLOSE-WAIT, from `ss` (users:(("node",pid=N,fd=M))). */
function closeWait(pid: number): number {
  const out = execFileSync('ss', ['-tanpH', 'state', 'close-wait'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(`pid=${pid},`)).length;
}

/** Runs `jobs` with at most `n` in flight. */
async function bounded(total: number, n: number, job: (i: number) => Promise<void>): Promise<void> {
  for (let start = 0; start < total; start += n) {
    await Promise.all(Array.from({ length: Math.min(n, total - start) }, (_, k) => job(start + k)));
  }
}

/** One raw upgrade request; resolves with the status line read (or '' if none) once the socket is closed. */
function rawUpgrade(port: number, kind: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => {
      got += d.toString('latin1');
    });
    s.on('error', () => {}); // a reset after our hang-up is expected
    s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    const req = (path: string, extra = '') =>
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`;
    s.on('connect', () => {
      switch (kind % 6) {
        case 0: // the live channel without a login, reads the answer
          s.end(req('/api/live'));
          break;
        case 1: // a session cookie that is no session, hangs up at once
          s.write(req('/api/live', 'Cookie: vaktpost_session=not-a-session\r\n'));
          s.destroy();
          break;
        case 2: // nobody's path, reads the answer
          s.end(req(`/nope/${kind}`));
          break;
        case 3: // a path new URL() cannot parse against a base, hangs up at once
          s.write(req('//'));
          s.destroy();
          break;
        case 4: // half a request, then half-closes
          s.end(`GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: web`);
          break;
        default: // half a request, then goes away
          s.write('GET /api/live HTTP/1.1\r\nUpgr');
          s.destroy();
      }
    });
  });
}

t.test('an upgrade flood leaves no socket behind and the supervisor still switches', async (t) => {
  const { dir, cleanup } = await scratchDir('ws-flood');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW });
  t.teardown(() => sup.kill('SIGKILL'));
  const pid = sup.child.pid as number;
  const login = await fetch(`${sup.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PW }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  t.equal(login.status, 200, 'logged in');
  const watcher = await liveClient(sup.url, sup.token());
  t.teardown(() => watcher.close());
  await watcher.next((m) => m.type === 'snapshot', 5000);
  const baseline = fdCount(pid);
  t.comment(`supervisor fds at baseline: ${baseline}`);

  await t.test(`${CLIENTS} authenticated live clients at once`, async (t) => {
    const t0 = performance.now();
    const clients: WebSocket[] = [];
    let snapshots = 0;
    await bounded(CLIENTS, BATCH, async () => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/api/live`, { headers: { cookie } });
      clients.push(ws);
      await new Promise<void>((resolve, reject) => {
        ws.once('message', (d) => {
          if (JSON.parse(String(d)).type === 'snapshot') snapshots++;
          resolve();
        });
        ws.once('error', reject);
      });
    });
    t.equal(snapshots, CLIENTS, `all ${CLIENTS} got their snapshot first`);
    t.comment(`supervisor fds with ${CLIENTS} clients: ${fdCount(pid)}; connected in ${Math.round(performance.now() - t0)} ms`);
    await Promise.all(
      clients.map(
        (ws) =>
          new Promise<void>((resolve) => {
            ws.once('close', () => resolve());
            ws.close();
          }),
      ),
    );
    await waitFor(() => fdCount(pid) <= baseline + 5, { timeoutMs: 15_000, what: 'descriptors back to baseline after the clients closed' });
    t.pass('descriptors back to baseline after the clients closed');
  });

  await t.test(`${REQUESTS} unauthenticated upgrade requests, ${BATCH} at a time`, async (t) => {
    const t0 = performance.now();
    const answers = new Map<string, number>();
    await bounded(REQUESTS, BATCH, async (i) => {
      const line = await rawUpgrade(port, i);
      answers.set(line, (answers.get(line) ?? 0) + 1);
    });
    t.comment(`answers: ${JSON.stringify(Object.fromEntries(answers))} in ${Math.round(performance.now() - t0)} ms`);
    t.equal(sup.child.exitCode, null, 'the supervisor process is still running');
    t.equal(answers.get('HTTP/1.1 101 Switching Protocols') ?? 0, 0, 'no request was upgraded');
    t.ok((answers.get('HTTP/1.1 401 Unauthorized') ?? 0) >= REQUESTS / 6, 'every live request that waited got 401');
    t.ok((answers.get('HTTP/1.1 404 Not Found') ?? 0) >= REQUESTS / 6, 'every unknown path that waited got 404');

    const tClean = performance.now();
    await waitFor(() => closeWait(pid) === 0, { timeoutMs: 20_000, what: 'no socket of the supervisor in CLOSE-WAIT' });
    t.pass('no socket of the supervisor in CLOSE-WAIT');
    await waitFor(() => fdCount(pid) <= baseline + 5, { timeoutMs: 20_000, what: 'descriptors back to baseline' });
    t.pass('descriptors back to baseline');
    t.comment(`clean ${Math.round(performance.now() - tClean)} ms after the last request; fds ${fdCount(pid)} (baseline ${baseline})`);
  });

  await t.test('a simulated fault still moves the route', async (t) => {
    const t0 = performance.now();
    await sup.api('POST', '/api/sim/fault', { fault: 'local-centre-down' });
    const d = await watcher.next((m) => m.type === 'decision' && (m.decision as { route: string; routeChanged: boolean }).routeChanged, 30_000);
    t.equal((d.decision as { route: string }).route, 'backup', 'the route moved to the backup centre');
    t.comment(`route change seen on the live channel ${Math.round(performance.now() - t0)} ms after the fault`);
    t.equal((await sup.api<{ route: string }>('GET', '/api/status')).json.route, 'backup', 'and the API agrees');
  });
});
