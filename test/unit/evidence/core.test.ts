/** The pure evidence core: call assembly, classification, availability, answer times, deviations keys, local days. */
import fc from 'fast-check';
import t from 'tap';
import {
  answerTimes,
  assembleCalls,
  availability,
  backupIntervals,
  type CallMilestone,
  classifyCall,
  dayKey,
  daysOf,
  dayStart,
  deviationKey,
  localTime,
  mergeIntervals,
  outageIntervals,
} from '../../../supervisor/src/core/evidence.js';

const TZ = 'Europe/Oslo';
const T0 = localTime(TZ, 2025, 5, 12, 10, 0); // Monday 12 May 2025 10:00 local (CEST)
const S = 1000;

function ms(callId: string, event: CallMilestone['event'], at: number, extra: Partial<CallMilestone> = {}): CallMilestone {
  return { callId, event, at, code: null, role: null, caller: '4790000001', pai: null, called: '116117', probe: false, ...extra };
}

t.test('local days: DST-aware midnights, day keys, clipping', async (t) => {
  t.equal(new Date(T0).toISOString(), '2025-05-12T08:00:00.000Z', 'CEST is UTC+2');
  t.equal(dayKey(T0, TZ), '2025-05-12');
  t.equal(dayStart('2025-03-30', TZ), Date.UTC(2025, 2, 29, 23), 'midnight before spring-forward is 23:00 UTC');
  t.equal(dayStart('2025-03-31', TZ) - dayStart('2025-03-30', TZ), 23 * 3600 * S, 'the spring-forward day has 23 hours');
  t.equal(dayStart('2025-10-27', TZ) - dayStart('2025-10-26', TZ), 25 * 3600 * S, 'the fall-back day has 25 hours');
  const days = daysOf(T0, T0 + 2 * 86_400_000, TZ);
  t.same(
    days.map((d) => d.key),
    ['2025-05-12', '2025-05-13', '2025-05-14'],
  );
  t.equal(days[0]?.start, T0, 'first day clipped to the period start');
  t.equal(days[2]?.end, T0 + 2 * 86_400_000, 'last day clipped to the period end');
});

t.test('calls are assembled from milestones in any order, duplicates ignored', async (t) => {
  const m = [
    ms('b', 'answered', T0 + 61 * S, { role: 'backup', code: 200 }),
    ms('a', 'ended', T0 + 90 * S),
    ms('a', 'answered', T0 + 5 * S, { role: 'local', code: 200 }),
    ms('a', 'arrived', T0, { pai: '4799999999' }),
    ms('a', 'answered', T0 + 6 * S, { role: 'local', code: 200 }), // a 200 retransmission
    ms('b', 'arrived', T0 + 60 * S),
    ms('c', 'arrived', T0 + 120 * S),
    ms('c', 'answered', T0 + 121 * S, { role: 'announcement', code: 200 }),
    ms('d', 'arrived', T0 + 180 * S),
    ms('d', 'abandoned', T0 + 183 * S, { code: 487 }),
    ms('e', 'arrived', T0 + 240 * S),
    ms('e', 'rejected', T0 + 250 * S, { code: 480 }),
    ms('f', 'arrived', T0 + 300 * S),
    ms('g', 'arrived', T0 + 300 * S - 20 * 60 * S),
    ms('orphan', 'ended', T0),
  ];
  const calls = assembleCalls(m, T0 + 310 * S, 900 * S);
  const by = new Map(calls.map((c) => [c.callId, c]));
  t.equal(calls.length, 7, 'a milestone without its arrival is not a call');
  t.match(
    by.get('a'),
    { outcome: 'answered', answeredBy: 'local', waitMs: 5 * S, endedAt: T0 + 90 * S, callerId: '4799999999' },
    'earliest answer; PAI preferred',
  );
  t.match(by.get('b'), { outcome: 'answered', answeredBy: 'backup', waitMs: 1 * S, callerId: '4790000001' });
  t.match(by.get('c'), { outcome: 'announcement', answeredAt: null, gaveUpAt: T0 + 121 * S, waitMs: 1 * S });
  t.match(by.get('d'), { outcome: 'abandoned', waitMs: 3 * S, finalCode: 487 });
  t.match(by.get('e'), { outcome: 'rejected', waitMs: 10 * S, finalCode: 480 });
  t.match(by.get('f'), { outcome: 'pending', waitMs: null });
  t.match(by.get('g'), { outcome: 'lost', waitMs: 900 * S }, 'no outcome after lostAfter: lost, waited lostAfter');

  const cls = (id: string, short = 10 * S) => classifyCall(by.get(id) as never, { shortAbandonMs: short });
  t.same(cls('a'), { kind: 'served' });
  t.same(cls('c'), { kind: 'unserved', why: 'announcement' });
  t.same(cls('d'), { kind: 'excluded', why: 'shortAbandon' }, '3 s abandon is short with a 10 s limit');
  t.same(cls('d', 2 * S), { kind: 'unserved', why: 'abandoned' }, '… but not with a 2 s limit');
  t.same(cls('e'), { kind: 'unserved', why: 'rejected' });
  t.same(cls('f'), { kind: 'excluded', why: 'pending' });
  t.same(cls('g'), { kind: 'unserved', why: 'lost' });
  const probe = assembleCalls([ms('p', 'arrived', T0, { probe: true }), ms('p', 'answered', T0 + 1, { role: 'local' })], T0 + S, 900 * S)[0];
  t.same(classifyCall(probe as never, { shortAbandonMs: 0 }), { kind: 'excluded', why: 'probe' }, "the box's own test call is not counted");
});

