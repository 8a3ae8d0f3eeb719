import fc from 'fast-check';
import t from 'tap';
import { builtinOpinion, combineProposals, type FlowProposal, type FlowVerdict, flowStep } from '../../../supervisor/src/core/flowDecision.js';
import { evaluateHealth, type Health } from '../../../supervisor/src/core/health.js';
import { initialPolicyState, type PolicyConfig, type PolicyState, step } from '../../../supervisor/src/core/policy.js';
import type { Signal, SignalStatus, Subsystem } from '../../../supervisor/src/core/signal.js';
import { SignalTable } from '../../../supervisor/src/core/signalTable.js';

const cfg: PolicyConfig = {
  monitored: ['power', 'wan', 'centres', 'recording'],
  failoverOn: ['power', 'wan', 'centres'],
  failbackHoldMs: 60_000,
  holdDownMs: 20_000,
};

function healthOf(now: number, set: Record<string, SignalStatus>): Health {
  const table = new SignalTable();
  const base: Record<string, SignalStatus> = {
    'power.ups1.mains': 'ok',
    'wan.wan1.state': 'ok',
    'wan.wan2.state': 'ok',
    'centres.local.lan': 'ok',
    'centres.local.wan1': 'ok',
    'recording.rtpengine': 'ok',
    'system.shutdown': 'ok',
    ...set,
  };
  for (const [key, status] of Object.entries(base)) {
    const value = key === 'system.shutdown' ? status !== 'ok' : status === 'ok';
    const s: Signal = {
      subsystem: key.split('.')[0] as Subsystem,
      source: 't',
      key,
      status: key === 'system.shutdown' ? 'ok' : status,
      value,
      observedAt: now,
      ttlMs: 60_000,
    };
    table.apply(s);
  }
  return evaluateHealth(table.effective(now), now);
}

const p = (route: FlowProposal['route'], tab = 't1', en = `go ${route}`): FlowProposal => ({ tab, node: `${tab}-n`, route, en, nb: en });
const flows = (...ps: FlowProposal[]): FlowVerdict => ({ kind: 'proposals', proposals: ps, by: 'flows:v7' });
const T0 = 1_000_000_000;

t.test('combineProposals: backup beats local beats builtin', async (t) => {
  t.equal(combineProposals([]).route, 'builtin');
  t.equal(combineProposals([p('builtin'), p('local', 't2')]).route, 'local');
  const c = combineProposals([p('local'), p('backup', 't2'), p('builtin', 't3'), p('backup', 't4')]);
  t.equal(c.route, 'backup');
  t.same(
    c.decisive.map((x) => x.tab),
    ['t2', 't4'],
  );
});

t.test('a flow keeps calls local on WAN loss; the built-in policy would fail over', async (t) => {
  const st = initialPolicyState(T0, { route: 'local', mode: 'normal', override: null, routeSince: T0 - 3_600_000 });
  const h = healthOf(T0, { 'wan.wan1.state': 'fail', 'wan.wan2.state': 'fail' });
  t.equal(builtinOpinion(st, h, T0, cfg).route, 'backup', 'built-in opinion: backup');
  const r = flowStep(st, h, T0, cfg, flows(p('local', 't1', 'analog lines')));
  t.equal(r.decision?.route, 'local');
  t.equal(r.decision?.mode, 'degraded', 'local with a known problem');
  t.equal(r.decision?.decidedBy, 'flows:v7');
  t.equal(r.decision?.reasons[0]?.code, 'flows.proposal');
  t.match(r.decision?.reasons[0]?.en, /analog lines/);
  t.ok(
    r.decision?.reasons.some((x) => x.code === 'wan.allLinksDown'),
    'the facts stay in the reasons',
  );
  t.notOk(
    r.decision?.reasons.some((x) => x.subsystem === 'policy'),
    'but not the built-in policy words that disagree',
  );
  t.equal(r.builtin.route, 'backup');
  const again = flowStep(r.state, h, T0 + 100, cfg, flows(p('local', 't1', 'analog lines')));
  t.equal(again.decision, null, 'nothing new: no decision');
});

t.test('the safety floor and a manual override win over the flows', async (t) => {
  const st = initialPolicyState(T0, { route: 'local', mode: 'normal', override: null, routeSince: T0 - 3_600_000 });
  const floor = healthOf(T0, { 'centres.local.lan': 'fail', 'centres.local.wan1': 'fail' });
  t.ok(floor.floor.length > 0);
  const r = flowStep(st, floor, T0, cfg, flows(p('local')));
  t.equal(r.decision?.route, 'backup', 'floor → backup');
  t.equal(r.decision?.decidedBy, 'builtin');
  const pend = flowStep(st, floor, T0, cfg, { kind: 'pending' });
  t.equal(pend.decision?.route, 'backup', 'the floor never waits for a flow answer');

  const ov = { ...st, override: { route: 'backup' as const, until: T0 + 60_000, by: 'ola', reason: 'test', setAt: T0 } };
  const o = flowStep(ov, healthOf(T0, {}), T0, cfg, flows(p('local')));
  t.equal(o.decision?.route, 'backup');
  t.equal(o.decision?.mode, 'maintenance');
});

