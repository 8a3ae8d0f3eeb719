/**
 * Our NUT client against a REAL upsd + dummy-ups: quoting, strict request
 * serialisation, typed ERR codes, per-request timeout with reconnect,
 * connection refused with backoff, LOGIN/LOGOUT as upsmon does, keepalive.
 */
import t from 'tap';
import { NutClient, NutError } from '../../../hardware/nut/index.js';
import { startNutRig } from '../../helpers/nut.js';
import { freePort, waitFor } from '../../helpers/util.js';

const rig = await startNutRig({ ups: ['ups1', 'ups2'], initial: { 'ups.mfr': 'Acme "Power" Ltd' } });
t.teardown(() => rig.close());

function client(t: { teardown(fn: () => unknown): void }, opts: ConstructorParameters<typeof NutClient>[0] = {}) {
  const c = new NutClient({ port: rig.port, ...opts });
  t.teardown(() => c.close());
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return e instanceof NutError ? e.code : `not a NutError: ${String(e)}`;
  }
}

t.test('reads LIST UPS, LIST VAR, GET VAR, VER', async (t) => {
  const c = client(t);
  t.same(
    [...(await c.listUps()).entries()],
    [
      ['ups1', 'Test UPS ups1'],
      ['ups2', 'Test UPS ups2'],
    ],
  );
  const vars = await c.listVars('ups1');
  t.equal(vars.get('ups.status'), 'OL');
  t.equal(vars.get('battery.charge'), '100');
  t.equal(await c.getVar('ups1', 'battery.runtime'), '1800');
  t.match(await c.version(), /^Network UPS Tools upsd 2\./);
});

t.test('typed ERR codes with cause and fix', async (t) => {
  const c = client(t);
  t.equal(await codeOf(c.listVars('nope')), 'UNKNOWN-UPS');
  t.equal(await codeOf(c.getVar('ups1', 'no.such.var')), 'VAR-NOT-SUPPORTED');
  await t.rejects(c.listVars('nope'), /upsd at 127\.0\.0\.1:\d+ answered ERR UNKNOWN-UPS to "LIST VAR nope" — no UPS of that name/);
  t.equal(await c.getVar('ups1', 'ups.status'), 'OL', 'the connection survives ERR replies');
});

t.test('concurrent callers each get their own reply (one request on the wire at a time)', async (t) => {
  const c = client(t);
  const jobs: Promise<string>[] = [];
  for (let i = 0; i < 60; i++) {
    const ups = i % 2 ? 'ups1' : 'ups2';
    if (i % 3 === 0) jobs.push(c.getVar(ups, 'battery.runtime').then((v) => `${ups}:runtime=${v}`));
    else if (i % 3 === 1) jobs.push(c.listVars(ups).then((m) => `${ups}:list=${m.get('driver.parameter.port')}`));
    else jobs.push(codeOf(c.getVar(ups, `missing.${i}`)).then((code) => `${ups}:err=${code}`));
  }
  const got = await Promise.all(jobs);
  got.forEach((g, i) => {
    const ups = i % 2 ? 'ups1' : 'ups2';
    const want = i % 3 === 0 ? `${ups}:runtime=1800` : i % 3 === 1 ? `${ups}:list=${ups}.dev` : `${ups}:err=VAR-NOT-SUPPORTED`;
    if (g !== want) t.fail(`request ${i}: got ${g}, want ${want}`);
  });
  t.equal(got.length, 60, 'all 60 answered, none mixed up');
});

