/**
 * Acceptance (issue #4, holdover): a chronyd restart with a good clock is not
 * a time failure. The real chronyd (-x) is stopped for 3 s and started again
 * on the same socket and drift file; meanwhile the error bound is the last
 * good one grown at the holdover drift rate (warn), the other signals are a
 * monitoring fault (unknown) / not yet synchronised (warn) — and no time
 * signal ever says `fail`. A fresh start (no good bound yet) waits out the
 * start-up grace instead of failing.
 */
import t from 'tap';
import { ChronycClient } from '../../../hardware/chrony/index.js';
import { TimeMonitor } from '../../../supervisor/src/monitors/timeMonitor.js';
import { CHRONYC, startChronyd } from '../../helpers/chronyd.js';
import { startNtpServer } from '../../helpers/ntpServer.js';
import { waitFor } from '../../helpers/util.js';
import { respawnChronyd } from './restart.js';
import { POLL_MS, TEST_THRESHOLDS, startTimeRig, waitAllOk } from './setup.js';
import { SignalLog } from './signals.js';

const KEYS = ['time.offset', 'time.errorBound', 'time.leap', 'time.source', 'time.refAge'];
/** A settled chronyd (as on a box that has run a while): 1000 ppm × 3 s = 3 ms of holdover growth. */
const SETTLED_SKEW_PPM = 1000;
const STOPPED_MS = 3000;

t.test('chronyd restarted (stopped 3 s) with a good clock: no time failure', async (t) => {
  const rig = await startTimeRig(t);
  await waitAllOk(rig);
  const settled = await waitFor(
    async () => {
      const tr = await rig.client.tracking();
      return tr.skewPpm < SETTLED_SKEW_PPM ? tr : null;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `chronyd's skew estimate below ${SETTLED_SKEW_PPM} ppm` },
  );
  t.comment(`chronyd settled: skew ${settled.skewPpm} ppm, root dispersion ${settled.rootDispersionS} s`);

  const at = performance.now();
  await rig.chronyd.kill();
  const fault = await rig.log.next('time.offset', (s) => s.status === 'unknown', 10_000, 'time.offset unknown (chronyd down)');
  t.match(fault.detail, /monitoring fault: chronyd is not running/);
  const holdover = await rig.log.next('time.errorBound', (s) => /holdover/.test(s.detail ?? ''), 10_000, 'time.errorBound in holdover');
  t.equal(holdover.status, 'warn', 'the error bound while chronyd is down: warn');
  t.match(holdover.detail, /monitoring fault: chronyd is not running.*; holdover: last good bound .* ppm/);
  t.comment(`chronyd down → ${holdover.detail}`);

  await waitFor(() => performance.now() - at >= STOPPED_MS, { timeoutMs: STOPPED_MS + 1000, what: `${STOPPED_MS} ms stopped` });
  const restartedAt = performance.now();
  respawnChronyd(t, rig.chronyd);
  await waitAllOk(rig, 60_000);
  const okAfter = performance.now() - restartedAt;

  const since = rig.log.history.filter((s) => s.mono >= at);
  const failed = since.filter((s) => s.status === 'fail');
  t.same(
    failed.map((s) => `${s.key}: ${s.detail}`),
    [],
    'no time signal failed: the time subsystem never reached fail (no alarm, no failover)',
  );
  for (const key of KEYS) t.comment(`${key}: ${rig.log.transitions(key, at).join(' → ')}`);
  const bounds = since.filter((s) => s.key === 'time.errorBound' && typeof s.value === 'number').map((s) => s.value as number);
  t.ok(Math.max(...bounds) < TEST_THRESHOLDS.warnS, `the error bound stayed far below the limit (max ${Math.max(...bounds).toFixed(4)} s)`);
  t.comment(`restart → every time signal ok ${okAfter.toFixed(0)} ms after chronyd was started again (stopped ${STOPPED_MS} ms)`);
});

t.test('fresh start (no good bound yet): warn while chronyd first synchronises, never fail', async (t) => {
  const server = await startNtpServer();
  t.teardown(() => server.close());
  const chronyd = await startChronyd({ serverPort: server.port, waitForSync: false });
  t.teardown(() => chronyd.stop());
  const log = new SignalLog();
  const monitor = new TimeMonitor({
    source: new ChronycClient({ chronycPath: CHRONYC, host: chronyd.socketPath, timeoutMs: 2000 }),
    thresholds: TEST_THRESHOLDS,
    pollMs: POLL_MS,
  });
  t.teardown(() => monitor.stop());
  const at = performance.now();
  await monitor.start(log.sink);
  for (const key of KEYS) await log.next(key, (s) => s.status === 'ok', 60_000, `${key} ok`);
  // Until chronyd's first synchronisation (time.leap ok) the start-up grace holds: warn, never
  // fail. After it, chronyd's own figures rule: beside other test files the in-process test
  // NTP server can answer late, and chronyd then reports a root dispersion over 1 s for a
  // few polls (seen: 1.057 s) — a bound that bad is rightly `fail`. What must never happen is
  // a fail on a bound chronyd reports below the limit.
  const firstSync = log.history.findIndex((s) => s.key === 'time.leap' && s.status === 'ok');
  const failedBeforeSync = log.history.slice(0, firstSync).filter((s) => s.status === 'fail');
  t.same(
    failedBeforeSync.map((s) => `${s.key}: ${s.detail}`),
    [],
    'no time signal failed while chronyd synchronised for the first time',
  );
  // A fail on chronyd's own over-limit bound, and after one, the fail held while it clears
  // (the clear-hold: a bound back under the limit must stay there clearHoldS before ok).
  const overLimit = (s: (typeof log.history)[number]) => s.key === 'time.errorBound' && typeof s.value === 'number' && s.value >= TEST_THRESHOLDS.failS;
  const after = log.history.slice(firstSync);
  const firstOver = after.findIndex(overLimit);
  const failedOnGoodBound = after.filter(
    (s, i) =>
      s.status === 'fail' && !overLimit(s) && !(firstOver >= 0 && i > firstOver && s.key === 'time.errorBound' && /hold not yet served/.test(s.detail ?? '')),
  );
  t.same(
    failedOnGoodBound.map((s) => `${s.key}: ${s.detail}`),
    [],
    'after it, a fail only where chronyd itself reports a bound at or over the limit',
  );
  for (const key of KEYS) t.comment(`${key}: ${log.transitions(key, at).join(' → ')}`);
  const first = log.history.find((s) => s.key === 'time.leap');
  t.comment(`first time.leap: ${first?.status} — ${first?.detail}`);
  t.comment(`fresh start → every time signal ok after ${(performance.now() - at).toFixed(0)} ms (grace ${TEST_THRESHOLDS.startupGraceS} s)`);
});