t.test('answer times: share within the limit, longest wait, over max', async (t) => {
  const m = [
    ms('a', 'arrived', T0),
    ms('a', 'answered', T0 + 100 * S, { role: 'local' }),
    ms('b', 'arrived', T0 + S),
    ms('b', 'answered', T0 + S + 400 * S, { role: 'backup' }),
    ms('c', 'arrived', T0 + 2 * S),
    ms('c', 'abandoned', T0 + 2 * S + 700 * S),
    ms('d', 'arrived', T0 + 3 * S),
    ms('d', 'abandoned', T0 + 3 * S + 5 * S),
  ];
  const f = answerTimes(assembleCalls(m, T0 + 3600 * S, 900 * S), { limitMs: 300 * S, targetPercent: 90, maxMs: 600 * S, shortAbandonMs: 10 * S });
  t.match(f, {
    offered: 3,
    served: 2,
    unserved: 1,
    excluded: 1,
    answeredWithinLimit: 1,
    longestWaitMs: 700 * S,
    longestWaitCallId: 'c',
    overMax: 1,
    shareMet: false,
    maxMet: false,
  });
  t.equal(f.sharePercent, (1 / 3) * 100);
  const none = answerTimes([], { limitMs: 1, targetPercent: 90, maxMs: 1, shortAbandonMs: 0 });
  t.match(none, { offered: 0, sharePercent: null, shareMet: null, maxMet: true, longestWaitMs: null });
});

t.test('availability: exact interval counting', async (t) => {
  const B = 60 * S;
  const from = T0;
  const to = T0 + 10 * B;
  const r = availability({
    from,
    to,
    now: to + 1,
    bucketMs: B,
    tz: TZ,
    unservedArrivals: [T0 + 2 * B + 30 * S, T0 + 2 * B + 59_999, T0 + 5 * B],
    outages: [{ from: T0 + 7 * B + 59_999, to: T0 + 8 * B + 1 }],
    observed: [
      { from: T0 - B, to: T0 + 3 * B + 10 * S },
      { from: T0 + 4 * B, to: T0 + 20 * B },
    ],
  });
  // buckets: 0 up, 1 up, 2 down (two calls), 3 unobserved (coverage ends mid-bucket), 4 up,
  // 5 down (call exactly at its start), 6 up, 7 down (outage touches its last ms), 8 down (outage's first ms), 9 up
  t.match(r.total, { buckets: 10, up: 5, down: 4, unobserved: 1, percent: 50 });
  t.equal(r.total.observedPercent, (5 / 9) * 100);
  t.same(
    r.lost.map((l) => [(l.from - T0) / B, (l.to - T0) / B, l.state]),
    [
      [2, 3, 'down'],
      [3, 4, 'unobserved'],
      [5, 6, 'down'],
      [7, 9, 'down'],
    ],
    'lost stretches, consecutive joined',
  );
  const partial = availability({ from, to, now: T0 + 3 * B + 5 * S, bucketMs: B, tz: TZ, unservedArrivals: [], outages: [], observed: [{ from: 0, to: to }] });
  t.equal(partial.total.buckets, 3, 'only intervals already over count');
  const unaligned = availability({
    from: T0 + 30 * S,
    to: T0 + 3 * B,
    now: to,
    bucketMs: B,
    tz: TZ,
    unservedArrivals: [],
    outages: [],
    observed: [{ from: 0, to }],
  });
  t.equal(unaligned.total.buckets, 2, 'an interval only partly inside the period is not counted');
});

t.test('availability over days and DST: per day and month sums, 23-hour day', async (t) => {
  const from = dayStart('2025-03-29', TZ);
  const to = dayStart('2025-04-02', TZ);
  const r = availability({ from, to, now: to, bucketMs: 3600 * S, tz: TZ, unservedArrivals: [], outages: [], observed: [{ from, to }] });
  t.equal(r.byDay.get('2025-03-30')?.buckets, 23, 'the spring-forward day has 23 hourly intervals');
  t.equal(r.byDay.get('2025-03-29')?.buckets, 24);
  t.equal(r.total.buckets, 24 + 23 + 24 + 24);
  t.same([...r.byMonth.keys()], ['2025-03', '2025-04']);
  t.equal(r.byMonth.get('2025-04')?.buckets, 24);
  t.equal(r.total.percent, 100);
});

