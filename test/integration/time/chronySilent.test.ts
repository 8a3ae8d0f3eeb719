/**
 * Acceptance (issue #4, show 1): the NTP server going silent is a time
 * failure once the configured time (maxSourceLossS) has run out, although chronyd's
 * tracking still says "Normal" — measured: it keeps Normal after every source vanished.
 */
import t from 'tap';
import { waitFor } from '../../helpers/util.js';
import { TEST_THRESHOLDS, startTimeRig, waitAllOk } from './setup.js';

const LOSS_MS = TEST_THRESHOLDS.maxSourceLossS * 1000;
/** 1000 ppm × 30 s = 30 ms of growth: far below the 1 s fail. */
const SETTLED_SKEW_PPM = 1000;

t.test('silent upstream: warn at once, fail once maxSourceLossS has run out, while chronyd says Normal', async (t) => {
  const rig = await startTimeRig(t);
  await waitAllOk(rig);
  // A box that has run for a while knows its clock's frequency (skew: a few ppm).
  // A chronyd seconds old may not yet (seen under CI load: its 1e6 ppm "no
  // estimate"), and its error bound then grows by a second per second of silence.
  // Silence the source only once chronyd is settled, as on a real box.
  const settled = await waitFor(
    async () => {
      const tr = await rig.client.tracking();
      return tr.skewPpm < SETTLED_SKEW_PPM ? tr : null;
    },
    { timeoutMs: 60_000, intervalMs: 250, what: `chronyd's skew estimate below ${SETTLED_SKEW_PPM} ppm` },
  );
  t.comment(`chronyd settled: skew ${settled.skewPpm} ppm, root dispersion ${settled.rootDispersionS} s`);

  const at = performance.now();
  rig.server.setSilent(true);

  const warn = await rig.log.next('time.source', (s) => s.status === 'warn', 30_000, 'time.source warn (no selected source)');
  t.comment(`source lost → time.source warn after ${(warn.mono - at).toFixed(0)} ms: ${warn.detail}`);
  t.equal(warn.value, null);
  t.match(warn.detail, /no selected, reachable NTP source/);

  // Awaited up to twice the loss time: later than that is "never", not "slow".
  const fail = await rig.log.next('time.source', (s) => s.status === 'fail', 2 * LOSS_MS, 'time.source fail');
  // refAge counts from chronyd's refTime, source from lastRx: two clocks, so await each
  // (the one may trail the other by a poll) rather than read one at the other's moment.
  const refAgeFail =
    rig.log.history.find((s) => s.key === 'time.refAge' && s.status === 'fail' && s.mono >= at) ??
    (await rig.log.next('time.refAge', (s) => s.status === 'fail', 30_000, 'time.refAge fail'));
  t.ok(refAgeFail, 'time.refAge failed too');
  const sourceAfter = fail.mono - at;
  const refAgeAfter = (refAgeFail?.mono ?? Number.NaN) - at;
  t.comment(`silent → time.refAge fail after ${refAgeAfter.toFixed(0)} ms, time.source fail after ${sourceAfter.toFixed(0)} ms (configured ${LOSS_MS} ms)`);
  // Both count from the last good sample, which came at most one poll (0.25–1 s) before the
  // silence, as chronyc reports it: in whole seconds (lastRx), read once per monitor poll.
  // So "early" by up to ~2.5 s is the same moment seen through those steps (seen: 2038 ms).
  for (const [what, after] of [
    ['time.source', sourceAfter],
    ['time.refAge', refAgeAfter],
  ] as const) {
    t.ok(after >= LOSS_MS - 3000, `${what} did not fail long before the configured time (${after.toFixed(0)} ms ≥ ${LOSS_MS - 3000} ms)`);
  }
  // Failed *because* the configured loss time ran out, as chronyd counts it — not how soon
  // after (a busy machine polls late; that figure is a benchmark's). The 2× wait above is
  // the sanity bound.
  const lostS = Number(/nothing heard for (\d+) s/.exec(fail.detail ?? '')?.[1]);
  t.ok(lostS >= TEST_THRESHOLDS.maxSourceLossS, `time.source: nothing heard for ${lostS} s ≥ ${TEST_THRESHOLDS.maxSourceLossS} s: ${fail.detail}`);
  const ageS = Number(/last reference update ([\d.]+) s ago/.exec(refAgeFail?.detail ?? '')?.[1]);
  t.ok(ageS >= TEST_THRESHOLDS.maxSourceLossS, `time.refAge: reference ${ageS} s old ≥ ${TEST_THRESHOLDS.maxSourceLossS} s: ${refAgeFail?.detail}`);

  // The point of the test: chronyd still claims a normal, synchronised state.
  const tr = await rig.client.tracking();
  t.equal(tr.leapStatus, 'Normal', 'chronyc tracking: leap status still Normal');
  t.equal(rig.log.status('time.leap'), 'ok');
  // The error bound grows by chronyd's skew for every second without a sample:
  // on the settled chronyd above that is milliseconds in 30 s.
  t.ok(rig.log.status('time.errorBound') !== 'fail', 'the error bound alone would not have told');
  t.comment(
    `after ${((performance.now() - at) / 1000).toFixed(0)} s of silence: time.errorBound ${rig.log.status('time.errorBound')} at ${rig.log.get('time.errorBound')?.value} s (chronyd skew ${tr.skewPpm} ppm, root dispersion ${tr.rootDispersionS} s)`,
  );
  const sources = await rig.client.sources();
  t.equal(sources[0]?.reach, 0, 'reach drained to 0');
  t.not(sources[0]?.state, 'selected');
  t.ok(rig.server.requests > 0 && rig.log.get('time.refAge')?.value !== null);

  // Back: the source recovers at once (source signals carry no hold).
  rig.server.setSilent(false);
  await rig.log.next('time.source', (s) => s.status === 'ok', 30_000, 'time.source ok again');
  await rig.log.next('time.refAge', (s) => s.status === 'ok', 30_000, 'time.refAge ok again');
});
