/**
 * Acceptance (accounts and access, issue 9): every API route in the real route
 * table refuses an unauthenticated request with 401 (only /healthz, the login and
 * the data-free UI shell are open); a cross-site form post is refused in a real
 * browser; ten failed logins are slowed down (429 + Retry-After); user management,
 * alarm acknowledgement and the history API validate input and check roles.
 */
import http from 'node:http';
import t from 'tap';
import { WebSocket } from 'ws';
import { scratchDir, freePort, waitFor } from '../helpers/util.js';
import { ensureUiBuilt, login, openBrowser } from './helpers/browser.js';
import { routeTable, startInProcess } from './helpers/inProcess.js';

const ADMIN_PW = 'auth-admin-password-1';

t.test('access control on every route, CSRF, login throttling, accounts', async (t) => {
  await ensureUiBuilt();
  const { dir, cleanup } = await scratchDir('e2e-auth');
  t.teardown(cleanup);
  const { app, url, token } = await startInProcess(dir, ADMIN_PW);
  t.teardown(() => app.stop());
  const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const call = async (method: string, p: string, body?: unknown, headers: Record<string, string> = bearer) => {
    const res = await fetch(url + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : null) as Record<string, unknown>, headers: res.headers };
  };
  const loginAs = async (username: string, password: string) => {
    const res = await fetch(`${url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    return { status: res.status, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '', retryAfter: res.headers.get('retry-after') };
  };

  await t.test('every API route except /healthz answers 401 without a login', async (t) => {
    const routes = routeTable(app.api.printRoutes({ commonPrefix: false }));
    const paths = routes.map((r) => `${r.method} ${r.path}`);
    for (const must of [
      'GET /api/status',
      'POST /api/alarms/:id/ack',
      'GET /api/samples',
      'POST /api/users/:username/password',
      'PATCH /api/users/:username',
    ]) {
      t.ok(paths.includes(must), `route table read: has ${must}`);
    }
    // Open by design: the health probe, the login itself, and the UI shell and its
    // hashed assets (they carry no data; every datum comes from the API below).
    const open = new Set(['GET /healthz', 'POST /api/login', 'GET /', 'GET /login', 'GET /assets/:file']);
    const params: Record<string, string> = { ':id': '1', ':username': 'admin', ':file': 'index.js' };
    let checked = 0;
    for (const r of routes) {
      if (open.has(`${r.method} ${r.path}`)) continue;
      const p = r.path.replace(/:[a-zA-Z]+/g, (k) => params[k] ?? 'x');
      const res = await fetch(url + p, {
        method: r.method,
        headers: r.method === 'GET' || r.method === 'DELETE' ? {} : { 'content-type': 'application/json' },
        body: r.method === 'GET' || r.method === 'DELETE' ? undefined : '{}',
      });
      t.equal(res.status, 401, `${r.method} ${r.path} without login → 401`);
      checked++;
    }
    t.ok(checked >= 20, `${checked} routes checked`);
    t.equal((await fetch(`${url}/healthz`)).status, 200, '/healthz is open');
    const shell = await fetch(`${url}/`);
    t.equal(shell.status, 200, 'the UI shell loads without login');
    t.notMatch(await shell.text(), /"route"|local|backup/, 'and carries no status data');
    t.match(shell.headers.get('content-security-policy') ?? '', /script-src 'self'/, 'with a strict CSP');
    const ws = await new Promise<number>((resolve) => {
      const s = new WebSocket(`${url.replace('http', 'ws')}/api/live`);
      s.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      s.on('open', () => resolve(101));
      s.on('error', () => {});
    });
    t.equal(ws, 401, 'WS /api/live without login → 401');
  });

  await t.test('a cross-site form post is refused', async (t) => {
    // The attacker's page: a form that auto-submits a JSON-looking text/plain body (the
    // classic trick), and a fetch that tries to add our CSRF header.
    const target = `${url}/api/route/override`;
    const evil = http.createServer((req, res) => {
      res.setHeader('content-type', 'text/html');
      if (req.url === '/form') {
        res.end(`<!doctype html><form id=f method=POST action="${target}" enctype="text/plain">
<input name='{"route":"backup","minutes":30,"reason":"csrf","x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`);
      } else {
        res.end(`<!doctype html><script>
window.result = fetch(${JSON.stringify(target)}, { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json', 'x-vaktpost-csrf': '1' },
  body: JSON.stringify({ route: 'backup', minutes: 30, reason: 'csrf via fetch' }) }).then((r) => 'status ' + r.status, (e) => 'blocked: ' + e.message);
</script>`);
      }
    });
    const evilPort = await freePort();
    await new Promise<void>((r) => evil.listen(evilPort, '127.0.0.1', r));
    t.teardown(() => new Promise<void>((r) => evil.close(() => r())));

    const b = await openBrowser();
    t.teardown(() => b.close());
    await login(b.page, url, 'admin', ADMIN_PW);
    const cookies = await b.context.cookies(url);
    t.ok(
      cookies.some((c) => c.name === 'vaktpost_session' && c.httpOnly && c.sameSite === 'Strict'),
      'the browser holds an HttpOnly SameSite=Strict session',
    );

    for (const [host, expect, why] of [
      // Both refused by the Origin check first (security test test/security/auth-crossorigin-sessions.test.ts).
      ['localhost', 403, 'cross-site: foreign Origin, and the SameSite=Strict cookie is not sent'],
      ['127.0.0.1', 403, 'same site, other origin: the cookie goes along, but the Origin is not the box'],
    ] as const) {
      const resP = b.page.waitForResponse((r) => r.url() === target && r.request().method() === 'POST', { timeout: 30_000 });
      await b.page.goto(`http://${host}:${evilPort}/form`);
      const res = await resP;
      t.equal(res.status(), expect, `form post from ${host}:${evilPort} → ${expect} (${why})`);
    }
    await b.page.goto(`http://localhost:${evilPort}/fetch`);
    const fetched = String(await b.page.evaluate('window.result'));
    t.match(fetched, /^blocked/, `a cross-site fetch with the CSRF header is stopped by the browser (${fetched})`);
    const status = await call('GET', '/api/status');
    t.equal(status.json.override, null, 'no manual route was set by any of it');
    t.equal(status.json.route, 'local');
  });

  await t.test('accounts: admin manages users; roles, input and sessions are checked', async (t) => {
    t.equal((await call('POST', '/api/users', { username: 'kari', password: 'short', role: 'technician' })).status, 400, 'weak password refused');
    t.equal((await call('POST', '/api/users', { username: 'bad name!', password: 'long-enough-password', role: 'technician' })).status, 400, 'bad username');
    t.equal((await call('POST', '/api/users', { username: 'kari', password: 'long-enough-password', role: 'root' })).status, 400, 'unknown role');
    const c = await call('POST', '/api/users', { username: 'kari', password: 'kari-password-123', role: 'operator' });
    t.equal(c.status, 201, 'created');
    t.equal((await call('POST', '/api/users', { username: 'kari', password: 'kari-password-123', role: 'operator' })).status, 409, 'duplicate → 409');
    const users = await call('GET', '/api/users');
    t.same(
      (users.json.users as Array<{ username: string; role: string }>).map((u) => [u.username, u.role]),
      [
        ['admin', 'admin'],
        ['kari', 'operator'],
      ],
    );
    t.notMatch(JSON.stringify(users.json), /scrypt|password/, 'no password hashes leave the box');

    const kari = await loginAs('kari', 'kari-password-123');
    t.equal(kari.status, 200);
    const asKari = { cookie: kari.cookie, 'content-type': 'application/json', 'x-vaktpost-csrf': '1' };
    t.equal((await call('GET', '/api/users', undefined, asKari)).status, 403, 'an operator cannot list users');
    t.equal((await call('POST', '/api/users', { username: 'eve', password: 'eve-password-123', role: 'admin' }, asKari)).status, 403, 'nor create one');
    t.equal(
      (await call('POST', '/api/me/password', { current: 'wrong-password', password: 'kari-password-456' }, asKari)).status,
      403,
      'wrong current password',
    );
    t.equal(
      (await call('POST', '/api/me/password', { current: 'kari-password-123', password: 'kari-password-456' }, asKari)).status,
      200,
      'own password changed',
    );
    t.equal((await call('GET', '/api/me', undefined, asKari)).status, 401, 'and the old session has ended');
    t.equal((await loginAs('kari', 'kari-password-456')).status, 200, 'the new password works');

    const kari2 = await loginAs('kari', 'kari-password-456');
    t.equal((await call('PATCH', '/api/users/kari', { role: 'technician' })).status, 200, 'admin changes the role');
    t.equal((await call('GET', '/api/me', undefined, { cookie: kari2.cookie })).status, 401, 'a role change ends the sessions');
    t.equal((await call('PATCH', '/api/users/kari', { disabled: true })).status, 200, 'admin disables the user');
    t.equal((await loginAs('kari', 'kari-password-456')).status, 401, 'a disabled user cannot log in');
    t.equal((await call('PATCH', '/api/users/admin', { role: 'operator' })).status, 409, 'the last admin cannot be demoted');
    t.equal((await call('PATCH', '/api/users/nobody', { disabled: true })).status, 404);
    t.equal((await call('POST', '/api/users/kari/password', { password: 'kari-password-789' })).status, 200, 'admin sets a password');
    const audit = await call('GET', '/api/events?limit=50');
    const kinds = (audit.json.events as Array<{ kind: string; actor: string | null }>).filter((e) => e.kind.startsWith('account.'));
    t.ok(
      ['account.created', 'account.passwordChanged', 'account.changed', 'account.passwordSet'].every((k) => kinds.some((e) => e.kind === k && e.actor)),
      'every account change is audited with its actor',
    );
  });

  await t.test('alarms and history: input validated, answers bounded', async (t) => {
    t.equal((await call('POST', '/api/alarms/1/ack', {})).status, 400, 'an info event is not an alarm');
    t.equal((await call('POST', '/api/alarms/999999/ack', {})).status, 404);
    t.equal((await call('POST', '/api/alarms/abc/ack', {})).status, 400);
    t.equal((await call('POST', '/api/alarms/1/ack', { comment: 'x'.repeat(501) })).status, 400, 'comment too long');
    const bad = await call('GET', '/api/samples?key=../../etc');
    t.equal(bad.status, 400);
    t.match(JSON.stringify(bad.json.issues), /key/, 'names the bad field');
    t.equal((await call('GET', '/api/samples?key=time.offset&since=2000&until=1000')).status, 400, 'until before since');
    t.equal((await call('GET', `/api/samples?key=time.offset&since=0&until=${500 * 86_400_000}`)).status, 400, 'range too long');
    t.equal((await call('GET', '/api/samples?key=time.offset&buckets=5')).status, 400, 'too few buckets');
    const series = await waitFor(
      async () => {
        const r = await call('GET', '/api/samples?key=power.ups1.charge&buckets=10');
        return (r.json.points as unknown[]).length > 0 ? r : null;
      },
      { timeoutMs: 30_000, what: 'samples of power.ups1.charge' },
    );
    const pts = series.json.points as Array<{ at: number; min: number; max: number; avg: number; n: number }>;
    t.ok(pts.length <= 10, `folded into at most 10 buckets (${pts.length})`);
    t.ok(
      pts.every((p) => p.min <= p.avg && p.avg <= p.max && p.n > 0),
      'min ≤ avg ≤ max in every bucket',
    );
  });

  await t.test('ten failed logins are slowed down', async (t) => {
    t.equal((await loginAs('admin', ADMIN_PW)).status, 200, 'a good login first (it clears earlier failures from this address)');
    const statuses: number[] = [];
    const sentAt: number[] = [];
    const answeredAt: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 10; i++) {
      sentAt.push(performance.now());
      const r = await loginAs('admin', `wrong-guess-${i}`);
      answeredAt.push(performance.now());
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.retryAfter;
    }
    t.same(statuses.slice(0, 5), [401, 401, 401, 401, 401], 'the first five are plain refusals');
    t.ok(statuses.slice(5).includes(429), `then 429 Too Many Requests (${statuses.join(' ')})`);
    t.ok(
      statuses.every((s) => s === 401 || s === 429),
      'every guess is refused: 401 when its password was checked, 429 when it had to wait',
    );
    // A guess after the fifth is checked only once the wait set by the previous checked one
    // (1 s, 2 s, 4 s, … after it) has run out. On a busy machine a request can take that
    // long by itself, so the order is checked against the client's own times: the server
    // received the earlier guess after the client sent it, and answered the later one
    // before the client saw the answer.
    let checked = 0;
    let lastCheckedSentAt = 0;
    const early: string[] = [];
    statuses.forEach((s, i) => {
      if (s !== 401) return;
      checked++;
      if (checked > 5) {
        const waitMs = 1000 * 2 ** (checked - 6);
        const gap = (answeredAt[i] as number) - lastCheckedSentAt;
        if (gap < waitMs) early.push(`guess ${i + 1} checked ${gap.toFixed(0)} ms after the previous (wait ${waitMs} ms)`);
      }
      lastCheckedSentAt = sentAt[i] as number;
    });
    t.same(early, [], 'no guess after the fifth was checked before its wait ran out');
    t.ok(Number(retryAfter) >= 1, `with Retry-After: ${retryAfter}`);
    t.equal((await loginAs('admin', ADMIN_PW)).status, 429, 'even the right password waits');
    const ok = await waitFor(async () => ((await loginAs('admin', ADMIN_PW)).status === 200 ? true : null), {
      timeoutMs: Number(retryAfter) * 1000 + 5000,
      intervalMs: 250,
      what: 'login after Retry-After',
    });
    t.ok(ok, 'after Retry-After the right password works');
    const ev = await call('GET', '/api/events?kind=auth.failed&limit=20');
    t.ok((ev.json.events as unknown[]).length >= 5, 'failed logins are in the event log');
  });
});
