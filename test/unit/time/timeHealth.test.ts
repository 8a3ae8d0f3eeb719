/**
 * core/timeHealth: thresholds, fail-fast/recover-slowly hysteresis, source
 * loss while chronyd still says "Normal", and wall-clock steps.
 */
import fc from 'fast-check';
import t from 'tap';
import {
  type Level,
  type LevelHold,
  type TimeHealthState,
  type TimeInput,
  type TimeSourceFacts,
  type TimeThresholds,
  type TimeTrackingFacts,
  errorBoundS,
  evaluateTime,
  holdLevel,
  levelFor,
  wallClockStepMs,
} from '../../../supervisor/src/core/timeHealth.js';

const TH: TimeThresholds = { warnS: 0.5, failS: 1.0, clearHoldS: 5, maxSourceLossS: 30 };
const NOW = 1_795_310_445_000;

function tracking(over: Partial<TimeTrackingFacts> = {}): TimeTrackingFacts {
  return {
    refName: '127.0.0.1',
    refTime: NOW / 1000 - 0.3,
    systemTimeS: 0.00002,
    rootDelayS: 0.0003,
    rootDispersionS: 0.0002,
    leapStatus: 'Normal',
    ...over,
  };
}
const SELECTED: TimeSourceFacts = { address: '127.0.0.1', state: 'selected', reach: 0o377 };

/** Runs a sequence of (monoMs, tracking) samples through evaluateTime, threading the state. */
function run(samples: Array<{ mono: number; tr?: Partial<TimeTrackingFacts>; sources?: TimeSourceFacts[] }>) {
  let state: TimeHealthState | undefined;
  return samples.map(({ mono, tr, sources }) => {
    const input: TimeInput = {
      tracking: tracking({ refTime: (NOW + mono) / 1000 - 0.3, ...tr }),
      sources: sources ?? [SELECTED],
      nowMs: NOW + mono,
      monoMs: mono,
    };
    const e = evaluateTime(input, state, TH);
    state = e.state;
    return e;
  });
}

t.test('error bound and levels', async (t) => {
  t.equal(errorBoundS({ systemTimeS: -0.4, rootDispersionS: 0.1, rootDelayS: 0.2 }), 0.4 + 0.1 + 0.1);
  t.equal(levelFor(0.49, TH), 'ok');
  t.equal(levelFor(0.5, TH), 'warn');
  t.equal(levelFor(0.99, TH), 'warn');
  t.equal(levelFor(1.0, TH), 'fail');
  t.equal(levelFor(Number.NaN, TH), 'fail', 'NaN is never healthy');
});

t.test('healthy chronyd: every signal ok, offset sign = box minus NTP', async (t) => {
  const [e] = run([{ mono: 0, tr: { systemTimeS: 0.2 } }]);
  t.ok(e);
  if (!e) return;
  t.equal(e.offset.status, 'ok');
  t.equal(e.offset.value, -0.2, 'system time +0.2 (clock slow) → box is 0.2 s behind');
  t.match(e.offset.detail, /0\.200 s slow/);
  t.equal(e.errorBound.status, 'ok');
  t.equal(e.leap.status, 'ok');
  t.equal(e.source.status, 'ok');
  t.equal(e.source.value, '127.0.0.1');
  t.match(e.source.detail, /reach 377/);
  t.equal(e.refAge.status, 'ok');
  t.ok(Math.abs((e.refAge.value ?? -1) - 0.5) < 1e-6, 'ref age corrected by system time: 0.3 s + 0.2 s');
});

t.test('+2 s fails at once; back to 0 clears only after the hold', async (t) => {
  const es = run([
    { mono: 0 },
    { mono: 1000, tr: { systemTimeS: 2.0 } },
    { mono: 2000, tr: { systemTimeS: -0.57, rootDispersionS: 2.3 } }, // chronyd overshoots
    { mono: 3000 }, // settled: raw ok, hold starts
    { mono: 7000 }, // 4 s < 5 s hold
    { mono: 8000 }, // 5 s: cleared
  ]);
  t.same(
    es.map((e) => e.errorBound.status),
    ['ok', 'fail', 'fail', 'fail', 'fail', 'ok'],
  );
  t.same(
    es.map((e) => e.offset.status),
    ['ok', 'fail', 'fail', 'fail', 'warn', 'warn'],
    'offset: its hold window (from 2000) saw the 0.57 s overshoot → drops to warn at 7000, ok only after another hold',
  );
  t.match(es[4]?.errorBound.detail, /clearing, hold not yet served/);
});

