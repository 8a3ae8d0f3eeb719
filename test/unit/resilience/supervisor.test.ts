/**
 * The decision loop with a store whose insertDecision fails with SQLITE_FULL: the route
 * still moves (reconciler told, actuator applied), `store.unwritable` is raised on the
 * live channel, and once the store writes again the decision lands with its real id —
 * and the route.changed event and the actuator's records refer to that id.
 */
import t from 'tap';
import { defaultHealthRules } from '../../../supervisor/src/core/health.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import type { Clock, Monitor, SignalSink } from '../../../supervisor/src/monitors/monitor.js';
import type { RouteActuator, RouteTarget } from '../../../supervisor/src/reconcilers/actuator.js';
import { Reconciler } from '../../../supervisor/src/reconcilers/reconciler.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { Store } from '../../../supervisor/src/store/store.js';
import { type LiveMessage, Supervisor } from '../../../supervisor/src/supervisor.js';
import { waitFor } from '../../helpers/util.js';
import { recordingLog, sqliteFull } from './fakes.js';

class FakeActuator implements RouteActuator {
  readonly name = 'fake';
  state: RouteTarget | 'unknown' = 'local';
  applies: RouteTarget[] = [];
  async apply(target: RouteTarget) {
    this.applies.push(target);
    this.state = target;
  }
  async observe() {
    return this.state;
  }
}

/** A monitor the test speaks through. */
class HandMonitor implements Monitor {
  readonly name = 'hand';
  emit: SignalSink | null = null;
  async start(emit: SignalSink) {
    this.emit = emit;
  }
  async stop() {
    this.emit = null;
  }
}

const clock: Clock = { now: () => Date.now(), monotonic: () => performance.now() };

const power = (key: string, status: Signal['status'], value: Signal['value']): Signal => ({
  subsystem: 'power',
  source: 'ups1',
  key,
  status,
  value,
  observedAt: clock.now(),
  ttlMs: 60_000,
});

