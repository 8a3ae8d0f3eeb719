/**
 * Attacks on the login throttle (issue #17, item 3), against the real supervisor
 * process over HTTP, with clients bound to distinct loopback addresses:
 *
 * 1. A race: 100 guesses in parallel, the right password among them. The old
 *    throttle recorded a failure only after the hash, so every guess was checked
 *    and the right one logged in. Now the attempt is counted before the hash: at
 *    most the allowance (5) gets an answer from the password check (200/401),
 *    every other one — the right password included — is refused 429 unchecked.
 * 2. A lockout: a stranger's failures locked the named account for everyone
 *    (up to 300 s). Now the user still gets in from an address they logged in
 *    from before, or with a session they hold; a fresh address stays locked
 *    (the account throttle still stops guessing spread over many addresses).
 */
import t from 'tap';
import { LOGIN_FREE_ATTEMPTS } from '../../supervisor/src/api/auth.js';
import { startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../helpers/util.js';
import { loginFrom, send, warmConnections } from './auth-http.js';

const ADMIN_PW = 'throttle-admin-password-1';
const PW = { ola: 'ola-right-password-1', per: 'per-right-password-1', kari: 'kari-right-password-1' } as const;

t.test('login throttle: no race, no lockout of the real user', async (t) => {
  const { dir, cleanup } = await scratchDir('sec-throttle');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW });
  t.teardown(() => sup.kill());
  for (const [username, password] of Object.entries(PW)) {
    t.equal((await sup.api('POST', '/api/users', { username, password, role: 'operator' })).status, 201, `user ${username} created`);
  }

  await t.test('100 parallel guesses: at most the allowance is checked, the right one among them is refused', async (t) => {
    const RIGHT = 20;
    const guesses = Array.from({ length: 100 }, (_, i) => (i === RIGHT ? PW.ola : `wrong-guess-number-${i}`));
    const agent = await warmConnections(sup.url, '127.0.0.2', guesses.length);
    t.teardown(() => agent.destroy());
    const started = performance.now();
    const answers = await Promise.all(guesses.map((pw) => loginFrom(sup.url, 'ola', pw, '127.0.0.2', {}, agent)));
    const burstMs = performance.now() - started;
    const statuses = answers.map((a) => a.status);
    const checked = statuses.filter((s) => s === 200 || s === 401).length;
    const count = (s: number) => statuses.filter((x) => x === s).length;
    // After the allowance the waits are 1 s, 2 s, 4 s …: a burst that itself lasts
    // longer than a wait may rightly get one more check per wait that ran out.
    let bound = LOGIN_FREE_ATTEMPTS;
    for (let wait = 1000, elapsed = wait; elapsed <= burstMs; wait *= 2, elapsed += wait) bound++;
    t.ok(
      checked <= bound,
      `${checked} of 100 reached the password check (allowance ${LOGIN_FREE_ATTEMPTS}, ${bound} for a burst of ${Math.round(burstMs)} ms): 200×${count(200)} 401×${count(401)} 429×${count(429)}`,
    );
    t.equal(count(429), 100 - checked, 'every other guess was refused 429 without a check');
    t.equal(statuses[RIGHT], 429, `the right password, sent as number ${RIGHT + 1}, was refused: the allowance was spent`);
    t.equal(answers[RIGHT]?.cookie, '', 'and got no session');
    t.ok(
      answers.filter((a) => a.status === 429).every((a) => Number(a.headers['retry-after']) >= 1),
      'each refusal says when to try again (Retry-After)',
    );
    const failed = await sup.api<{ events: Array<{ actor: string; data: { address?: string } | null }> }>('GET', '/api/events?kind=auth.failed&limit=200');
    const fromAttacker = failed.json.events.filter((e) => e.actor === 'ola' && e.data?.address === '127.0.0.2').length;
    t.ok(fromAttacker <= bound, `${fromAttacker} failed logins recorded for the burst (each one a real check)`);
  });

  /** The stranger at `from` guesses until the account's lock has grown past 8 s (waiting out each Retry-After). */
  const lockOut = async (username: string, from: string) => {
    let checked = 0;
    await waitFor(
      async () => {
        const r = await loginFrom(sup.url, username, `stranger-guess-${checked}`, from);
        if (r.status === 401) checked++;
        return checked >= LOGIN_FREE_ATTEMPTS + 3;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: `${LOGIN_FREE_ATTEMPTS + 3} checked guesses against ${username}` },
    );
  };

  // per and kari log in once from 127.0.0.1; then strangers lock both accounts (at once: the waits overlap).
  const perFirst = await loginFrom(sup.url, 'per', PW.per, '127.0.0.1');
  const kariFirst = await loginFrom(sup.url, 'kari', PW.kari, '127.0.0.1');
  await Promise.all([lockOut('per', '127.0.0.3'), lockOut('kari', '127.0.0.5')]);

  await t.test("a stranger's failures do not lock the user out of the address they log in from", async (t) => {
    t.equal(perFirst.status, 200, 'per logged in from 127.0.0.1 before the attack (a known address now)');
    const fresh = await loginFrom(sup.url, 'per', PW.per, '127.0.0.4');
    t.equal(fresh.status, 429, 'the account is locked: the right password from an address per never used is refused');
    t.equal((await loginFrom(sup.url, 'per', PW.per, '127.0.0.3')).status, 429, "and from the stranger's own address");
    const known = await loginFrom(sup.url, 'per', PW.per, '127.0.0.1');
    t.equal(known.status, 200, 'but per gets in from 127.0.0.1, where she logged in before');
    t.match(known.cookie, /^vaktpost_session=./, 'with a session');
  });

  await t.test("a stranger's failures do not lock out a user who holds a session", async (t) => {
    const first = kariFirst;
    t.equal(first.status, 200, 'kari logged in before the attack and holds that session');
    t.equal((await loginFrom(sup.url, 'kari', PW.kari, '127.0.0.6')).status, 429, 'from a new address without a session: locked');
    const withSession = await loginFrom(sup.url, 'kari', PW.kari, '127.0.0.6', { cookie: first.cookie });
    t.equal(withSession.status, 200, 'the same address carrying her live session: in');
    const me = await send(sup.url, 'GET', '/api/me', { headers: { cookie: withSession.cookie } });
    t.equal((me.json?.user as { username?: string } | null)?.username, 'kari', 'the new session is hers');
  });
});