t.test('a failure that settles between warn and fail drops to warn, then ok', async (t) => {
  const es = run([
    { mono: 0, tr: { systemTimeS: 1.5 } },
    { mono: 1000, tr: { systemTimeS: 0.7 } },
    { mono: 6000, tr: { systemTimeS: 0.7 } },
    { mono: 7000, tr: { systemTimeS: 0.1 } },
    { mono: 12_000, tr: { systemTimeS: 0.1 } },
  ]);
  t.same(
    es.map((e) => e.errorBound.status),
    ['fail', 'fail', 'warn', 'warn', 'ok'],
  );
});

t.test('not synchronised = fail; offset and bound unknown (null), not zero', async (t) => {
  const [e] = run([{ mono: 0, tr: { leapStatus: 'Not synchronised', systemTimeS: 0, refTime: 0, rootDispersionS: 1, rootDelayS: 1 } }]);
  if (!e) return t.fail('no evaluation');
  t.equal(e.leap.status, 'fail');
  t.equal(e.offset.status, 'fail');
  t.equal(e.offset.value, null);
  t.equal(e.errorBound.status, 'fail');
  t.equal(e.errorBound.value, null);
  t.equal(e.refAge.status, 'fail');
  t.match(e.refAge.detail, /never/);
});

t.test('a leap second announcement is not a failure', async (t) => {
  const [e] = run([{ mono: 0, tr: { leapStatus: 'Insert second' } }]);
  t.equal(e?.leap.status, 'ok');
  t.match(e?.leap.detail, /Insert second/);
});

t.test('sources vanish while tracking still says Normal: warn, then fail after maxSourceLossS', async (t) => {
  const lost: TimeSourceFacts[] = [{ address: '127.0.0.1', state: 'unusable', reach: 0 }];
  const frozenRef = NOW / 1000 - 0.3;
  const es = run([
    { mono: 0 },
    { mono: 2000, sources: lost, tr: { refTime: frozenRef } },
    { mono: 20_000, sources: lost, tr: { refTime: frozenRef } },
    { mono: 31_000, sources: lost, tr: { refTime: frozenRef } },
    { mono: 32_000, sources: lost, tr: { refTime: frozenRef } },
    { mono: 33_000 },
  ]);
  t.same(
    es.map((e) => e.leap.status),
    ['ok', 'ok', 'ok', 'ok', 'ok', 'ok'],
    'leap stays Normal throughout',
  );
  t.same(
    es.map((e) => e.source.status),
    ['ok', 'warn', 'warn', 'warn', 'fail', 'ok'],
    'lost since mono 2000 → fail at 32000',
  );
  t.same(
    es.map((e) => e.refAge.status),
    ['ok', 'ok', 'ok', 'fail', 'fail', 'ok'],
    'reference older than 30 s → fail',
  );
  t.match(es[2]?.source.detail, /no selected, reachable NTP source; nothing heard for 18 s .*127\.0\.0\.1 unusable reach 0/);
  t.equal(es[2]?.source.value, null);
});

t.test("the sources' lastRx dates the loss back to the last good sample", async (t) => {
  const lost = (lastRxS: number | null): TimeSourceFacts[] => [{ address: '127.0.0.1', state: 'unusable', reach: 0, lastRxS }];
  const es = run([
    { mono: 0 },
    { mono: 5000, sources: lost(6) }, // chronyd noticed late: last sample 6 s ago
    { mono: 28_000, sources: lost(29) },
    { mono: 29_000, sources: lost(30) },
  ]);
  t.same(
    es.map((e) => e.source.status),
    ['ok', 'warn', 'warn', 'fail'],
    'fails 30 s after the last sample, not 30 s after chronyd noticed',
  );
  const [never] = run([{ mono: 0, sources: lost(null) }]);
  t.equal(never?.source.status, 'warn', 'never heard: counts from when the loss was seen');
});

t.test('a selected source with reach 0 counts as lost', async (t) => {
  const [e] = run([{ mono: 0, sources: [{ address: '127.0.0.1', state: 'selected', reach: 0 }] }]);
  t.equal(e?.source.status, 'warn');
});

