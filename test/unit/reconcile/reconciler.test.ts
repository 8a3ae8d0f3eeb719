/**
 * Logic of the reconciliation loop, through an in-memory actuator. The real
 * actuators (Kamailio, webhook, relay) are tested against their real components
 * in test/integration.
 */
import t from 'tap';
import type { RouteActuator, RouteTarget, VerifyResult } from '../../../supervisor/src/reconcilers/actuator.js';
import { type ReconcileRecord, Reconciler } from '../../../supervisor/src/reconcilers/reconciler.js';
import { waitFor } from '../../helpers/util.js';

class FlakyActuator implements RouteActuator {
  readonly name = 'flaky';
  state: RouteTarget | 'unknown' = 'local';
  failuresLeft = 0;
  applies = 0;
  verifyOk = true;
  async apply(target: RouteTarget) {
    this.applies++;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('connection refused');
    }
    this.state = target;
  }
  async observe() {
    return this.state;
  }
  async verify(target: RouteTarget): Promise<VerifyResult> {
    return { ok: this.verifyOk, detail: `${target} ${this.verifyOk ? 'answers' : 'silent'}`, durationMs: 1 };
  }
}

function make(a: FlakyActuator) {
  const records: ReconcileRecord[] = [];
  const r = new Reconciler(a, { retryInitialMs: 10, retryMaxMs: 40, driftCheckMs: 20, now: Date.now, record: (x) => records.push(x) });
  return { r, records };
}

t.test('retries with backoff until it converges, then verifies', async (t) => {
  const a = new FlakyActuator();
  a.failuresLeft = 3;
  const { r, records } = make(a);
  r.start();
  t.teardown(() => r.stop());
  r.setTarget('backup', 7);
  t.ok(await r.waitConverged(30_000), 'converged');
  t.equal(a.state, 'backup');
  t.equal(a.applies, 4, 'three failures, then success');
  const applies = records.filter((x) => x.kind === 'apply');
  t.same(
    applies.map((x) => x.ok),
    [false, false, false, true],
  );
  t.ok(
    applies.every((x) => x.decisionId === 7),
    'every action names its decision',
  );
  await waitFor(() => records.find((x) => x.kind === 'verify'), { timeoutMs: 30_000, what: 'verify record' });
  t.equal(records.find((x) => x.kind === 'verify')?.ok, true);
});

t.test('drift (the real thing forgot) is detected and corrected', async (t) => {
  const a = new FlakyActuator();
  const { r, records } = make(a);
  r.start();
  t.teardown(() => r.stop());
  r.setTarget('backup', 1);
  await r.waitConverged(30_000);
  a.state = 'local'; // e.g. Kamailio restarted and reset the dispatcher state
  await waitFor(() => records.some((x) => x.kind === 'drift'), { timeoutMs: 30_000, what: 'drift record' });
  await waitFor(() => a.state === 'backup', { timeoutMs: 30_000, what: 're-applied backup' });
  t.match(records.find((x) => x.kind === 'drift')?.detail ?? '', /expected backup, found local/);
});

t.test('a failed verification is reported', async (t) => {
  const a = new FlakyActuator();
  a.verifyOk = false;
  const { r } = make(a);
  r.start();
  t.teardown(() => r.stop());
  const failed = new Promise<VerifyResult & { target: RouteTarget }>((resolve) => r.once('verifyFailed', resolve));
  r.setTarget('backup', null);
  const v = await failed;
  t.equal(v.target, 'backup');
  t.match(v.detail, /silent/);
  t.equal(r.status().lastVerify?.ok, false);
});

t.test('a new target while an attempt is in flight wins', async (t) => {
  const a = new FlakyActuator();
  a.failuresLeft = 1;
  const { r } = make(a);
  r.start();
  t.teardown(() => r.stop());
  r.setTarget('backup', 1);
  r.setTarget('local', 2);
  await waitFor(() => r.status().converged && r.status().target === 'local', { timeoutMs: 30_000, what: 'converged on local' });
  t.equal(a.state, 'local');
});
