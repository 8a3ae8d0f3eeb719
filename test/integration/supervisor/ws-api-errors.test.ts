/**
 * The API's logging (api/server.ts), in-process so a route can fail on purpose:
 * a 500 is logged once at error with request id, method, url and the error
 * (stack included); the client gets a generic message and the request id, never
 * the error's text or stack; ordinary requests log nothing at info.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import t from 'tap';
import { Accounts, LoginThrottle } from '../../../supervisor/src/api/auth.js';
import { buildApi } from '../../../supervisor/src/api/server.js';
import { defaultHealthRules } from '../../../supervisor/src/core/health.js';
import { Drill } from '../../../supervisor/src/jobs/drill.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import { systemClock } from '../../../supervisor/src/monitors/monitor.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { Store } from '../../../supervisor/src/store/store.js';
import { Supervisor } from '../../../supervisor/src/supervisor.js';
import { scratchDir } from '../../helpers/util.js';

t.test('a 500 is logged with context; the client gets a generic answer', async (t) => {
  const { dir, cleanup } = await scratchDir('ws-api-errors');
  t.teardown(cleanup);
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const log = pino({ level: 'info' }, sink);
  const store = new Store(openDb(path.join(dir, 'vaktpost.db')));
  const accounts = new Accounts(store.db, systemClock.now);
  const admin = await accounts.createUser('admin', 'api-errors-password-1', 'admin');
  const token = accounts.createSession(admin, 1);
  const supervisor = new Supervisor({
    box: 'errors-box',
    store,
    clock: systemClock,
    log: silentLogger(),
    monitors: [],
    reconcilers: [],
    policy: { monitored: ['power'], failoverOn: ['power'], failbackHoldMs: 60_000, holdDownMs: 0 },
    rules: defaultHealthRules,
    tickMs: 200,
  });
  const api = await buildApi({
    log,
    supervisor,
    store,
    accounts,
    throttle: new LoginThrottle(systemClock.now),
    sessionHours: 1,
    sim: null,
    drill: new Drill(supervisor, [], { now: systemClock.now, stepTimeoutMs: 1000 }),
    now: systemClock.now,
    webDir: null,
  });
  api.get('/api/test/boom', async () => {
    throw new Error('database detail the client must not see');
  });
  t.teardown(async () => {
    await api.close();
    store.close();
  });

  const ok = await api.inject({ method: 'GET', url: '/api/status', headers: { authorization: `Bearer ${token}` } });
  t.equal(ok.statusCode, 200);
  t.equal(lines.filter((l) => (l.level as number) >= 30).length, 0, 'an ordinary request logs nothing at info or above');

  const res = await api.inject({ method: 'GET', url: '/api/test/boom?x=1', headers: { authorization: `Bearer ${token}` } });
  t.equal(res.statusCode, 500);
  const body = res.json() as { error: string; requestId: string };
  t.equal(body.error, 'internal error (intern feil)', 'a generic message');
  t.notMatch(res.body, /database detail|at .*\.ts:\d+|stack/, 'neither the error text nor a stack reaches the client');
  const errors = lines.filter((l) => l.level === 50);
  t.equal(errors.length, 1, 'logged once at error');
  const e = errors[0] as { reqId: string; method: string; url: string; area: string; err: { message: string; stack: string }; user: string };
  t.equal(e.reqId, body.requestId, 'with the request id the client was given');
  t.equal(e.method, 'GET');
  t.equal(e.url, '/api/test/boom?x=1');
  t.equal(e.area, 'api');
  t.equal(e.user, 'admin', 'and who asked');
  t.equal(e.err.message, 'database detail the client must not see', 'and the error');
  t.match(e.err.stack, /ws-api-errors\.test\.ts/, 'with its stack');

  const notFound = await api.inject({ method: 'GET', url: '/api/nope', headers: { authorization: `Bearer ${token}` } });
  t.equal(notFound.statusCode, 404);
  t.equal(lines.filter((l) => l.level === 50).length, 1, 'a 404 is not an error in the log');
});
