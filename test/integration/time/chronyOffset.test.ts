/**
 * Acceptance (issue #4, show 1): a real chronyd (-x, never touching the system
 * clock) syncs from the test NTP server; shifting the server by +2.0 s and
 * -1.5 s is a time failure; back to 0 clears only after the hold time, without
 * flapping through chronyd's overshoot.
 */
import t, { type Test } from 'tap';
import { levelFor } from '../../../supervisor/src/core/timeHealth.js';
import { TEST_THRESHOLDS, type TimeRig, startTimeRig, waitAllOk } from './setup.js';

const HOLD_MS = TEST_THRESHOLDS.clearHoldS * 1000;

async function shiftAndExpectFailure(t: Test, rig: TimeRig, offsetS: number): Promise<void> {
  const at = rig.server.setOffset(offsetS);
  const fail = await rig.log.next('time.errorBound', (s) => s.status === 'fail', 30_000, `time.errorBound fail after ${offsetS} s`);
  t.comment(`shift ${offsetS > 0 ? '+' : ''}${offsetS} s → time.errorBound fail after ${(fail.mono - at).toFixed(0)} ms`);
  // Once chronyd has settled, the offset signal reads box minus NTP time: the opposite sign of the server's shift.
  const settled = await rig.log.next(
    'time.offset',
    (s) => typeof s.value === 'number' && Math.abs(s.value + offsetS) < 0.01,
    30_000,
    `time.offset ≈ ${-offsetS} s`,
  );
  t.equal(settled.status, 'fail', `time.offset fails at ${settled.value} s`);
  t.equal(rig.log.status('time.errorBound'), 'fail');
  t.equal(rig.log.status('time.leap'), 'ok', 'chronyd itself still says Normal');
  const tr = await rig.client.tracking();
  t.ok(Math.abs(tr.systemTimeS - offsetS) < 0.01, `chronyc tracking system time ${tr.systemTimeS} (positive = slow) matches the shift`);
}

async function backToZeroClearsAfterHold(t: Test, rig: TimeRig): Promise<void> {
  const at = rig.server.setOffset(0);
  const ok = await rig.log.next('time.errorBound', (s) => s.status === 'ok', HOLD_MS + 20_000, 'time.errorBound ok after back to 0');
  const clearedAfter = ok.mono - at;
  const peak = Math.max(
    ...rig.log.history.filter((s) => s.key === 'time.errorBound' && s.mono >= at && typeof s.value === 'number').map((s) => s.value as number),
  );
  // What the signal would have done without hysteresis: the raw level of every sample.
  const raw = rig.log.history
    .filter((s) => s.key === 'time.errorBound' && s.mono >= at && typeof s.value === 'number')
    .map((s) => levelFor(s.value as number, TEST_THRESHOLDS))
    .filter((l, i, a) => i === 0 || a[i - 1] !== l);
  t.comment(`raw levels after the shift back: ${raw.join(' → ')}`);
  t.comment(
    `back to 0 → cleared after ${clearedAfter.toFixed(0)} ms (hold ${HOLD_MS} ms; raw bound peaked at ${peak.toFixed(3)} s during chronyd's overshoot)`,
  );
  t.ok(clearedAfter >= HOLD_MS, `not cleared before the hold time (${clearedAfter.toFixed(0)} ≥ ${HOLD_MS} ms)`);
  // No flapping: after the shift back the shown status only ever improves (fail → [warn →] ok),
  // even when the raw level oscillates through chronyd's overshoot (fail → warn → fail → … seen here).
  const RANK: Record<string, number> = { ok: 0, warn: 1, fail: 2 };
  const shown = rig.log.transitions('time.errorBound', at);
  t.equal(shown[0], 'fail');
  t.equal(shown.at(-1), 'ok');
  t.ok(
    shown.every((s, i) => i === 0 || (RANK[s] ?? 9) < (RANK[shown[i - 1] as string] ?? 9)),
    `shown status only improves: ${shown.join(' → ')}`,
  );
}

t.test('offset shifts of the NTP reference are time failures; back to 0 clears after the hold', async (t) => {
  const rig = await startTimeRig(t);
  await waitAllOk(rig);
  t.equal(rig.log.get('time.source')?.value, '127.0.0.1');
  t.equal(rig.log.get('time.errorBound')?.unit, 's');

  await t.test('+2.0 s', (t) => shiftAndExpectFailure(t, rig, 2.0));
  await t.test('back to 0', (t) => backToZeroClearsAfterHold(t, rig));
  await t.test('-1.5 s', (t) => shiftAndExpectFailure(t, rig, -1.5));
  await t.test('back to 0 again', (t) => backToZeroClearsAfterHold(t, rig));
});
