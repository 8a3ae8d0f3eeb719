import t from 'tap';
import { evaluateHealth } from '../../../supervisor/src/core/health.js';
import type { Signal, SignalStatus, Subsystem } from '../../../supervisor/src/core/signal.js';
import { SignalTable } from '../../../supervisor/src/core/signalTable.js';
import { decisionInputKey, type EvalContext, EvalInputBuilder } from '../../../supervisor/src/flows/evalInput.js';

const T0 = 1_700_000_000_000;
function ctx(seq: number, at: number, set: Record<string, [SignalStatus, Signal['value']]>): EvalContext {
  const table = new SignalTable();
  for (const [key, [status, value]] of Object.entries(set))
    table.apply({ subsystem: key.split('.')[0] as Subsystem, source: 't', key, status, value, observedAt: at, ttlMs: 60_000 });
  const signals = table.effective(at);
  const health = evaluateHealth(signals, at);
  return {
    seq,
    at,
    signals,
    health,
    builtin: { route: 'local', mode: 'normal', reasons: [] },
    applied: { route: 'local', mode: 'normal', since: Number.NEGATIVE_INFINITY },
  };
}

t.test('changed and statusChanged are relative to the previous committed input', async (t) => {
  const b = new EvalInputBuilder();
  const first = b.build(ctx(1, T0, { 'wan.wan1.state': ['ok', 'up'], 'wan.wan1.rtt': ['ok', 12] }));
  t.ok(first.changed.includes('wan.wan1.state') && first.changed.includes('health.wan'), 'everything is new at first');
  t.equal(first.applied.since, null, 'no route history → null');
  const valueOnly = b.build(ctx(2, T0 + 1000, { 'wan.wan1.state': ['ok', 'up'], 'wan.wan1.rtt': ['ok', 15] }));
  t.same(valueOnly.changed, ['wan.wan1.rtt'], 'a value change');
  t.same(valueOnly.statusChanged, [], 'is not a status change');
  const peek = b.build(ctx(3, T0 + 2000, { 'wan.wan1.state': ['fail', 'down'], 'wan.wan1.rtt': ['ok', 15] }), false);
  t.ok(peek.statusChanged.includes('wan.wan1.state'));
  const real = b.build(ctx(3, T0 + 2000, { 'wan.wan1.state': ['fail', 'down'], 'wan.wan1.rtt': ['ok', 15] }));
  t.same(real.changed, peek.changed, 'a peek does not move the baseline');
  t.ok(real.changed.includes('health.wan'), 'subsystem health changes are listed as health.<subsystem>');
  t.equal(real.signals['wan.wan1.state']?.status, 'fail');
  t.equal(real.health.wan?.status, 'fail');
});

t.test('the decision key ignores time but not values', async (t) => {
  const b = new EvalInputBuilder();
  const a = b.build(ctx(1, T0, { 'power.ups1.charge': ['ok', 90] }), false);
  const later = b.build(ctx(2, T0 + 5000, { 'power.ups1.charge': ['ok', 90] }), false);
  const other = b.build(ctx(3, T0 + 5000, { 'power.ups1.charge': ['ok', 89] }), false);
  t.equal(decisionInputKey(a), decisionInputKey(later));
  t.not(decisionInputKey(a), decisionInputKey(other));
});
