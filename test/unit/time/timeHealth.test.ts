/**
 * core/timeHealth: thresholds, fail-fast/recover-slowly hysteresis, source
 * loss while chronyd still says "Normal", holdover through a chronyd restart,
 * the start-up grace, an upstream that answers "unsynchronised", and
 * wall-clock steps.
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
  evaluateTimeFault,
  holdLevel,
  holdoverBoundS,
  holdoverLeftS,
  holdoverRatePpm,
  levelFor,
  refusesTime,
  wallClockStepMs,
} from '../../../supervisor/src/core/timeHealth.js';

const TH: TimeThresholds = { warnS: 0.5, failS: 1.0, clearHoldS: 5, maxSourceLossS: 30, holdoverDriftPpm: 50, startupGraceS: 10 };
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

interface Sample {
  mono: number;
  tr?: Partial<TimeTrackingFacts>;
  sources?: TimeSourceFacts[];
  /** chronyd could not be asked (the cause). */
  fault?: string;
}

/** Runs a sequence of samples through evaluateTime / evaluateTimeFault, threading the state. */
function run(samples: Sample[], th: TimeThresholds = TH) {
  let state: TimeHealthState | undefined;
  return samples.map(({ mono, tr, sources, fault }) => {
    if (fault !== undefined) {
      const e = evaluateTimeFault({ cause: fault, monoMs: mono }, state, th);
      state = e.state;
      return e;
    }
    const input: TimeInput = {
      tracking: tracking({ refTime: (NOW + mono) / 1000 - 0.3, ...tr }),
      sources: sources ?? [SELECTED],
      nowMs: NOW + mono,
      monoMs: mono,
    };
    const e = evaluateTime(input, state, th);
    state = e.state;
    return e;
  });
}

const UNSYNCED: Partial<TimeTrackingFacts> = { leapStatus: 'Not synchronised', systemTimeS: 0, refTime: 0, rootDispersionS: 1, rootDelayS: 1, refName: '' };
const DOWN = 'chronyd is not running or not reachable at /run/chrony/chronyd.sock';
const statuses = (es: ReturnType<typeof run>, key: 'offset' | 'errorBound' | 'leap' | 'source' | 'refAge') => es.map((e) => e[key].status);

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

