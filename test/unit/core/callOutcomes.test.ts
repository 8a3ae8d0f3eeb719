/**
 * What the calls say about a centre (core/callOutcomes.ts), how health folds it
 * (core/health.ts: failing calls = local unreachable, safety floor) and how the
 * policy decides on it, and the parser of Kamailio's `htable.dump`.
 */
import t from 'tap';
import { type CallOutcomeState, type CentreCallCounts, initialCallOutcomeState, judgeCentreCalls } from '../../../supervisor/src/core/callOutcomes.js';
import { evaluateHealth, LOCAL_CALLS_SIGNAL } from '../../../supervisor/src/core/health.js';
import { initialPolicyState, type PolicyConfig, step } from '../../../supervisor/src/core/policy.js';
import type { Signal, SignalStatus } from '../../../supervisor/src/core/signal.js';
import { SignalTable } from '../../../supervisor/src/core/signalTable.js';
import { centreCallCounts } from '../../../supervisor/src/monitors/callOutcomeMonitor.js';

const rules = { failAfter: 3, quietClearMs: 120_000 };
const counts = (failed: number, taken: number, streak: number, lastCode: number | null = null): CentreCallCounts => ({ failed, taken, streak, lastCode });

t.test('judge: no calls yet, calls taken, a short streak → ok; failAfter in a row → fail', async (t) => {
  let s: CallOutcomeState = initialCallOutcomeState;
  const look = (c: CentreCallCounts, now: number) => {
    const j = judgeCentreCalls(s, c, now, rules);
    s = j.state;
    return j;
  };
  t.equal(look(counts(0, 0, 0), 0).status, 'ok', 'a quiet night says nothing bad');
  t.equal(look(counts(0, 5, 0), 1000).status, 'ok', 'calls taken');
  t.equal(look(counts(2, 5, 2, 503), 2000).status, 'ok', 'two in a row: not yet');
  const j = look(counts(3, 5, 3, 503), 3000);
  t.equal(j.status, 'fail', 'three in a row: the centre is not taking calls');
  t.equal(j.streak, 3);
  t.match(j.detail, /last 3 calls .* failed, the last answered 503/);
  t.equal(look(counts(3, 6, 0, 503), 4000).status, 'ok', 'a call taken ends the streak');
});

t.test('judge: a failure older than quietClearMs stops counting (no calls reach a centre the box moved away from)', async (t) => {
  let s = judgeCentreCalls(initialCallOutcomeState, counts(4, 0, 4, 408), 10_000, rules).state;
  t.equal(judgeCentreCalls(s, counts(4, 0, 4, 408), 10_000 + 119_000, rules).status, 'fail', 'still failing just before');
  const cleared = judgeCentreCalls(s, counts(4, 0, 4, 408), 10_000 + 120_000, rules);
  t.equal(cleared.status, 'ok', 'judged by its probes again');
  t.match(cleared.detail, /none for 120 s/);
  s = cleared.state;
  t.equal(
    judgeCentreCalls(s, counts(5, 0, 5, 408), 200_000, rules).status,
    'fail',
    'the next failed call (the verification call after failback) fails it again at once',
  );
});

t.test('judge: pending failures at the first look count from then; a restarted Kamailio starts over', async (t) => {
  const first = judgeCentreCalls(initialCallOutcomeState, counts(7, 1, 3, 408), 50_000, rules);
  t.equal(first.status, 'fail', 'a streak found at start-up fails');
  t.equal(judgeCentreCalls(first.state, counts(7, 1, 3, 408), 50_000 + 121_000, rules).status, 'ok', '… and clears like any other');
  const restarted = judgeCentreCalls(first.state, counts(0, 0, 0), 51_000, rules);
  t.equal(restarted.status, 'ok', 'counters reset by a Kamailio restart');
});

const policy: PolicyConfig = { monitored: ['centres'], failoverOn: ['centres'], failbackHoldMs: 60_000, holdDownMs: 20_000 };

function healthWith(local: SignalStatus, calls: SignalStatus | null, now = 1000) {
  const table = new SignalTable();
  const sig = (key: string, status: SignalStatus, value: Signal['value'] = null): Signal => ({
    subsystem: 'centres',
    source: 'test',
    key,
    status,
    value,
    observedAt: now,
    ttlMs: 60_000,
  });
  table.apply(sig('centres.local.wan1', local));
  table.apply(sig('centres.backup.wan1', 'ok'));
  if (calls) table.apply(sig(LOCAL_CALLS_SIGNAL, calls, 4));
  return evaluateHealth(table.effective(now), now);
}

t.test('health: calls failing at a centre whose probes are ok → centres fail, safety floor, reason in nb and en', async (t) => {
  const h = healthWith('ok', 'fail');
  t.equal(h.subsystems.centres.status, 'fail');
  t.same(
    h.floor.map((r) => r.code),
    ['centres.localCallsFailing'],
  );
  const r = h.floor[0];
  t.match(r?.en, /not taking calls: its last 4 calls/);
  t.match(r?.nb, /tar ikke imot anrop: de 4 siste anropene/);
  t.not(r?.nb, r?.en, 'Norwegian is not the English text');
});

t.test('health: calls ok, or unknown (Kamailio down: telephony says so), change nothing', async (t) => {
  t.equal(healthWith('ok', 'ok').subsystems.centres.status, 'ok');
  t.same(healthWith('ok', 'ok').floor, []);
  t.equal(healthWith('ok', 'unknown').subsystems.centres.status, 'ok', 'unknown calls signal is not folded');
  t.equal(healthWith('ok', null).subsystems.centres.status, 'ok', 'no calls signal at all (no Kamailio on the box)');
});

t.test('policy: failing calls move the route to backup at once, as an unreachable centre does', async (t) => {
  const now = 1000;
  const state = { ...initialPolicyState(0), mode: 'normal' as const, route: 'local' as const, healthySince: 0 };
  const r = step(state, healthWith('ok', 'fail', now), now, policy);
  t.equal(r.decision?.route ?? r.state.route, 'backup');
  t.ok(
    r.decision?.reasons.some((x) => x.code === 'centres.localCallsFailing'),
    'the decision names the failing calls',
  );
  const unreachable = step(state, healthWith('fail', null, now), now, policy);
  t.equal(unreachable.decision?.mode, r.decision?.mode, 'the same mode as for a centre unreachable on every path');
});

t.test("htable.dump → one role's counters; keys Kamailio has not written are 0", async (t) => {
  const dump = [
    { entry: 1, size: 1, slot: [{ name: 'local::streak', value: 3, type: 'int' }] },
    {
      entry: 3,
      size: 2,
      slot: [
        { name: 'local::code', value: 408, type: 'int' },
        { name: 'local::failed', value: 5, type: 'int' },
      ],
    },
    { entry: 8, size: 1, slot: [{ name: 'backup::taken', value: 9, type: 'int' }] },
  ];
  t.same(centreCallCounts(dump, 'local'), { failed: 5, taken: 0, streak: 3, lastCode: 408 });
  t.same(centreCallCounts(dump, 'backup'), { failed: 0, taken: 9, streak: 0, lastCode: null });
  t.same(centreCallCounts([], 'local'), { failed: 0, taken: 0, streak: 0, lastCode: null }, 'empty table: no calls since Kamailio started');
  t.throws(() => centreCallCounts({ error: 'x' }, 'local'), /expected a list of slots/);
});
