/**
 * Attacks on cross-origin requests and on sessions that outlive their right
 * (issue #17, items 4 and 5), against the real supervisor process:
 *
 * - A page on another port of the same host (same site: SameSite cookies go
 *   along) posts to the API with the admin's cookie — refused 403, nothing changes.
 * - The same page opens the live WebSocket with the admin's cookie — refused 403
 *   before any snapshot is sent (before: it read the whole live state).
 * - `vaktpost user passwd` (the real CLI) while the user is logged in — the old
 *   session cookie is refused 401 right after, and the user's open socket closes.
 * - An admin disables a user, or changes their role, while that user's live
 *   socket streams — the socket is closed (awaited close event, 1008) and the
 *   session cannot open a new one.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { Accounts } from '../../supervisor/src/api/auth.js';
import { openDb } from '../../supervisor/src/store/db.js';
import { Store } from '../../supervisor/src/store/store.js';
import { freePort, scratchDir } from '../helpers/util.js';
import { startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { type LiveSocket, loginFrom, openLive, send } from './auth-http.js';

const ADMIN_PW = 'crossorigin-admin-password-1';
const run = promisify(execFile);

t.test('cross-origin requests and sessions that outlive their right', async (t) => {
  const { dir, cleanup } = await scratchDir('sec-crossorigin');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW });
  t.teardown(() => sup.kill());
  const own = sup.url; // http://127.0.0.1:<port>: the origin the UI is served from
  const evil = `http://127.0.0.1:${await freePort()}`; // same host, other port: same site
  const admin = await loginFrom(sup.url, 'admin', ADMIN_PW);
  t.equal(admin.status, 200, 'the admin is logged in (a browser session cookie)');
  const override = { route: 'backup', minutes: 30, reason: 'cross-origin attack' };
  const status = async () => (await sup.api<{ override: unknown; route: string }>('GET', '/api/status')).json;

  /** The socket's close event; a guard of 20 s turns "never closed" into a failure instead of a hang (the server acts at once, or within its 5 s re-check). */
  const closeOf = (s: LiveSocket) =>
    Promise.race([
      s.closed,
      new Promise<{ code: number; reason: string }>((resolve) => setTimeout(() => resolve({ code: 0, reason: 'still open after 20 s' }), 20_000).unref()),
    ]);
  const firstMessage = (s: LiveSocket) => (s.messages.length > 0 ? Promise.resolve() : new Promise<void>((resolve) => s.ws.once('message', () => resolve())));
  /** The server's own count of live clients it closed because their session ended. */
  const sessionDrops = async () => {
    const res = await fetch(`${sup.url}/metrics`, { headers: { authorization: `Bearer ${sup.token()}` } });
    const m = /^vaktpost_live_dropped_total\{reason="session"\} (\d+)$/m.exec(await res.text());
    return Number(m?.[1] ?? 0);
  };
  await t.test('a state-changing request from another origin is refused and changes nothing', async (t) => {
    // Even with the CSRF header (a page that got past it) and the admin's cookie.
    const asAdmin = { cookie: admin.cookie, 'x-vaktpost-csrf': '1' };
    const cross = await send(sup.url, 'POST', '/api/route/override', { body: override, headers: { ...asAdmin, origin: evil } });
    t.equal(cross.status, 403, `POST with Origin ${evil} → 403`);
    t.match(
      String(cross.json?.error),
      /cross-origin request refused.*Origin http:\/\/127\.0\.0\.1:\d+ is not this box.*annen opprinnelse/,
      'says why, in both languages',
    );
    const sameSite = await send(sup.url, 'POST', '/api/route/override', { body: override, headers: { ...asAdmin, 'sec-fetch-site': 'same-site' } });
    t.equal(sameSite.status, 403, 'no Origin but Sec-Fetch-Site: same-site → 403');
    const nullOrigin = await send(sup.url, 'DELETE', '/api/route/override', { headers: { ...asAdmin, origin: 'null' } });
    t.equal(nullOrigin.status, 403, 'Origin: null (sandboxed frame) → 403');
    const patch = await send(sup.url, 'PATCH', '/api/users/admin', { body: { role: 'operator' }, headers: { ...asAdmin, origin: evil } });
    t.equal(patch.status, 403, 'PATCH from another origin → 403');
    const bearer = await send(sup.url, 'POST', '/api/route/override', { body: override, headers: { authorization: `Bearer ${sup.token()}`, origin: evil } });
    t.equal(bearer.status, 403, 'the rule holds for a token too when a browser says it comes from elsewhere');
    const login = await loginFrom(sup.url, 'admin', ADMIN_PW, undefined, { origin: evil });
    t.equal(login.status, 403, 'a login posted from another origin → 403 (no login CSRF, no guessing through a victim)');
    t.equal(login.cookie, '', 'and sets no cookie');
    const s = await status();
    t.equal(s.override, null, 'no manual route was set');
    t.equal(s.route, 'local', 'calls still go local');

    // The box's own pages and non-browser clients keep working.
    const mine = await send(sup.url, 'POST', '/api/route/override', { body: { ...override, reason: 'from the UI' }, headers: { ...asAdmin, origin: own } });
    t.equal(mine.status, 200, 'the same request from the box’s own origin → 200');
    const cleared = await send(sup.url, 'DELETE', '/api/route/override', { headers: { authorization: `Bearer ${sup.token()}` } });
    t.equal(cleared.status, 200, 'a client without Origin/Sec-Fetch headers (curl, the CLI) → 200');
  });

  await t.test('a WebSocket from another origin is refused before any snapshot', async (t) => {
    const refused = await openLive(sup.url, { cookie: admin.cookie, origin: evil }).then(
      (s: LiveSocket) => {
        s.ws.terminate();
        return { status: 101, text: `opened; ${s.messages.length} message(s)` };
      },
      (err: Error & { status?: number; text?: string }) => ({ status: err.status ?? 0, text: err.text ?? err.message }),
    );
    t.equal(refused.status, 403, `upgrade with Origin ${evil} and the admin's cookie → 403 (${refused.text.trim()})`);
    t.match(refused.text, /not this box/, 'with the reason');
    const bySite = await openLive(sup.url, { cookie: admin.cookie, 'sec-fetch-site': 'cross-site' }).then(
      () => 101,
      (err: Error & { status?: number }) => err.status ?? 0,
    );
    t.equal(bySite, 403, 'no Origin but Sec-Fetch-Site: cross-site → 403');
    const ok = await openLive(sup.url, { cookie: admin.cookie, origin: own });
    t.teardown(() => ok.ws.terminate());
    await firstMessage(ok);
    t.equal(ok.messages[0]?.type, 'snapshot', 'from the box’s own origin the snapshot arrives');
  });

  const newUser = async (t: Test, username: string, role = 'operator') => {
    const password = `${username}-password-first`;
    t.equal((await sup.api('POST', '/api/users', { username, password, role })).status, 201, `user ${username} created`);
    const l = await loginFrom(sup.url, username, password);
    t.equal(l.status, 200, `${username} logged in`);
    const live = await openLive(sup.url, { cookie: l.cookie, origin: own });
    return { cookie: l.cookie, live };
  };
  const me = async (cookie: string) => (await send(sup.url, 'GET', '/api/me', { headers: { cookie } })).status;

  await t.test('vaktpost user passwd (the CLI) ends the old sessions and closes their sockets', async (t) => {
    const kari = await newUser(t, 'kari');
    t.equal(await me(kari.cookie), 200, 'the session works before');
    const cli = await run(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'user', 'passwd', 'kari', '-c', sup.configFile], {
      env: { ...process.env, VAKTPOST_PASSWORD: 'kari-password-second' },
    });
    t.match(cli.stdout, /password for kari changed/, `the CLI says so (${cli.stdout.trim()})`);
    t.equal(await me(kari.cookie), 401, 'the old session cookie → 401 right after');
    const closed = await closeOf(kari.live);
    t.equal(closed.code, 1008, `her open live socket was closed (${closed.code} ${closed.reason})`);
    t.equal((await loginFrom(sup.url, 'kari', 'kari-password-first')).status, 401, 'the old password no longer works');
    t.equal((await loginFrom(sup.url, 'kari', 'kari-password-second')).status, 200, 'the new one does');
    const ev = await sup.api<{ events: Array<{ actor: string; data: { username?: string } }> }>('GET', '/api/events?kind=account.passwordSet&limit=10');
    t.ok(
      ev.json.events.some((e) => e.actor === 'cli' && e.data.username === 'kari'),
      'the change is audited (actor cli)',
    );
  });

  await t.test('disabling a user closes their open WebSocket at once', async (t) => {
    const eva = await newUser(t, 'eva');
    await firstMessage(eva.live);
    t.equal(eva.live.messages[0]?.type, 'snapshot', "eva's socket streams");
    const dropsBefore = await sessionDrops();
    t.equal((await sup.api('PATCH', '/api/users/eva', { disabled: true })).status, 200, 'the admin disables eva');
    const closed = await closeOf(eva.live);
    t.equal(closed.code, 1008, `closed with 1008 (${closed.reason})`);
    t.match(closed.reason, /session ended/, 'saying why');
    t.equal(await sessionDrops(), dropsBefore + 1, 'the server took her out of the broadcast (live dropped, reason "session")');
    t.equal(await me(eva.cookie), 401, 'her session is gone');
    const again = await openLive(sup.url, { cookie: eva.cookie, origin: own }).then(
      () => 101,
      (err: Error & { status?: number }) => err.status ?? 0,
    );
    t.equal(again, 401, 'and cannot open a new socket');
  });

  await t.test('a role change closes the open WebSocket too (the new right is earned by a new login)', async (t) => {
    const nils = await newUser(t, 'nils');
    t.equal((await sup.api('PATCH', '/api/users/nils', { role: 'technician' })).status, 200, 'the admin makes nils a technician');
    const closed = await closeOf(nils.live);
    t.equal(closed.code, 1008, `his socket was closed (${closed.code})`);
    t.equal(await me(nils.cookie), 401, 'his old session → 401');
  });

  await t.test('vaktpost user passwd with no supervisor running still ends the sessions (in the store)', async (t) => {
    const l = await loginFrom(sup.url, 'kari', 'kari-password-second');
    t.equal(l.status, 200, 'kari holds a session');
    await sup.kill();
    const cli = await run(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'user', 'passwd', 'kari', '-c', sup.configFile], {
      env: { ...process.env, VAKTPOST_PASSWORD: 'kari-password-third' },
    });
    t.match(cli.stderr, /did not answer.*writing the store directly/, 'the CLI says it wrote the store itself');
    const store = new Store(openDb(path.join(sup.dataDir, 'vaktpost.db')));
    t.teardown(() => store.close());
    const sessions = store.db.prepare("SELECT count(*) AS n FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.username = 'kari'").get() as { n: number };
    t.equal(sessions.n, 0, 'no session of kari is left in the store');
    t.ok(await new Accounts(store.db, Date.now).login('kari', 'kari-password-third'), 'and the new password is set');
  });
});
