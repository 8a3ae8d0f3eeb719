/**
 * Reconciler records (reconcilers/reconciler.ts): every record of an attempt carries the
 * decision id that attempt was started for, even when a newer decision arrives while it
 * runs; a record callback that throws is a guarded fault and does not stop reconciliation.
 */
import t from 'tap';
import { type Fault, Guard } from '../../../supervisor/src/guard.js';
import type { RouteActuator, RouteTarget, VerifyResult } from '../../../supervisor/src/reconcilers/actuator.js';
import { type ReconcileRecord, Reconciler } from '../../../supervisor/src/reconcilers/reconciler.js';
import { waitFor } from '../../helpers/util.js';
import { gate, recordingLog, settle, watchUnhandled } from './fakes.js';

/** apply() waits at a gate the test opens; optionally fails once opened. */
class GatedActuator implements RouteActuator {
  readonly name = 'gated';
  state: RouteTarget | 'unknown' = 'local';
  applies: RouteTarget[] = [];
  verifies: RouteTarget[] = [];
  gates: Array<{ promise: Promise<void>; open: () => void }> = [];
  held = true;
  failNext = false;
  async apply(target: RouteTarget): Promise<void> {
    this.applies.push(target);
    if (this.held) {
      const g = gate();
      this.gates.push(g);
      await g.promise;
    }
    if (this.failNext) {
      this.failNext = false;
      throw new Error(`cannot reach the dispatcher for ${target}`);
    }
    this.state = target;
  }
  async observe() {
    return this.state;
  }
  async verify(target: RouteTarget): Promise<VerifyResult> {
    this.verifies.push(target);
    return { ok: true, detail: `${target} answers`, durationMs: 1 };
  }
}

function make(a: RouteActuator, record: (r: ReconcileRecord) => void, guard?: Guard) {
  return new Reconciler(a, { retryInitialMs: 10, retryMaxMs: 40, driftCheckMs: 30, now: Date.now, record, ...(guard ? { guard } : {}) });
}

t.test('an attempt in flight records its own decision id when a newer decision arrives', async (t) => {
  const a = new GatedActuator();
  const records: ReconcileRecord[] = [];
  const r = make(a, (x) => records.push(x));
  r.start();
  t.teardown(() => r.stop());
  r.setTarget('backup', 11);
  await waitFor(() => a.gates.length === 1, { timeoutMs: 5000, what: 'apply(backup) in flight' });
  r.setTarget('local', 12); // newer decision while apply(backup) runs
  a.held = false;
  a.gates[0]?.open();
  await waitFor(() => r.status().converged && r.status().target === 'local', { timeoutMs: 5000, what: 'converged on local' });
  await waitFor(() => records.some((x) => x.kind === 'verify'), { timeoutMs: 5000, what: 'verify record' });
  t.same(a.applies, ['backup', 'local']);
  const first = records.find((x) => x.kind === 'apply' && x.target === 'backup');
  t.equal(first?.decisionId, 11, 'the backup attempt records decision 11, not 12');
  for (const x of records) {
    t.equal(x.decisionId, x.target === 'backup' ? 11 : 12, `${x.kind} ${x.target} → decision ${x.decisionId}`);
  }
  t.same(a.verifies, ['local'], 'the superseded attempt is not verified');
});

t.test('a failed attempt in flight records its own decision id too', async (t) => {
  const a = new GatedActuator();
  const records: ReconcileRecord[] = [];
  const r = make(a, (x) => records.push(x));
  r.start();
  t.teardown(() => r.stop());
  r.setTarget('backup', 21);
  await waitFor(() => a.gates.length === 1, { timeoutMs: 5000, what: 'apply in flight' });
  r.setTarget('backup', 22); // the same route, re-decided (e.g. new reasons) while it runs
  a.failNext = true;
  a.held = false;
  a.gates[0]?.open();
  await waitFor(() => r.status().converged, { timeoutMs: 5000, what: 'converged' });
  const applies = records.filter((x) => x.kind === 'apply');
  t.same(
    applies.map((x) => [x.ok, x.decisionId]),
    [
      [false, 21],
      [true, 22],
    ],
    'the failure belongs to 21, the success to 22',
  );
});

t.test('a record callback that throws is a guarded fault; reconciliation goes on', async (t) => {
  const unhandled = watchUnhandled(t);
  const { log, lines } = recordingLog();
  const faults: Fault[] = [];
  const guard = new Guard(log, (f) => faults.push(f));
  const a = new GatedActuator();
  a.held = false;
  let calls = 0;
  const r = make(
    a,
    () => {
      calls++;
      throw new Error('store gone');
    },
    guard,
  );
  r.start();
  t.teardown(() => r.stop());
  r.setTarget('backup', 5);
  t.ok(await r.waitConverged(5000), 'converged although every record throws');
  await waitFor(() => a.verifies.length === 1 && calls >= 2, { timeoutMs: 5000, what: 'verify ran and was recorded' });
  t.equal(a.state, 'backup');
  t.equal(r.status().converged, true);
  t.equal(r.status().lastError, null, "a record failure is not the actuator's error");
  t.ok(faults.length >= 2, 'each failing record is a fault');
  t.ok(
    faults.every((f) => f.where === 'reconciler gated: record' && f.error.message === 'store gone'),
    'with where',
  );
  // Drift is still detected and corrected with the callback throwing.
  a.state = 'local';
  await waitFor(() => a.applies.length >= 2 && a.state === 'backup', { timeoutMs: 5000, what: 'drift corrected' });
  t.ok(
    lines.every((l) => l.obj.where !== 'reconciler gated: converge'),
    'no fault escaped into converge',
  );
  await settle(5);
  t.same(unhandled, []);
});