t.test('not synchronised after the start-up grace = fail; offset and bound unknown (null), not zero', async (t) => {
  const es = run([
    { mono: 0, tr: UNSYNCED },
    { mono: 9_999, tr: UNSYNCED },
    { mono: 10_000, tr: UNSYNCED },
  ]);
  const e = es[2];
  if (!e) return t.fail('no evaluation');
  t.same(statuses(es, 'leap'), ['warn', 'warn', 'fail'], 'warn for the 10 s grace, then fail');
  t.equal(e.basis, 'unsynchronised');
  t.equal(e.leap.status, 'fail');
  t.equal(e.offset.status, 'fail');
  t.equal(e.offset.value, null);
  t.equal(e.errorBound.status, 'fail');
  t.equal(e.errorBound.value, null);
  t.equal(e.refAge.status, 'fail');
  t.match(e.refAge.detail, /never/);
  t.match(es[1]?.leap.detail, /waiting for chronyd's first synchronisation: 10 s of the 10 s start-up grace/);
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

t.test('holdover bound: grows at max(floor, skew) from the last good bound', async (t) => {
  t.equal(holdoverRatePpm(undefined, 50), 50, 'no skew known → the floor');
  t.equal(holdoverRatePpm(3, 50), 50, 'a settled chronyd (3 ppm) → the 50 ppm floor');
  t.equal(holdoverRatePpm(180, 50), 180, 'a skew above the floor is used');
  t.equal(holdoverRatePpm(Number.NaN, 50), 50);
  const good = { boundS: 0.001, monoMs: 1000, ratePpm: 50 };
  t.equal(holdoverBoundS(good, 1000), 0.001);
  t.ok(Math.abs(holdoverBoundS(good, 1000 + 3600_000) - (0.001 + 0.18)) < 1e-9, '50 ppm → +0.18 s per hour');
  t.equal(holdoverBoundS(good, 0), 0.001, 'never shrinks (monotonic time before the sample)');
  const left = holdoverLeftS(good, 1000, 1.0);
  t.ok(Math.abs(left - 0.999 / 50e-6) < 1e-6, `1 s reached after ${(left / 3600).toFixed(2)} h`);
  t.ok(left / 3600 > 5.5 && left / 3600 < 5.6, '~5.5 h at 50 ppm');
  t.equal(holdoverLeftS({ boundS: 1.2, monoMs: 0, ratePpm: 50 }, 0, 1.0), 0);
});

t.test('chronyd restarted (down 3 s, then not synchronised 1 s) with a good clock: never fail, back to ok at once', async (t) => {
  const es = run([
    { mono: 0 },
    { mono: 1000 },
    { mono: 2000, fault: DOWN },
    { mono: 4000, fault: DOWN },
    { mono: 5000, tr: UNSYNCED, sources: [{ address: '127.0.0.1', state: 'unusable', reach: 1, lastRxS: 0 }] },
    { mono: 6000 },
  ]);
  t.same(statuses(es, 'errorBound'), ['ok', 'ok', 'warn', 'warn', 'warn', 'ok'], 'holdover warns; no hold to serve: the grown bound stayed ok');
  t.same(statuses(es, 'offset'), ['ok', 'ok', 'unknown', 'unknown', 'warn', 'ok']);
  t.same(statuses(es, 'leap'), ['ok', 'ok', 'unknown', 'unknown', 'warn', 'ok']);
  t.same(statuses(es, 'source'), ['ok', 'ok', 'unknown', 'unknown', 'warn', 'ok']);
  t.same(statuses(es, 'refAge'), ['ok', 'ok', 'unknown', 'unknown', 'warn', 'ok']);
  t.same(
    es.map((e) => e.basis),
    ['chronyd', 'chronyd', 'holdover', 'holdover', 'holdover', 'chronyd'],
  );
  const down = es[3];
  const b0 = errorBoundS(tracking());
  t.ok(Math.abs((down?.errorBound.value as number) - (b0 + 50e-6 * 3)) < 1e-9, `bound grown 3 s × 50 ppm: ${down?.errorBound.value}`);
  t.match(
    down?.errorBound.detail,
    /^monitoring fault: chronyd is not running .*; holdover: last good bound 0\.000 s 3 s ago \+ 50 ppm × 3 s = 0\.001 s \(fail ≥ 1 s, reached in 5\.6 h\)/,
  );
  t.equal(down?.offset.detail, `monitoring fault: ${DOWN}`);
  t.match(es[4]?.leap.detail, /chronyd is not synchronised \(restarted, or has no usable source yet\); holdover/);
  t.equal(es[4]?.offset.value, null);
  t.equal(es[4]?.refAge.value, null);
});

t.test('holdover fails only when the grown bound reaches failS; clearing then needs the hold', async (t) => {
  const good = { systemTimeS: 0.1, rootDispersionS: 0.3 }; // bound 0.40015 s
  const b0 = errorBoundS(tracking(good));
  const failAfterMs = ((1.0 - b0) / 50e-6) * 1000; // ~12 000 s
  const es = run([
    { mono: 0, tr: good },
    { mono: 1000, fault: DOWN },
    { mono: 1000 + failAfterMs - 2000, fault: DOWN },
    { mono: 1000 + failAfterMs + 1000, fault: DOWN },
    { mono: 1000 + failAfterMs + 2000 }, // chronyd back and good
    { mono: 1000 + failAfterMs + 2000 + 4000 },
    { mono: 1000 + failAfterMs + 2000 + 5000 },
  ]);
  t.same(statuses(es, 'errorBound'), ['ok', 'warn', 'warn', 'fail', 'fail', 'fail', 'ok']);
  t.comment(`last good ${b0.toFixed(3)} s + 50 ppm → 1 s after ${(failAfterMs / 3600_000).toFixed(2)} h`);

  const skewed = run([
    { mono: 0, tr: { skewPpm: 100_000 } }, // a fresh chronyd: frequency barely known
    { mono: 1000, fault: DOWN },
    { mono: 11_000, fault: DOWN },
  ]);
  t.same(statuses(skewed, 'errorBound'), ['ok', 'warn', 'fail'], '100 000 ppm skew: the bound passes 1 s within 10 s');
  t.match(skewed[2]?.errorBound.detail, /\+ 100000 ppm/);
});

t.test('a clock already wrong when chronyd went away stays failed in holdover', async (t) => {
  const es = run([
    { mono: 0, tr: { systemTimeS: 2.0 } },
    { mono: 1000, fault: DOWN },
  ]);
  t.same(statuses(es, 'errorBound'), ['fail', 'fail']);
  t.same(statuses(es, 'offset'), ['fail', 'unknown'], 'the offset itself is not known while chronyd is down');
});

t.test('chronyd down with no good bound yet: every signal unknown (a monitoring fault)', async (t) => {
  const [e] = run([{ mono: 0, fault: DOWN }]);
  if (!e) return t.fail('no evaluation');
  t.equal(e.basis, 'unknown');
  for (const k of ['offset', 'errorBound', 'leap', 'source', 'refAge'] as const) {
    t.equal(e[k].status, 'unknown', k);
    t.equal(e[k].value, null);
    t.equal(e[k].detail, `monitoring fault: ${DOWN}`);
  }
});

t.test('start-up grace: a fresh chronyd syncing within it never fails, and its loose first bound is not a failure', async (t) => {
  const es = run([
    { mono: 0, tr: UNSYNCED },
    { mono: 2000, tr: UNSYNCED },
    { mono: 3000, tr: { rootDispersionS: 1.2, skewPpm: 1_000_000 } }, // first sync, no drift file: bound 1.2 s
    { mono: 4000, tr: { rootDispersionS: 0.0004, skewPpm: 600 } },
    { mono: 5000 },
  ]);
  t.same(statuses(es, 'errorBound'), ['warn', 'warn', 'warn', 'ok', 'ok'], 'no fail, and ok at once (no hold: it never failed)');
  t.same(statuses(es, 'leap'), ['warn', 'warn', 'warn', 'ok', 'ok']);
  t.same(
    es.map((e) => e.basis),
    ['grace', 'grace', 'grace', 'chronyd', 'chronyd'],
  );
  t.match(es[2]?.errorBound.detail, /its bound 1\.200 s is still settling/);
  t.equal(es[2]?.errorBound.value, errorBoundS(tracking({ rootDispersionS: 1.2 })));

  const measured = run([
    { mono: 0, tr: UNSYNCED },
    { mono: 1000, tr: { systemTimeS: 1.5 } },
  ]);
  t.same(statuses(measured, 'errorBound'), ['warn', 'fail'], 'a measured offset ≥ 1 s fails at once, grace or not');
});

t.test('chronyd back in sync but its own bound still loose: the holdover bound stays in force', async (t) => {
  const es = run([
    { mono: 0 },
    { mono: 1000, fault: DOWN },
    { mono: 3000, tr: { rootDispersionS: 1.3, skewPpm: 1_000_000 } }, // restarted without a drift file
    { mono: 4000, tr: { rootDispersionS: 1.3, systemTimeS: -1.2 } }, // but it measures 1.2 s: real
    { mono: 5000 },
  ]);
  t.same(statuses(es, 'errorBound'), ['ok', 'warn', 'warn', 'fail', 'fail']);
  t.same(
    es.map((e) => e.basis),
    ['chronyd', 'holdover', 'holdover', 'chronyd', 'chronyd'],
  );
  t.match(es[2]?.errorBound.detail, /still settling \(its own bound 1\.300 s/);
  t.ok((es[2]?.errorBound.value as number) < 0.01, "shows the holdover bound, not chronyd's loose one");
});

const refusing = (over: Partial<TimeSourceFacts> = {}, packet: Partial<NonNullable<TimeSourceFacts['lastPacket']>> = {}): TimeSourceFacts => ({
  address: '127.0.0.1',
  state: 'selected',
  reach: 0o376,
  lastRxS: 1,
  lastPacket: { leapStatus: 'Not synchronised', stratum: 16, validRx: 12, ...packet },
  ...over,
});

t.test('an upstream that says "unsynchronised" (leap 3 / stratum 16) fails time.source at once, while chronyd says Normal', async (t) => {
  t.ok(refusesTime(refusing()));
  t.ok(refusesTime(refusing({}, { leapStatus: 'Normal' })), 'stratum 16 alone');
  t.ok(refusesTime(refusing({}, { stratum: 3 })), 'leap 3 alone');
  t.notOk(refusesTime(refusing({}, { validRx: 0 })), 'no valid packet yet: the fields are placeholders');
  t.notOk(refusesTime(refusing({}, { leapStatus: 'Normal', stratum: 2 })));
  t.notOk(refusesTime({ address: 'x', state: 'selected', reach: 1 }), 'no ntpdata: unknown, not refused');

  const es = run([{ mono: 0 }, { mono: 1000, sources: [refusing()] }, { mono: 2000, sources: [refusing({ state: 'unusable', reach: 0 })] }, { mono: 3000 }]);
  t.same(statuses(es, 'source'), ['ok', 'fail', 'fail', 'ok'], 'fails on the first such packet, clears with the first good one');
  t.same(statuses(es, 'leap'), ['ok', 'ok', 'ok', 'ok'], 'chronyd still says Normal');
  t.same(statuses(es, 'errorBound'), ['ok', 'ok', 'ok', 'ok'], 'the clock itself is still fine');
  t.match(es[1]?.source.detail, /no usable NTP source: 127\.0\.0\.1 \(says unsynchronised: leap Not synchronised, stratum 16\)/);
  t.equal(es[1]?.source.value, null);
});

t.test('one refusing source among usable ones is a warning (chronyd reselects), not a failure', async (t) => {
  const other: TimeSourceFacts = { address: '10.0.0.2', state: 'combined', reach: 0o377, lastRxS: 3 };
  const [, e] = run([{ mono: 0 }, { mono: 1000, sources: [refusing(), other] }]);
  t.equal(e?.source.status, 'warn');
  t.match(e?.source.detail, /127\.0\.0\.1 selected reach 376 \(says unsynchronised/);
  const [, selectedOther] = run([{ mono: 0 }, { mono: 1000, sources: [refusing({ state: 'notCombined' }), { ...other, state: 'selected' }] }]);
  t.equal(selectedOther?.source.status, 'ok');
  t.equal(selectedOther?.source.value, '10.0.0.2');
});

t.test('a refusing upstream at start ends the grace: not synchronised fails at once', async (t) => {
  const es = run([{ mono: 0, tr: UNSYNCED, sources: [refusing({ state: 'unusable', reach: 0, lastRxS: null })] }]);
  t.equal(es[0]?.basis, 'unsynchronised');
  t.same(
    (['leap', 'errorBound', 'offset', 'source', 'refAge'] as const).map((k) => es[0]?.[k].status),
    ['fail', 'fail', 'fail', 'fail', 'fail'],
  );
});

/** Property: through any run of faults and unsynchronised samples after a good one, the bound fails only once the grown bound really reaches failS. */
t.test('property: holdover never fails before the grown bound reaches failS, and always after', async (t) => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 0.99, noNaN: true }),
      fc.double({ min: 0, max: 5000, noNaN: true }),
      fc.array(fc.record({ dtMs: fc.integer({ min: 1, max: 3_600_000 }), fault: fc.boolean() }), { minLength: 1, maxLength: 50 }),
      (disp, skew, steps) => {
        let mono = 0;
        const samples: Sample[] = [{ mono, tr: { systemTimeS: 0, rootDelayS: 0, rootDispersionS: disp, skewPpm: skew } }];
        for (const s of steps) {
          mono += s.dtMs;
          samples.push(s.fault ? { mono, fault: DOWN } : { mono, tr: UNSYNCED });
        }
        const es = run(samples);
        const rate = Math.max(50, skew);
        return es.slice(1).every((e, i) => {
          const grown = disp + (rate * 1e-6 * ((samples[i + 1]?.mono ?? 0) - 0)) / 1000;
          const expected = grown < TH.failS ? 'warn' : 'fail';
          // Exactly at the edge float rounding may go either way.
          return Math.abs(grown - TH.failS) < 1e-9 || e.errorBound.status === expected;
        });
      },
    ),
    { numRuns: 300 },
  );
  t.pass('300 random outages');
});

t.test('wallClockStepMs', async (t) => {
  t.equal(wallClockStepMs({ wallMs: 1000, monoMs: 50 }, { wallMs: 2000, monoMs: 1050 }), 0);
  t.equal(wallClockStepMs({ wallMs: 1000, monoMs: 50 }, { wallMs: 4000, monoMs: 1050 }), 2000, 'stepped forward 2 s');
  t.equal(wallClockStepMs({ wallMs: 1000, monoMs: 50 }, { wallMs: 500, monoMs: 1050 }), -1500, 'stepped back 1.5 s');
});