t.test('availability invariants (property)', async (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 3 * 86_400 - 1 }), { maxLength: 30 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * 86_400 }), fc.integer({ min: 1, max: 7200 })), { maxLength: 5 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 * 86_400 }), fc.integer({ min: 1, max: 86_400 })), { maxLength: 5 }),
      fc.constantFrom(60, 300, 900),
      (calls, outs, obs, bucketS) => {
        const from = dayStart('2025-10-25', TZ);
        const to = from + 3 * 86_400 * S + 3600 * S;
        const r = availability({
          from,
          to,
          now: to,
          bucketMs: bucketS * S,
          tz: TZ,
          unservedArrivals: calls.map((c) => from + c * S),
          outages: outs.map(([a, l]) => ({ from: from + a * S, to: from + (a + l) * S })),
          observed: obs.map(([a, l]) => ({ from: from + a * S, to: from + (a + l) * S })),
        });
        const f = r.total;
        if (f.up + f.down + f.unobserved !== f.buckets) return false;
        if (f.buckets !== (to - from) / (bucketS * S)) return false; // DST day included: every interval counted once
        const sum = [...r.byDay.values()].reduce((s, d) => s + d.buckets, 0);
        if (sum !== f.buckets) return false;
        // Each unserved call makes its own interval down.
        const downs = new Set(calls.map((c) => Math.floor(c / bucketS)));
        return f.down >= downs.size;
      },
    ),
    { numRuns: 200 },
  );
  t.pass('up + down + not observed = all intervals; days sum to the total; every unserved call downs its interval');
});

t.test('outage intervals from samples, clipped to the observed stretch', async (t) => {
  const k = 'telephony.kamailio';
  const out = outageIntervals(
    [
      { key: k, at: T0, status: 'ok' },
      { key: k, at: T0 + 10 * S, status: 'fail' },
      { key: k, at: T0 + 20 * S, status: 'fail' },
      { key: k, at: T0 + 30 * S, status: 'ok' },
      { key: k, at: T0 + 50 * S, status: 'unknown' },
    ],
    [{ from: T0, to: T0 + 60 * S }],
  );
  t.same(out, [
    { from: T0 + 10 * S, to: T0 + 30 * S },
    { from: T0 + 50 * S, to: T0 + 60 * S },
  ]);
  t.same(
    mergeIntervals([
      { from: 5, to: 9 },
      { from: 1, to: 5 },
      { from: 20, to: 20 },
    ]),
    [{ from: 1, to: 9 }],
  );
});

t.test('time on backup from route changes', async (t) => {
  const iv = backupIntervals(
    'local',
    [
      { at: T0 + 10 * S, route: 'backup' },
      { at: T0 + 40 * S, route: 'local' },
      { at: T0 + 90 * S, route: 'backup' },
    ],
    T0,
    T0 + 100 * S,
  );
  t.same(iv, [
    { from: T0 + 10 * S, to: T0 + 40 * S },
    { from: T0 + 90 * S, to: T0 + 100 * S },
  ]);
  t.same(backupIntervals('backup', [], T0, T0 + S), [{ from: T0, to: T0 + S }], 'on backup since before the period');
});

t.test('which events open a deviation, under which key', async (t) => {
  const rules = { ignoreKinds: ['drill.step'], alsoKinds: ['duty.missed'] };
  t.same(deviationKey({ kind: 'route.changed', severity: 'alarm' }, rules, 'backup'), { key: 'route', opens: true });
  t.same(deviationKey({ kind: 'route.changed', severity: 'alarm' }, rules, 'local'), { key: 'route', opens: false }, 'failback joins, never opens');
  t.same(deviationKey({ kind: 'verify.failed', severity: 'alarm', data: { target: 'backup' } }, rules), { key: 'verify.failed:backup', opens: true });
  t.same(deviationKey({ kind: 'signal.status', severity: 'alarm', subsystem: 'time', data: { key: 'time.offset' } }, rules), {
    key: 'signal.status:time.offset',
    opens: true,
  });
  t.same(
    deviationKey({ kind: 'subsystem.status', severity: 'alarm', data: { subsystem: 'time', from: 'ok', to: 'fail' } }, rules),
    {
      key: 'subsystem.status:time',
      opens: true,
    },
    'one deviation per failing subsystem',
  );
  t.equal(deviationKey({ kind: 'drill.step', severity: 'alarm' }, rules), null, 'ignored kinds');
  t.equal(deviationKey({ kind: 'signal.status', severity: 'warn' }, rules), null, 'warnings do not, unless listed');
  t.same(deviationKey({ kind: 'duty.missed', severity: 'warn', data: { key: 'daily-summary' } }, rules), { key: 'duty.missed:daily-summary', opens: true });
});