t.test('store full: the route still moves, store.unwritable is live, the decision lands with its real id later', async (t) => {
  const store = new Store(openDb(':memory:'));
  t.teardown(() => store.close());
  let full = false;
  const insertDecision = store.insertDecision.bind(store);
  let refused = 0;
  store.insertDecision = (d, s) => {
    if (full) {
      refused++;
      throw sqliteFull();
    }
    return insertDecision(d, s);
  };

  const { log, lines } = recordingLog();
  const actuator = new FakeActuator();
  const ref: { sup: Supervisor | null } = { sup: null };
  const reconciler = new Reconciler(actuator, {
    retryInitialMs: 10,
    retryMaxMs: 50,
    driftCheckMs: 1000,
    now: clock.now,
    // As app.ts wires it: through the supervisor's journal.
    record: (r) =>
      ref.sup?.journal.action({ at: clock.now(), decisionId: r.decisionId, actuator: r.actuator, kind: r.kind, target: r.target, ok: r.ok, detail: r.detail }),
  });
  const targets: Array<[RouteTarget, number | null]> = [];
  const setTarget = reconciler.setTarget.bind(reconciler);
  reconciler.setTarget = (target, id) => {
    targets.push([target, id]);
    setTarget(target, id);
  };
  const monitor = new HandMonitor();
  const sup = new Supervisor({
    box: 'unit-box',
    store,
    clock,
    log,
    monitors: [monitor],
    reconcilers: [reconciler],
    policy: { monitored: ['power'], failoverOn: ['power'], failbackHoldMs: 60_000, holdDownMs: 0 },
    rules: defaultHealthRules,
    tickMs: 50,
  });
  ref.sup = sup;
  const live: LiveMessage[] = [];
  sup.on('live', (m) => live.push(m));
  await sup.start();
  t.teardown(() => sup.stop());

  monitor.emit?.(power('power.ups1.fsd', 'ok', false));
  await waitFor(() => sup.snapshot().mode === 'normal', { timeoutMs: 5000, what: 'normal on local' });
  await waitFor(() => reconciler.status().converged, { timeoutMs: 5000, what: 'local converged' });
  const before = store.decisions({ limit: 100 }).length;
  t.equal(sup.route, 'local');

  // The data disk fills up; then the UPS signals forced shutdown.
  full = true;
  const i0 = live.length;
  monitor.emit?.(power('power.ups1.fsd', 'fail', true));

  t.equal(sup.route, 'backup', 'the route moved at once');
  t.ok(refused >= 1, 'the store refused the decision');
  const decisionMsg = live.slice(i0).find((m) => m.type === 'decision' && m.decision.routeChanged);
  const provisional = decisionMsg?.type === 'decision' ? decisionMsg.decision.id : 0;
  t.ok(provisional < 0, `live decision has a provisional id (${provisional})`);
  t.ok(
    targets.some(([target, id]) => target === 'backup' && id === provisional),
    'the reconciler was told backup, with the provisional id',
  );
  const unwritable = live.slice(i0).filter((m) => m.type === 'event' && m.event.kind === 'store.unwritable');
  t.equal(unwritable.length, 1, 'store.unwritable raised once on the live channel');
  const ev = unwritable[0];
  t.equal(ev?.type === 'event' && ev.event.severity, 'alarm');
  t.match(ev?.type === 'event' ? ev.event.en : '', /database or disk is full/);
  await waitFor(() => actuator.state === 'backup', { timeoutMs: 5000, what: 'the actuator moved to backup' });
  t.equal(sup.snapshot().signals.find((s) => s.key === 'system.store')?.status, 'fail', 'system.store fails');
  t.ok(
    lines.some((l) => l.level === 'error' && /the store cannot write/.test(l.msg)),
    'logged',
  );

  // Ticks go on while full: still one alarm, nothing in the store yet.
  await new Promise((r) => setTimeout(r, 200));
  t.equal(store.decisions({ limit: 100 }).length, before, 'the decision is not in the store while it is full');
  t.equal(live.filter((m) => m.type === 'event' && m.event.kind === 'store.unwritable').length, 1, 'no repeated alarm per tick');

  // Space returns: the next tick writes what waited.
  const i1 = live.length;
  full = false;
  await waitFor(() => store.lastDecision()?.route === 'backup', { timeoutMs: 10_000, what: 'the decision in the store' });
  await waitFor(() => live.slice(i1).some((m) => m.type === 'event' && m.event.kind === 'store.recovered'), { timeoutMs: 10_000, what: 'store.recovered' });
  const stored = store.decisions({ limit: 100 }).find((d) => d.routeChanged && d.route === 'backup');
  t.ok(stored && stored.id > 0, `stored with a real id (${stored?.id})`);
  t.equal(sup.journal.realId(provisional), stored?.id, 'the journal maps the provisional id to it');
  const changed = store.events({ limit: 100, kind: 'route.changed' })[0];
  t.equal((changed?.data as { decisionId?: number } | null)?.decisionId, stored?.id, 'route.changed refers to the real id');
  t.equal(store.events({ limit: 100, kind: 'store.unwritable' }).length, 1, 'the alarm itself was kept and written');
  await waitFor(() => store.actions({ limit: 100 }).some((a) => a.target === 'backup'), { timeoutMs: 10_000, what: 'the apply action' });
  const backupActions = store.actions({ limit: 100 }).filter((a) => a.target === 'backup');
  t.ok(
    backupActions.every((a) => a.decisionId === stored?.id),
    `the actuator's records refer to the real id (${backupActions.map((a) => a.decisionId).join(',')})`,
  );
  // Order kept: the decision was written before the alarm and the route.changed event behind it.
  const unwritableRow = store.events({ limit: 100, kind: 'store.unwritable' })[0];
  t.ok((unwritableRow?.id ?? 0) < (changed?.id ?? 0), 'store.unwritable before route.changed, as they happened');
  await waitFor(() => sup.snapshot().signals.find((s) => s.key === 'system.store')?.status === 'ok', {
    timeoutMs: 10_000,
    what: 'system.store ok again',
  });
  t.equal(sup.route, 'backup');
});