t.test('values with quotes and spaces: password escaping reaches upsd intact, LOGIN and LOGOUT', async (t) => {
  t.ok(/"/.test(rig.user.password) && / /.test(rig.user.password), 'the test password needs quoting and escaping');
  const c = client(t, { username: rig.user.name, password: rig.user.password, login: 'ups2' });
  t.equal(await c.getVar('ups2', 'ups.status'), 'OL');
  t.equal(await rig.query('GET NUMLOGINS ups2'), 'NUMLOGINS ups2 1', 'upsd counts us as a logged-in monitor');
  // dummy-ups drops the quotes from its .dev value; we must return exactly what upsd sends.
  t.equal(`VAR ups2 ups.mfr "${await c.getVar('ups2', 'ups.mfr')}"`, await rig.query('GET VAR ups2 ups.mfr'));
  await c.close();
  await waitFor(async () => (await rig.query('GET NUMLOGINS ups2')) === 'NUMLOGINS ups2 0', { timeoutMs: 30_000, what: 'LOGOUT' });
  t.pass('close() logged out');
  t.equal(await codeOf(c.listVars('ups2')), 'CLOSED');
});

t.test('LOGIN problems fail the session with the cause', async (t) => {
  const bad = client(t, { username: rig.user.name, password: 'not it', login: 'ups1' });
  const err = await bad.listVars('ups1').catch((e: unknown) => e);
  t.ok(err instanceof NutError);
  t.equal((err as NutError).code, 'ACCESS-DENIED');
  t.match((err as Error).message, /refused LOGIN ups1 for user "vakt" \(ERR ACCESS-DENIED\) — wrong password/);
  t.notMatch((err as Error).message, /not it/, 'the password is not echoed');
  const unknownUps = client(t, { username: rig.user.name, password: rig.user.password, login: 'ups9' });
  t.equal(await codeOf(unknownUps.version()), 'UNKNOWN-UPS');
});

t.test('a hung upsd: per-request timeout drops the socket, the next request reconnects', async (t) => {
  const c = client(t, { requestTimeoutMs: 500 });
  const disconnects: string[] = [];
  c.on('disconnected', (e) => disconnects.push(e.code));
  t.equal(await c.getVar('ups1', 'ups.status'), 'OL');
  rig.pauseUpsd();
  t.teardown(() => {
    try {
      rig.resumeUpsd();
    } catch {}
  });
  const t0 = performance.now();
  const [first, queued] = await Promise.all([c.getVar('ups1', 'ups.status').catch((e) => e), c.listVars('ups1').catch((e) => e)]);
  const ms = performance.now() - t0;
  t.equal(first.code, 'TIMEOUT');
  t.match(first.message, /did not answer "GET VAR ups1 ups.status" within 500 ms — upsd hung/);
  t.equal(queued.code, 'TIMEOUT', 'the queued request fails with the same cause instead of hanging');
  // Not before the limit; < 10× is only a sanity bound (the TIMEOUT code above says why it ended).
  t.ok(ms >= 450 && ms < 5000, `timed out after ${ms.toFixed(0)} ms (limit 500)`);
  t.same(disconnects, ['TIMEOUT']);
  rig.resumeUpsd();
  t.equal(await c.getVar('ups1', 'ups.status'), 'OL', 'reconnected on the next request');
  t.ok(c.connected);
});

t.test('connection refused: clear cause, backoff between attempts, recovers', async (t) => {
  const port = await freePort();
  const c = new NutClient({ port, backoffMinMs: 200, backoffMaxMs: 400 });
  t.teardown(() => c.close());
  const e1 = await c.listVars('ups1').catch((e) => e);
  t.equal(e1.code, 'CONNECT-FAILED');
  t.match(e1.message, new RegExp(`upsd at 127\\.0\\.0\\.1:${port} refused the connection — is upsd running`));
  const e2 = await c.listVars('ups1').catch((e) => e);
  t.match(e2.message, /next reconnect attempt in \d+ ms/, 'inside the backoff window no new connect is tried');
  // The real upsd's port works for a fresh client: the backoff is per client, not global.
  const ok = client(t);
  t.equal(await ok.getVar('ups1', 'ups.status'), 'OL');
});

t.test('getVars: only the supported variables, fast; real faults still reject', async (t) => {
  const c = client(t);
  const t0 = performance.now();
  const m = await c.getVars('ups1', ['ups.status', 'battery.charge', 'not.a.var', 'ups.load']);
  const ms = performance.now() - t0;
  t.same(
    [...m.entries()],
    [
      ['ups.status', 'OL'],
      ['battery.charge', '100'],
      ['ups.load', '23'],
    ],
  );
  t.comment(`getVars(4) took ${ms.toFixed(1)} ms`);
  t.equal(await codeOf(c.getVars('nope', ['ups.status'])), 'UNKNOWN-UPS');
});

t.test('keepalive: a quiet client sends VER on schedule and keeps its connection', async (t) => {
  const c = client(t, { keepaliveMs: 200, username: rig.user.name, password: rig.user.password, login: 'ups1' });
  let keepalives = 0;
  let drops = 0;
  c.on('keepalive', () => keepalives++);
  c.on('disconnected', () => drops++);
  await c.getVar('ups1', 'ups.status');
  await waitFor(() => keepalives >= 4, { timeoutMs: 30_000, what: 'four keepalives' });
  t.equal(drops, 0, 'no disconnect');
  t.equal(await rig.query('GET NUMLOGINS ups1'), 'NUMLOGINS ups1 1', 'still the one logged-in session');
  t.throws(() => new NutClient({ keepaliveMs: 60_000 }), /below upsd's fixed 60 s idle drop/);
});
