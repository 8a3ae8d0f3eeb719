import fc from 'fast-check';
import t from 'tap';
import { evaluateHealth, type Health } from '../../../supervisor/src/core/health.js';
import { initialPolicyState, type PolicyConfig, type PolicyState, step } from '../../../supervisor/src/core/policy.js';
import type { Signal, SignalStatus } from '../../../supervisor/src/core/signal.js';
import { SignalTable } from '../../../supervisor/src/core/signalTable.js';

const cfg: PolicyConfig = {
  monitored: ['power', 'time', 'wan', 'centres'],
  failoverOn: ['power', 'wan', 'centres'],
  failbackHoldMs: 60_000,
  holdDownMs: 20_000,
};

// Weighted towards healthy: failback needs long healthy stretches, and the
// interesting bugs (flapping) happen when faults come and go around them.
const statusArb = fc.oneof(
  { weight: 12, arbitrary: fc.constant<SignalStatus>('ok') },
  { weight: 1, arbitrary: fc.constant<SignalStatus>('warn') },
  { weight: 2, arbitrary: fc.constant<SignalStatus>('fail') },
  { weight: 1, arbitrary: fc.constant<SignalStatus>('unknown') },
);

/** One moment of the world: a status for a few representative signals. */
const worldArb = fc.record({
  wan1: statusArb,
  wan2: statusArb,
  localVia1: statusArb,
  localVia2: statusArb,
  power: statusArb,
  time: statusArb,
  shutdown: fc.oneof({ weight: 20, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  dtMs: fc.integer({ min: 50, max: 30_000 }),
});
type World = typeof worldArb extends fc.Arbitrary<infer W> ? W : never;

function signalsOf(w: World, now: number): Signal[] {
  const s = (subsystem: Signal['subsystem'], key: string, status: SignalStatus, value: Signal['value'] = null): Signal => ({
    subsystem,
    source: 'test',
    key,
    status,
    value,
    observedAt: now,
    ttlMs: 60_000,
  });
  return [
    s('wan', 'wan.wan1.state', w.wan1),
    s('wan', 'wan.wan2.state', w.wan2),
    s('centres', 'centres.local.wan1', w.localVia1),
    s('centres', 'centres.local.wan2', w.localVia2),
    s('power', 'power.ups1.fsd', w.power, w.power === 'fail'),
    s('time', 'time.errorBound', w.time, 0.1),
    s('system', 'system.shutdown', w.shutdown ? 'warn' : 'ok', w.shutdown),
  ];
}

interface Trace {
  at: number;
  state: PolicyState;
  health: Health;
  routeChanged: boolean;
}

function run(worlds: World[], startRoute: 'local' | 'backup' = 'local', override?: PolicyState['override']): Trace[] {
  let now = 1_000_000;
  let state: PolicyState = initialPolicyState(now, { route: startRoute, routeSince: now - 3_600_000, mode: 'normal', override: override ?? null });
  const table = new SignalTable();
  const out: Trace[] = [];
  for (const w of worlds) {
    now += w.dtMs;
    for (const sig of signalsOf(w, now)) table.apply(sig);
    const health = evaluateHealth(table.effective(now), now);
    const r = step(state, health, now, cfg);
    out.push({ at: now, state: r.state, health, routeChanged: r.state.route !== state.route });
    state = r.state;
  }
  return out;
}

t.test('unknown is never healthy: never normal, and never fail back, while a trigger is unknown', async (t) => {
  fc.assert(
    fc.property(fc.array(worldArb, { minLength: 1, maxLength: 60 }), fc.constantFrom<'local' | 'backup'>('local', 'backup'), (worlds, start) => {
      const trace = run(worlds, start);
      for (const x of trace) {
        const anyUnknown = Object.values(x.health.subsystems).some((h) => cfg.monitored.includes(h.subsystem) && h.status === 'unknown');
        if (anyUnknown && x.state.mode === 'normal') return false;
        const triggerUnknown = cfg.failoverOn.some((s) => x.health.subsystems[s].status === 'unknown');
        if (triggerUnknown && x.routeChanged && x.state.route === 'local') return false;
      }
      return true;
    }),
    { numRuns: 1000 },
  );
  t.pass('property held for 400 random histories');
});

t.test('flapping input never changes the route more than once per hold-down (floor excepted)', async (t) => {
  fc.assert(
    fc.property(fc.array(worldArb, { minLength: 2, maxLength: 80 }), (worlds) => {
      const trace = run(worlds);
      let lastChange: number | null = null;
      for (const x of trace) {
        if (!x.routeChanged) continue;
        const byFloor = x.health.floor.length > 0 && x.state.route === 'backup';
        if (lastChange !== null && x.at - lastChange < cfg.holdDownMs && !byFloor) return false;
        lastChange = x.at;
      }
      return true;
    }),
    { numRuns: 1000 },
  );
  t.pass('property held for 400 random histories');
});

t.test('failback only after every trigger has been known-good for the hold time', async (t) => {
  fc.assert(
    fc.property(fc.array(worldArb, { minLength: 2, maxLength: 80 }), (worlds) => {
      const trace = run(worlds, 'backup');
      for (let i = 0; i < trace.length; i++) {
        const x = trace[i] as Trace;
        if (!(x.routeChanged && x.state.route === 'local')) continue;
        // Walk back: every trace point within failbackHold before must have been known-good.
        for (let j = i; j >= 0; j--) {
          const y = trace[j] as Trace;
          if (x.at - y.at > cfg.failbackHoldMs) break;
          const good = cfg.failoverOn.every((s) => ['ok', 'warn'].includes(y.health.subsystems[s].status)) && y.health.floor.length === 0;
          if (!good) return false;
        }
      }
      return true;
    }),
    { numRuns: 1000 },
  );
  t.pass('property held');
});

t.test('an override wins until it expires; the safety floor always wins', async (t) => {
  fc.assert(
    fc.property(
      fc.array(worldArb, { minLength: 1, maxLength: 50 }),
      fc.constantFrom<'local' | 'backup'>('local', 'backup'),
      fc.integer({ min: 1_000, max: 200_000 }),
      (worlds, route, lenMs) => {
        const start = 1_000_000;
        const override = { route, until: start + lenMs, by: 'tester', reason: 'drill', setAt: start };
        const trace = run(worlds, 'local', override);
        for (const x of trace) {
          if (x.health.floor.length > 0) {
            if (x.state.route !== 'backup') return false;
          } else if (x.at < override.until) {
            if (x.state.route !== route || x.state.mode !== 'maintenance') return false;
          } else if (x.state.mode === 'maintenance') return false;
        }
        return true;
      },
    ),
    { numRuns: 1000 },
  );
  t.pass('property held');
});

t.test('fails over at once on a trigger and records the reason', async (t) => {
  const now = 5_000_000;
  const state = initialPolicyState(now - 100_000, { route: 'local', routeSince: now - 100_000, mode: 'normal', override: null });
  const table = new SignalTable();
  for (const s of signalsOf({ wan1: 'fail', wan2: 'fail', localVia1: 'ok', localVia2: 'ok', power: 'ok', time: 'ok', shutdown: false, dtMs: 0 }, now))
    table.apply(s);
  const r = step(state, evaluateHealth(table.effective(now), now), now, cfg);
  t.equal(r.state.route, 'backup');
  t.equal(r.state.mode, 'failover');
  t.ok(r.decision?.routeChanged);
  t.ok(
    r.decision?.reasons.some((x) => x.code === 'wan.allLinksDown'),
    'reason names all WAN links down',
  );
  t.match(r.decision?.reasons[0]?.nb ?? '', /WAN/, 'Norwegian text present');
});

t.test('recovering then failback after the hold; hold-down blocks an immediate re-failover', async (t) => {
  let now = 10_000_000;
  let state = initialPolicyState(now, { route: 'backup', routeSince: now, mode: 'failover', override: null });
  const table = new SignalTable();
  const feed = (w: Partial<World>) => {
    for (const s of signalsOf({ wan1: 'ok', wan2: 'ok', localVia1: 'ok', localVia2: 'ok', power: 'ok', time: 'ok', shutdown: false, dtMs: 0, ...w }, now))
      table.apply(s);
    const r = step(state, evaluateHealth(table.effective(now), now), now, cfg);
    state = r.state;
    return r;
  };
  feed({});
  t.equal(state.mode, 'recovering');
  now += cfg.failbackHoldMs - 1;
  feed({});
  t.equal(state.route, 'backup', 'not yet: one ms short of the hold');
  now += 1;
  const back = feed({});
  t.equal(state.route, 'local', 'fails back at the hold');
  t.ok(back.decision?.routeChanged);
  now += 1000;
  feed({ wan1: 'fail', wan2: 'fail' });
  t.equal(state.route, 'local', 'hold-down keeps the route for now');
  t.ok(state.mode === 'degraded');
  now += cfg.holdDownMs;
  feed({ wan1: 'fail', wan2: 'fail' });
  t.equal(state.route, 'backup', 'fails over once the hold-down has passed');
});

t.test('a stale signal turns unknown and blocks failback', async (t) => {
  let now = 1_000;
  const table = new SignalTable();
  table.apply({ subsystem: 'wan', source: 't', key: 'wan.wan1.state', status: 'ok', value: 'up', observedAt: now, ttlMs: 1000 });
  t.equal(table.effective(now)[0]?.status, 'ok');
  now += 1001;
  const eff = table.effective(now)[0];
  t.equal(eff?.status, 'unknown');
  t.ok(eff?.stale);
  t.match(eff?.detail ?? '', /no update/);
});

t.test('a link flapping up and down at random never moves the route faster than the hold-down', async (t) => {
  const healthy: World = { wan1: 'ok', wan2: 'ok', localVia1: 'ok', localVia2: 'ok', power: 'ok', time: 'ok', shutdown: false, dtMs: 0 };
  const flapArb = fc.array(fc.record({ fault: fc.boolean(), dtMs: fc.integer({ min: 100, max: 70_000 }) }), { minLength: 5, maxLength: 120 });
  let changesSeen = 0;
  fc.assert(
    fc.property(flapArb, (flaps) => {
      const worlds = flaps.map((f) => ({ ...healthy, dtMs: f.dtMs, ...(f.fault ? { wan1: 'fail' as const, wan2: 'fail' as const } : {}) }));
      const trace = run(worlds);
      let lastChange: number | null = null;
      for (const x of trace) {
        if (!x.routeChanged) continue;
        changesSeen++;
        if (lastChange !== null && x.at - lastChange < cfg.holdDownMs) return false;
        lastChange = x.at;
      }
      return true;
    }),
    { numRuns: 1000 },
  );
  t.ok(changesSeen > 100, `the generator really flaps the route (${changesSeen} changes seen)`);
});
