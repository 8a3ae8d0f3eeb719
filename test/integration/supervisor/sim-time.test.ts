/**
 * On the simulated box, time runs through the real time monitor (SimTimeSource
 * behind the chronyc interface): a 2 s clock offset fails the time subsystem
 * (an alarm, not a failover by default); chronyd stopping is a monitoring fault.
 */
import t from 'tap';
import { startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

interface Status {
  route: string;
  mode: string;
  health: Record<string, { status: string }>;
  signals: Array<{ key: string; status: string; detail?: string; value: unknown }>;
}

t.test('clock offset and chronyd down on the simulated box', async (t) => {
  const { dir, cleanup } = await scratchDir('sup-time');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir, 'time:\n  pollMs: 200\n  clearHoldS: 1\n');
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const status = async () => (await sup.api<Status>('GET', '/api/status')).json;

  await waitFor(async () => (await status()).health.time?.status === 'ok', { timeoutMs: 30_000, what: 'time ok' });
  await sup.api('POST', '/api/sim/fault', { fault: 'clock-offset-2s' });
  const s1 = await waitFor(async () => ((await status()).health.time?.status === 'fail' ? status() : null), { timeoutMs: 30_000, what: 'time fail' });
  t.equal(s1.signals.find((s) => s.key === 'time.errorBound')?.status, 'fail', 'error bound beyond 1 s fails');
  t.equal(s1.route, 'local', 'a time fault alone does not move calls (not in failoverOn by default)');
  t.equal(s1.mode, 'degraded');

  await sup.api('POST', '/api/sim/state', { clock: { chronydRunning: false } });
  const s2 = await waitFor(
    async () => {
      const s = await status();
      return s.signals.find((x) => x.key === 'time.offset')?.status === 'unknown' ? s : null;
    },
    { timeoutMs: 30_000, what: 'time unknown' },
  );
  t.match(s2.signals.find((x) => x.key === 'time.offset')?.detail ?? '', /chronyd is not running/, 'the cause is named');
});
