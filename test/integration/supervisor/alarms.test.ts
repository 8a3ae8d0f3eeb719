/**
 * One incident, one alarm per subsystem: a WAN outage fails many signals (each
 * link, each centre path) but operators get one alarm per failing subsystem,
 * plus the route change; the signal transitions stay in the log as warnings.
 */
import t from 'tap';
import { startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

interface Ev {
  kind: string;
  severity: string;
  subsystem: string | null;
  en: string;
}

t.test('a WAN outage raises one alarm per failing subsystem', async (t) => {
  const { dir, cleanup } = await scratchDir('alarms');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  await waitFor(async () => (await sup.api<{ mode: string }>('GET', '/api/status')).json.mode === 'normal', { timeoutMs: 30_000, what: 'normal' });
  const before = (await sup.api<{ events: Ev[] }>('GET', '/api/events?limit=1')).json.events[0];
  await sup.api('POST', '/api/sim/fault', { fault: 'wan-down' });
  await waitFor(async () => (await sup.api<{ route: string }>('GET', '/api/status')).json.route === 'backup', { timeoutMs: 30_000, what: 'backup' });
  const events = (await sup.api<{ events: Ev[] }>(`GET`, `/api/events?limit=500`)).json.events.filter((e) =>
    before ? (e as unknown as { id: number }).id > (before as unknown as { id: number }).id : true,
  );
  const alarms = events.filter((e) => e.severity === 'alarm');
  const subsystemAlarms = alarms.filter((e) => e.kind === 'subsystem.status');
  t.same(subsystemAlarms.map((e) => e.subsystem).sort(), ['centres', 'wan'], 'one alarm each for WAN and centres');
  t.ok(
    alarms.some((e) => e.kind === 'route.changed'),
    'the route change is an alarm',
  );
  t.equal(alarms.filter((e) => e.kind === 'signal.status').length, 0, 'single signals are not alarms');
  t.ok(events.filter((e) => e.kind === 'signal.status' && e.severity === 'warn').length >= 6, 'signal transitions are logged as warnings');
});