t.test('a selected source silent beyond maxSourceLossS (slow polls: reach not drained yet) counts as lost', async (t) => {
  const [ok, lost] = run([
    { mono: 0, sources: [{ address: '10.0.0.1', state: 'selected', reach: 0o376, lastRxS: 30 }] },
    { mono: 1000, sources: [{ address: '10.0.0.1', state: 'selected', reach: 0o374, lastRxS: 31 }] },
  ]);
  t.equal(ok?.source.status, 'ok');
  t.equal(lost?.source.status, 'fail');
  t.equal(lost?.source.value, null);
});

t.test('holdLevel: worse applies at once, better after hold', async (t) => {
  let h: LevelHold | undefined;
  h = holdLevel('ok', h, 0, 1000);
  t.equal(h.held, 'ok');
  h = holdLevel('fail', h, 10, 1000);
  t.equal(h.held, 'fail');
  h = holdLevel('ok', h, 20, 1000);
  t.equal(h.held, 'fail');
  t.equal(h.clearingSinceMs, 20);
  h = holdLevel('fail', h, 500, 1000);
  t.equal(h.clearingSinceMs, null, 'relapse restarts the hold');
  h = holdLevel('ok', h, 600, 1000);
  h = holdLevel('ok', h, 1599, 1000);
  t.equal(h.held, 'fail');
  h = holdLevel('ok', h, 1600, 1000);
  t.equal(h.held, 'ok');
});

/**
 * Property: a bound oscillating around a threshold, with every excursion below
 * it shorter than the hold time, never flaps: once failed it stays failed.
 */
t.test('property: oscillation faster than the hold time does not flap', async (t) => {
  const holdMs = TH.clearHoldS * 1000;
  const threshold = fc.constantFrom(TH.failS, TH.warnS);
  const step = fc.record({
    dtMs: fc.integer({ min: 10, max: 2000 }),
    above: fc.boolean(),
    delta: fc.double({ min: 0, max: 0.4, noNaN: true }),
  });
  fc.assert(
    fc.property(threshold, fc.array(step, { minLength: 2, maxLength: 200 }), (thr, steps) => {
      let mono = 0;
      let hold: LevelHold | undefined;
      let firstBadLevel: Level | undefined;
      let belowSince: number | null = null;
      for (const s of steps) {
        mono += s.dtMs;
        // Keep each excursion below the threshold shorter than the hold: go back above in time.
        const mustGoUp = belowSince !== null && mono - belowSince >= holdMs - 1;
        const above = s.above || mustGoUp;
        const value = above ? thr + s.delta : thr - 0.01 - s.delta;
        if (above) belowSince = null;
        else belowSince ??= mono;
        hold = holdLevel(levelFor(value, TH), hold, mono, holdMs);
        const bad: Level = thr === TH.failS ? 'fail' : 'warn';
        if (above && firstBadLevel === undefined) firstBadLevel = hold.held;
        if (firstBadLevel !== undefined && hold.held !== bad && !(bad === 'warn' && hold.held === 'fail')) return false;
      }
      return true;
    }),
    { numRuns: 500 },
  );
  t.pass('500 random oscillations, no flap');
});

t.test('property: held level is never better than the raw level', async (t) => {
  const RANK: Record<Level, number> = { ok: 0, warn: 1, fail: 2 };
  fc.assert(
    fc.property(
      fc.array(fc.record({ dtMs: fc.integer({ min: 0, max: 10_000 }), bound: fc.double({ min: 0, max: 3, noNaN: true }) }), { maxLength: 100 }),
      (xs) => {
        let mono = 0;
        let h: LevelHold | undefined;
        for (const x of xs) {
          mono += x.dtMs;
          const raw = levelFor(x.bound, TH);
          h = holdLevel(raw, h, mono, 5000);
          if (RANK[h.held] < RANK[raw]) return false;
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.pass('fail fast holds');
});

t.test('wallClockStepMs', async (t) => {
  t.equal(wallClockStepMs({ wallMs: 1000, monoMs: 50 }, { wallMs: 2000, monoMs: 1050 }), 0);
  t.equal(wallClockStepMs({ wallMs: 1000, monoMs: 50 }, { wallMs: 4000, monoMs: 1050 }), 2000, 'stepped forward 2 s');
  t.equal(wallClockStepMs({ wallMs: 1000, monoMs: 50 }, { wallMs: 500, monoMs: 1050 }), -1500, 'stepped back 1.5 s');
});
