/**
 * Power at the edges (issue 15), on a real upsd + dummy-ups (and a real primary upsmon)
 * with the real supervisor process; the route is read from the supervisor's store and
 * the alarms from its events:
 *  - FSD + LB right after a failback → backup at once, not held back by the hold-down;
 *  - OL + LB (recharging) → no route change and no shutdown;
 *  - a failing shutdown command → tried, given up with an alarm, and calls come back
 *    once power is fine;
 *  - FSD from the primary upsmon → Vaktpost moves the calls and logs out, so upsmon
 *    shuts down at once instead of after HOSTSYNC.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { type NutRig, startNutRig } from '../../helpers/nut.js';
import { startSupervisor } from '../../helpers/supervisorProcess.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';

interface Status {
  route: string;
  health: Record<string, { status: string; reasons: Array<{ code: string }> }>;
  signals: Array<{ key: string; value: unknown; observedAt: number }>;
}

async function lab(t: Test, o: { holdDownS: number; failbackHoldS: number; shutdown?: string[]; tries?: number; login?: boolean; rig?: NutRig }) {
  const nut = o.rig ?? (await startNutRig({ ups: ['ups1'], pollIntervalS: 1 }));
  if (!o.rig) t.teardown(() => nut.close());
  const { dir, cleanup } = await scratchDir('power-edges');
  t.teardown(cleanup);
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  const auth = o.login ? `, user: ${nut.user.name}, password: '${nut.user.password.replace(/'/g, "''")}'` : '';
  writeFileSync(
    file,
    [
      'box: { name: power-edges, hardware: real, dataDir: ' + path.join(dir, 'data') + ' }',
      `api: { listen: 127.0.0.1, port: ${port} }`,
      `policy: { failbackHoldS: ${o.failbackHoldS}, holdDownS: ${o.holdDownS}, tickMs: 100 }`,
      'power:',
      '  ups:',
      `    - { name: ups1, host: ${nut.host}, port: ${nut.port}, pollMs: 250${auth} }`,
      '  policy:',
      '    minRuntimeS: 120',
      ...(o.shutdown ? [`    shutdownCommand: ${JSON.stringify(o.shutdown)}`, `    shutdownTries: ${o.tries ?? 2}`, '    shutdownRetryS: 1'] : []),
      'time: { chronyc: { socket: /nonexistent/chronyd.sock } }',
      '',
    ].join('\n'),
  );
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const status = async () => (await sup.api<Status>('GET', '/api/status')).json;
  await waitFor(async () => (await status()).health.power?.status === 'ok', { timeoutMs: 30_000, what: 'power ok from upsd' });
  const db = new Database(path.join(sup.dataDir, 'vaktpost.db'), { readonly: true });
  t.teardown(() => db.close());
  const changes = () =>
    db.prepare(`SELECT id, at, route, reasons_json FROM decisions WHERE route_changed = 1 ORDER BY id`).all() as Array<{
      id: number;
      at: number;
      route: string;
      reasons_json: string;
    }>;
  const events = (kind: string) =>
    db.prepare(`SELECT id, at, severity, message_en FROM events WHERE kind = ? ORDER BY id`).all(kind) as Array<{
      id: number;
      at: number;
      severity: string;
      message_en: string;
    }>;
  return { nut, sup, status, changes, events, dir };
}

t.test('FSD + LB right after a failback: backup at once, not held back by the hold-down', async (t) => {
  const HOLD_DOWN_S = 20;
  const { nut, sup, status, changes } = await lab(t, { holdDownS: HOLD_DOWN_S, failbackHoldS: 1 });
  // A failover and failback: mains out past nothing… simplest real cause: a manual route to backup, cleared.
  await sup.api('POST', '/api/route/override', { route: 'backup', minutes: 5, reason: 'test: make a route change' });
  await waitFor(async () => (await status()).route === 'backup', { timeoutMs: 30_000, what: 'manual route to backup' });
  await sup.api('DELETE', '/api/route/override');
  await waitFor(async () => (await status()).route === 'local', { timeoutMs: (HOLD_DOWN_S + 30) * 1000, what: 'failback to local' });
  const failback = changes().at(-1);
  t.equal(failback?.route, 'local', 'failed back to local (the hold-down starts again here)');

  await nut.setStatus('ups1', 'OB LB FSD', { 'battery.runtime': 60, 'battery.charge': 8 });
  await waitFor(async () => (await status()).route === 'backup', { timeoutMs: 30_000, what: 'backup after FSD + LB' });
  const change = changes().at(-1);
  t.equal(change?.route, 'backup', 'the store has the route change to backup');
  const afterMs = (change?.at ?? 0) - (failback?.at ?? 0);
  t.ok(afterMs < HOLD_DOWN_S * 1000, `decided ${afterMs} ms after the failback — inside the ${HOLD_DOWN_S} s hold-down, so not held back by it`);
  const codes = (JSON.parse(change?.reasons_json ?? '[]') as Array<{ code: string }>).map((r) => r.code);
  t.ok(codes.includes('power.fsd') || codes.includes('power.lowBattery'), `why: critical power (${codes.join(', ')})`);
  t.notOk(codes.includes('policy.holdDown'), 'no hold-down in the reasons');
});

t.test('OL + LB (recharging after a deep discharge): a warning, no route change, no shutdown', async (t) => {
  const { nut, sup, status, changes, dir } = await lab(t, { holdDownS: 1, failbackHoldS: 1, shutdown: ['/usr/bin/touch', '/dev/null'] });
  const marker = path.join(dir, 'no-such-marker');
  const before = changes().length;
  await nut.setStatus('ups1', 'OL CHRG LB', { 'battery.runtime': 100, 'battery.charge': 9 });
  const st = await waitFor(
    async () => {
      const s = await status();
      return s.health.power?.reasons.some((r) => r.code === 'power.lowBatteryOnMains') ? s : null;
    },
    { timeoutMs: 30_000, what: 'the OL+LB warning' },
  );
  t.equal(st.health.power?.status, 'warn', 'power warns');
  // Let the supervisor see several more polls of the same state before judging "nothing happened".
  const seenAt = st.signals.find((s) => s.key === 'power.ups1.lowBattery')?.observedAt ?? 0;
  await waitFor(async () => ((await status()).signals.find((s) => s.key === 'power.ups1.lowBattery')?.observedAt ?? 0) > seenAt + 2000, {
    timeoutMs: 30_000,
    what: 'two more seconds of UPS polls',
  });
  t.equal((await status()).route, 'local', 'calls stay local');
  t.equal(changes().length, before, 'no route change in the store');
  const shutdown = await sup.api<{ events: Array<{ kind: string }> }>('GET', '/api/events?kind=shutdown.requested&limit=5');
  t.equal(shutdown.json.events.length, 0, 'no shutdown requested');
  t.notOk(existsSync(marker), 'nothing ran');
});

t.test('a failing shutdown command: tried, given up with an alarm, and calls come back once power is fine', async (t) => {
  const { nut, status, changes, events } = await lab(t, { holdDownS: 1, failbackHoldS: 1, shutdown: ['/bin/false'], tries: 2 });
  await nut.setStatus('ups1', 'OB LB', { 'battery.runtime': 60, 'battery.charge': 8 });
  await waitFor(() => events('shutdown.failed').length > 0, { timeoutMs: 60_000, what: 'the shutdown to be given up' });
  t.equal(events('shutdown.command').length, 2, 'the command was tried twice (shutdownTries)');
  t.equal(events('shutdown.failed')[0]?.severity, 'alarm', 'giving up is an alarm');
  t.equal((await status()).route, 'backup', 'calls stay on backup while power is critical');

  await nut.setStatus('ups1', 'OL CHRG', { 'battery.runtime': 1800, 'battery.charge': 60 });
  await waitFor(async () => (await status()).route === 'local', { timeoutMs: 60_000, what: 'calls back to local once power is fine' });
  t.ok(events('shutdown.cancelled').length > 0, 'the shutdown floor was lifted (shutdown.cancelled)');
  t.equal(changes().at(-1)?.route, 'local', 'the store has the route back to local');
});

t.test('FSD from the primary upsmon: Vaktpost moves the calls and logs out, upsmon shuts down at once', async (t) => {
  const HOSTSYNC_S = 60;
  const rig = await startNutRig({ ups: ['ups1'], pollIntervalS: 1 });
  t.teardown(() => rig.close());
  const notify = path.join(rig.dir, 'upsmon-events.log');
  await writeFile(notify, '');
  await rig.startUpsmon('ups1', { pollFreqS: 1, notifyFile: notify, role: 'primary', hostSyncS: HOSTSYNC_S, finalDelayS: 0 });
  const { status, events } = await lab(t, { holdDownS: 30, failbackHoldS: 1, login: true, rig });
  await waitFor(async () => (await rig.query('GET NUMLOGINS ups1')) === 'NUMLOGINS ups1 2', { timeoutMs: 30_000, what: 'Vaktpost logged in beside upsmon' });

  const t0 = Date.now();
  await rig.upsmonFsd();
  const shutdownCmd = async () =>
    (await readFile(notify, 'utf8'))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ at: Number(l.split(' ')[0]) / 1e6, type: l.split(' ')[1] }))
      .find((e) => e.type === 'SHUTDOWNCMD');
  const shut = await waitFor(shutdownCmd, { timeoutMs: (HOSTSYNC_S + 10) * 1000, intervalMs: 50, what: 'upsmon SHUTDOWNCMD' });
  t.equal((await status()).route, 'backup', 'calls were moved to backup');
  const logout = events('power.fsdLogout');
  t.equal(logout.length, 1, 'Vaktpost logged out after FSD (power.fsdLogout)');
  t.ok(shut.at >= (logout[0]?.at ?? Number.POSITIVE_INFINITY) - 50, 'upsmon shut down after that logout');
  t.ok(shut.at < t0 + HOSTSYNC_S * 1000, 'because of the logout, not at HOSTSYNC expiry');
  t.comment(`upsmon -c fsd → SHUTDOWNCMD ${Math.round(shut.at - t0)} ms (HOSTSYNC ${HOSTSYNC_S} s; before: waited it out)`);
});