t.test('unavailable flows: the built-in decision, with a reason', async (t) => {
  const st = initialPolicyState(T0, { route: 'local', mode: 'normal', override: null, routeSince: T0 - 3_600_000 });
  const h = healthOf(T0, { 'wan.wan1.state': 'fail', 'wan.wan2.state': 'fail' });
  const r = flowStep(st, h, T0, cfg, { kind: 'unavailable', code: 'flows.stopped', en: 'stopped', nb: 'stoppet' });
  const b = step(st, h, T0, cfg);
  t.equal(r.decision?.route, b.decision?.route);
  t.equal(r.decision?.mode, b.decision?.mode);
  t.equal(r.decision?.decidedBy, 'builtin');
  t.equal(r.decision?.reasons.at(-1)?.code, 'flows.stopped');
});

t.test('pending: the route in force is kept, nothing decided', async (t) => {
  const st = initialPolicyState(T0, { route: 'local', mode: 'normal', override: null, routeSince: T0 - 3_600_000 });
  const h = healthOf(T0, { 'wan.wan1.state': 'fail', 'wan.wan2.state': 'fail' });
  const r = flowStep(st, h, T0, cfg, { kind: 'pending' });
  t.equal(r.decision, null);
  t.equal(r.state.route, 'local');
  t.equal(r.state.mode, st.mode);
});

t.test('flows cannot flap the route faster than the hold-down', async (t) => {
  const st = initialPolicyState(T0, { route: 'backup', mode: 'failover', override: null, routeSince: T0 - 5_000 });
  const h = healthOf(T0, {});
  const r = flowStep(st, h, T0, cfg, flows(p('local')));
  t.equal(r.state.route, 'backup', 'held');
  t.ok(
    r.decision?.reasons.some((x) => x.code === 'policy.holdDown'),
    'says why',
  );
  const later = flowStep(r.state, h, T0 + 15_001, cfg, flows(p('local')));
  t.equal(later.state.route, 'local', 'after the hold-down');
  t.equal(later.decision?.routeChanged, true);
});

t.test('proposal "builtin" defers to the built-in policy', async (t) => {
  const st = initialPolicyState(T0, { route: 'local', mode: 'normal', override: null, routeSince: T0 - 3_600_000 });
  const h = healthOf(T0, { 'wan.wan1.state': 'fail', 'wan.wan2.state': 'fail' });
  const r = flowStep(st, h, T0, cfg, flows(p('builtin')));
  t.equal(r.decision?.route, 'backup');
  t.equal(r.decision?.decidedBy, 'builtin');
});

const worldArb = fc.record({
  wan1: fc.constantFrom<SignalStatus>('ok', 'fail', 'unknown'),
  wan2: fc.constantFrom<SignalStatus>('ok', 'fail'),
  local: fc.constantFrom<SignalStatus>('ok', 'ok', 'ok', 'fail'),
  power: fc.constantFrom<SignalStatus>('ok', 'ok', 'fail'),
  verdict: fc.oneof(
    fc.constant<FlowVerdict>({ kind: 'pending' }),
    fc.constant<FlowVerdict>({ kind: 'unavailable', code: 'flows.late', en: 'late', nb: 'sen' }),
    fc.constantFrom('local', 'backup', 'builtin').map((r) => flows(p(r as FlowProposal['route'])) as FlowVerdict),
  ),
  dtMs: fc.integer({ min: 10, max: 30_000 }),
});

t.test('properties over random sequences', async (t) => {
  fc.assert(
    fc.property(fc.array(worldArb, { minLength: 1, maxLength: 60 }), (worlds) => {
      let now = T0;
      let st: PolicyState = initialPolicyState(now);
      let lastChange = Number.NEGATIVE_INFINITY;
      for (const w of worlds) {
        now += w.dtMs;
        const h = healthOf(now, {
          'wan.wan1.state': w.wan1,
          'wan.wan2.state': w.wan2,
          'centres.local.lan': w.local,
          'centres.local.wan1': w.local,
          'power.ups1.mains': w.power,
        });
        const r = flowStep(st, h, now, cfg, w.verdict);
        // 1. The safety floor always ends on backup.
        if (h.floor.length > 0 && r.state.route !== 'backup') return false;
        // 2. Without the floor, the route never changes faster than the hold-down.
        if (r.state.route !== st.route) {
          if (h.floor.length === 0 && now - lastChange < cfg.holdDownMs && Number.isFinite(lastChange)) return false;
          lastChange = now;
        }
        // 3. Unavailable flows decide exactly like the built-in policy.
        if (w.verdict.kind === 'unavailable' && r.state.route !== step(st, h, now, cfg).state.route) return false;
        // 4. Pending changes nothing unless the floor applies.
        if (w.verdict.kind === 'pending' && h.floor.length === 0 && !r.builtin.override && r.state.route !== st.route) return false;
        st = r.state;
      }
      return true;
    }),
    { numRuns: 300 },
  );
  t.pass('floor wins, hold-down holds, unavailable = built-in, pending keeps the route');
});
