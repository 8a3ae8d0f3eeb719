/**
 * Acceptance (web UI, issue 9): Debian's Chromium, headless, against the REAL
 * supervisor process on the simulated box. Log in; the operator view shows local;
 * a simulated fault turns it to backup within 1 s without a reload; an operator
 * acknowledges an alarm and it is recorded with the user; an operator cannot reach
 * technician actions (hidden in the UI, 403 from the API); the language switch
 * works; axe-core finds no serious or critical violations on either view; a
 * technician sets and ends a manual route; killing the server shows "connection
 * lost" with no stale OK left on the page, and the page comes back by itself.
 */
import t from 'tap';
import { type SupervisorProc, startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../helpers/util.js';
import { axeViolations, ensureUiBuilt, login, openBrowser, type TestBrowser } from './helpers/browser.js';
import { installRouteWatch, paintedRoute } from './helpers/routeWatch.js';

const ADMIN_PW = 'e2e-admin-password-1';
const OP = { username: 'ola', password: 'e2e-operator-pass-1' };

interface AlarmsAnswer {
  alarms: Array<{ id: number; kind: string; en: string; ack: { by: string; at: number; comment: string | null } | null }>;
}

t.test('web UI in Chromium against the real supervisor', async (t) => {
  await ensureUiBuilt();
  const { dir, cleanup } = await scratchDir('e2e-ui');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir, '', { failbackHoldS: 600, holdDownS: 0, tickMs: 100, reportMs: 200 });
  const env = { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW };
  let sup: SupervisorProc = await startSupervisor(file, port, env);
  t.teardown(() => sup.kill('SIGKILL'));

  const created = await sup.api('POST', '/api/users', { ...OP, role: 'operator' });
  t.equal(created.status, 201, 'admin API creates an operator account');

  const opB: TestBrowser = await openBrowser();
  t.teardown(() => opB.close());
  const op = opB.page;

  await t.test('log in; the operator view shows local', async (t) => {
    await login(op, sup.url, OP.username, OP.password);
    const route = op.getByTestId('route');
    await op.locator('[data-testid=route][data-route=local]').waitFor({ timeout: 30_000 });
    t.equal(await route.getAttribute('data-route'), 'local');
    t.match(await op.getByTestId('route-text').textContent(), /LOCAL CENTRE/);
    await op.locator('[data-testid=conn][data-conn=live]').waitFor({ timeout: 30_000 });
    t.pass('live over the WebSocket');
    t.match(await op.getByTestId('who').textContent(), /ola/);
  });

  await t.test('a simulated fault turns it to backup, without a reload', async (t) => {
    await op.evaluate('window.__noReload = true');
    await installRouteWatch(op);
    const t0 = Date.now();
    const inj = await sup.api('POST', '/api/sim/fault', { fault: 'wan-down' });
    t.equal(inj.status, 200);
    // How fast is ui.fault_to_visible_ms in test/bench/ui.bench.ts; here: it happens, live.
    const seen = await paintedRoute(op, 'backup', t0, 30_000);
    t.comment(`backup shown ${seen.at - t0} ms after the fault`);
    t.match(await op.getByTestId('route-text').textContent(), /BACKUP CENTRE/);
    t.match(await op.getByTestId('reasons').textContent(), /WAN|wan/, 'says why');
    t.equal(await op.evaluate('window.__noReload === true'), true, 'same page: no reload happened');
  });

  const adminB = await openBrowser({ bypassCSP: true });
  t.teardown(() => adminB.close());
  const admin = adminB.page;
  await login(admin, sup.url, 'admin', ADMIN_PW);

  await t.test('acknowledging an alarm is recorded with the user', async (t) => {
    const alarm = op
      .getByTestId('alarm')
      .filter({ hasText: /backup/i })
      .first();
    await alarm.waitFor({ timeout: 30_000 });
    const id = Number(await alarm.getAttribute('data-id'));
    t.ok(id > 0, `the route change is an active alarm (#${id})`);
    const adminAlarm = admin.locator(`[data-testid=alarm][data-id="${id}"]`);
    await adminAlarm.waitFor({ timeout: 30_000 });
    await alarm.getByRole('button', { name: /Acknowledge/ }).click();
    await op.locator(`[data-testid=alarm][data-id="${id}"]`).waitFor({ state: 'detached', timeout: 30_000 });
    const acked = await sup.api<AlarmsAnswer>('GET', '/api/alarms?state=acked');
    const rec = acked.json.alarms.find((a) => a.id === id);
    t.equal(rec?.ack?.by, OP.username, 'stored with the operator who acknowledged it');
    const events = await sup.api<{ events: Array<{ actor: string | null; data: { eventId?: number } | null }> }>(
      'GET',
      '/api/events?kind=alarm.acknowledged&limit=10',
    );
    t.ok(
      events.json.events.some((e) => e.actor === OP.username && e.data?.eventId === id),
      'and audited in the event log with the actor',
    );
    await adminAlarm.waitFor({ state: 'detached', timeout: 30_000 });
    t.pass('another open screen drops the acknowledged alarm live');
    const again = await op.context().request.post(`${sup.url}/api/alarms/${id}/ack`, { headers: { 'x-vaktpost-csrf': '1' }, data: {} });
    t.equal(again.status(), 409, 'a second acknowledgement is refused (409) and names the first');
  });

  await t.test('an operator cannot reach technician actions', async (t) => {
    t.equal(await op.getByTestId('nav-technician').count(), 0, 'no Technician tab for an operator');
    t.equal(await op.getByTestId('nav-accounts').count(), 0, 'no Accounts tab for an operator');
    await op.evaluate("location.hash = '#/technician/actions'");
    await op.getByTestId('forbidden').waitFor({ timeout: 30_000 });
    t.equal(await op.getByTestId('override-form').count(), 0, 'no manual-route form rendered');
    const req = op.context().request;
    const h = { 'x-vaktpost-csrf': '1' };
    const override = await req.post(`${sup.url}/api/route/override`, { headers: h, data: { route: 'local', minutes: 5, reason: 'operator tries' } });
    t.equal(override.status(), 403, 'API refuses a manual route from an operator');
    t.equal((await req.delete(`${sup.url}/api/route/override`, { headers: h })).status(), 403, 'and ending one');
    t.equal((await req.post(`${sup.url}/api/sim/fault`, { headers: h, data: { fault: 'wan-restored' } })).status(), 403, 'and a fault injection');
    t.equal((await req.post(`${sup.url}/api/drill`, { headers: h })).status(), 403, 'and a drill');
    t.equal((await req.get(`${sup.url}/api/users`)).status(), 403, 'and the user list');
    await op.evaluate("location.hash = '#/operator'");
    await op.getByTestId('operator-view').waitFor();
  });

  await t.test('the language switch works and is remembered', async (t) => {
    t.equal(await op.evaluate('document.documentElement.lang'), 'en');
    await op.getByTestId('lang').click();
    await op.getByTestId('route-text').filter({ hasText: 'RESERVESENTRAL' }).waitFor({ timeout: 30_000 });
    t.equal(await op.evaluate('document.documentElement.lang'), 'nb', '<html lang> follows');
    t.match(await op.locator('#route-h').textContent(), /Anrop går nå til/);
    t.match(await op.getByTestId('conn').textContent(), /Tilkoblet/);
    await op.reload();
    await op.locator('[data-testid=route][data-route=backup]').waitFor({ timeout: 30_000 });
    t.match(await op.getByTestId('route-text').textContent(), /RESERVESENTRAL/, 'still Norwegian after a reload');
    await op.getByTestId('lang').click();
    await op.getByTestId('route-text').filter({ hasText: 'BACKUP CENTRE' }).waitFor({ timeout: 30_000 });
    t.pass('and back to English');
  });

  await t.test('axe-core: no serious or critical violations on both views, in both languages', async (t) => {
    for (const lang of ['en', 'nb'] as const) {
      if ((await admin.evaluate('document.documentElement.lang')) !== lang) await admin.getByTestId('lang').click();
      for (const hash of ['#/operator', '#/technician/overview', '#/technician/actions', '#/technician/events', '#/technician/history', '#/accounts']) {
        await admin.evaluate(`location.hash = ${JSON.stringify(hash)}`);
        await admin.locator('main [data-testid$="-view"]').first().waitFor();
        await admin.waitForLoadState('networkidle');
        const v = await axeViolations(admin);
        t.same(v, [], `${lang} ${hash}: ${v.map((x) => `${x.id} (${x.impact}): ${x.help} @ ${x.nodes.slice(0, 3).join(', ')}`).join('; ') || 'clean'}`);
      }
    }
    if ((await admin.evaluate('document.documentElement.lang')) !== 'en') await admin.getByTestId('lang').click();
  });

  await t.test('a technician sets and ends a manual route from the Actions section', async (t) => {
    // WAN back: calls stay on backup (the failback hold is long), the safety floor is gone,
    // so a manual route to local is allowed.
    await sup.api('POST', '/api/sim/fault', { fault: 'wan-restored' });
    const healthy = await waitFor(
      async () => {
        const s = await sup.api<{ route: string; mode: string; floor: unknown[]; health: Record<string, { status: string }> }>('GET', '/api/status');
        return s.json.floor.length === 0 && s.json.health.wan?.status === 'ok' && s.json.health.centres?.status === 'ok' ? s.json : null;
      },
      { timeoutMs: 5000, what: 'WAN and centres healthy again' },
    );
    t.equal(healthy.route, 'backup', `calls stay on backup while the failback hold runs (${healthy.mode})`);
    await admin.evaluate("location.hash = '#/technician/actions'");
    const form = admin.getByTestId('override-form');
    await form.waitFor();
    await form.locator('select[name=route]').selectOption('local');
    await form.locator('input[name=minutes]').fill('15');
    await form.locator('input[name=reason]').fill('WAN work by the carrier, local is reachable by phone line');
    await form.getByRole('button', { name: 'Set manual route' }).click();
    await form.getByTestId('confirm').click();
    await admin.locator('[data-testid=route][data-route=local][data-mode=maintenance]').waitFor({ timeout: 30_000 });
    t.match(await admin.getByTestId('override-state').textContent(), /admin/, 'shows who set it');
    const ev = await sup.api<{ events: Array<{ actor: string | null; en: string }> }>('GET', '/api/events?kind=override.set&limit=5');
    t.ok(
      ev.json.events.some((e) => e.actor === 'admin' && /WAN work/.test(e.en)),
      'recorded with the user and the reason',
    );
    await form.getByRole('button', { name: 'End manual route' }).click();
    await form.getByTestId('confirm').click();
    await admin.getByTestId('override-state').filter({ hasText: 'No manual route is set' }).waitFor({ timeout: 30_000 });
    t.not(await admin.getByTestId('route').getAttribute('data-mode'), 'maintenance', 'the policy decides again');
    const ev2 = await sup.api<{ events: Array<{ actor: string | null }> }>('GET', '/api/events?kind=override.cleared&limit=5');
    t.ok(
      ev2.json.events.some((e) => e.actor === 'admin'),
      'ending it is recorded with the user',
    );
  });

  await t.test('technician: history chart, event filter and CSV export, a deviation acknowledged with a comment', async (t) => {
    await admin.evaluate("location.hash = '#/technician/history'");
    const chart = admin.getByTestId('chart-time.offset');
    await chart.locator('svg[role=img]').waitFor({ timeout: 10_000 });
    t.match(await chart.locator('figcaption').textContent(), /time\.offset: \d+ points/, 'a history chart of the clock offset from stored samples');

    await admin.evaluate("location.hash = '#/technician/events'");
    await admin.getByTestId('ev-severity').selectOption('alarm');
    await admin.getByRole('button', { name: 'Apply filter' }).click();
    // The table says which filter its rows answer: wait for the answer to this one.
    const table = admin.locator('[data-testid=events][data-state=ready][data-severity=alarm]');
    await table.waitFor({ timeout: 10_000 });
    const rows = table.locator('tr[data-kind]');
    await rows.first().waitFor();
    const kinds = await rows.evaluateAll((els) => els.map((e) => (e as unknown as { className: string }).className));
    t.ok(kinds.length > 0 && kinds.every((c) => c === 'sev-alarm'), `the severity filter shows only alarms (${kinds.length})`);
    const [download] = await Promise.all([admin.waitForEvent('download'), admin.getByTestId('ev-csv').click()]);
    const csvPath = await download.path();
    const csv = (await import('node:fs')).readFileSync(csvPath, 'utf8');
    t.ok(csv.startsWith('\ufeffid,Time,Severity,Kind'), 'CSV with a BOM and a header row');
    t.match(csv, /route\.changed/, 'holds the route changes');
    t.notMatch(csv, /sim\.fault/, 'and only what the filter selects');

    await admin.evaluate("location.hash = '#/technician/deviations'");
    const open = admin
      .getByTestId('deviations')
      .locator('tr[data-id]')
      .filter({ has: admin.getByRole('button', { name: 'Acknowledge' }) })
      .first();
    await open.waitFor({ timeout: 30_000 });
    const id = Number(await open.getAttribute('data-id'));
    await open.getByPlaceholder('Comment (optional)').fill('planned: manual route during carrier work');
    await open.getByRole('button', { name: 'Acknowledge' }).click();
    await admin.locator(`[data-testid=deviations] tr[data-id="${id}"] [data-testid=acked-by]`).waitFor({ timeout: 30_000 });
    const acked = await sup.api<AlarmsAnswer>('GET', '/api/alarms?state=acked');
    const rec = acked.json.alarms.find((a) => a.id === id);
    t.equal(rec?.ack?.by, 'admin', 'acknowledged by the technician');
    t.equal(rec?.ack?.comment, 'planned: manual route during carrier work', 'with the comment');
  });

  await t.test('killing the server shows "connection lost" and never a stale OK; it reconnects by itself', async (t) => {
    // Every subsystem is OK again (WAN restored above): there is an OK to go stale.
    await op.locator('[data-testid=tile-wan][data-status=ok]').waitFor({ timeout: 30_000 });
    t.ok((await op.locator('[data-status=ok]').count()) > 0, 'OK badges are shown while live');
    const killedAt = Date.now();
    await sup.kill('SIGKILL');
    await op.locator('[data-testid=conn-banner][data-conn=lost]').waitFor({ timeout: 30_000 });
    t.comment(`connection loss shown after ${Date.now() - killedAt} ms`);
    t.match(await op.getByTestId('conn-banner').textContent(), /Connection to Vaktpost lost/);
    t.equal(await op.getByTestId('route').getAttribute('data-route'), 'unknown', 'the route is shown as UNKNOWN');
    t.match(await op.getByTestId('route-text').textContent(), /UNKNOWN/);
    t.equal(await op.locator('[data-status=ok]').count(), 0, 'no OK status left on the page');
    const before = (await sup.api<{ route: string }>('GET', '/api/status').catch(() => null))?.json.route;
    t.equal(before, undefined, 'the API is really gone');
    t.match(await op.locator('.route-lastknown').textContent(), /Last known: (local|backup)/, 'the last known route only as history');

    sup = await startSupervisor(file, port, env);
    await op.locator('[data-testid=conn][data-conn=live]').waitFor({ timeout: 30_000 });
    const now = await sup.api<{ route: string }>('GET', '/api/status');
    await op.locator(`[data-testid=route][data-route=${now.json.route}]`).waitFor({ timeout: 30_000 });
    t.equal(await op.getByTestId('conn-banner').count(), 0, 'back live without a reload, the banner gone');
  });

  t.same([...opB.errors, ...adminB.errors], [], 'no script errors in the pages');
});
