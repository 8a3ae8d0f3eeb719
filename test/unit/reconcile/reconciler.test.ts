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

/** Verification that never ends by itself: it blocks until its AbortSignal is aborted (a ringing test call). */
class BlockingVerifyActuator implements RouteActuator {
  readonly name = 'blocking';
  state: RouteTarget | 'unknown' = 'local';
  readonly applied: RouteTarget[] = [];
  readonly verifying: Array<{ target: RouteTarget; signal: AbortSignal | undefined; aborted: boolean }> = [];
  /** Verifications of these targets answer at once; the others block until aborted. */
  readonly quick = new Set<RouteTarget>();
  /** An actuator that ignores the signal: the reconciler must not wait for it either. */
  ignoreAbort = false;
  async apply(target: RouteTarget) {
    this.applied.push(target);
    this.state = target;
  }
  async observe() {
    return this.state;
  }
  verify(target: RouteTarget, signal?: AbortSignal): Promise<VerifyResult> {
    const v = { target, signal, aborted: false };
    this.verifying.push(v);
    if (this.quick.has(target)) return Promise.resolve({ ok: true, detail: `${target} answers`, durationMs: 1 });
    return new Promise((_resolve, reject) => {
      if (this.ignoreAbort) return; // never settles
      signal?.addEventListener('abort', () => {
        v.aborted = true;
        reject(new Error(`test call to ${target} killed`));
      });
    });
  }
}

t.test('a new target pre-empts a verification in flight: aborted, applied at once, then the new one verified', async (t) => {
  const a = new BlockingVerifyActuator();
  a.quick.add('backup');
  const records: ReconcileRecord[] = [];
  const r = new Reconciler(a, { retryInitialMs: 10, retryMaxMs: 40, driftCheckMs: 60_000, now: Date.now, record: (x) => records.push(x) });
  r.start();
  t.teardown(() => r.stop());
  r.setTarget('local', 1);
  await waitFor(() => a.verifying.length === 1, { timeoutMs: 30_000, what: 'the verification of local to start' });
  t.ok(a.verifying[0]?.signal instanceof AbortSignal, 'verify() gets an AbortSignal');

  r.setTarget('backup', 2);
  await waitFor(() => a.state === 'backup', { timeoutMs: 30_000, what: 'backup applied while local was still being verified' });
  t.equal(a.verifying[0]?.aborted, true, 'the verification of local was aborted');
  t.same(a.applied, ['local', 'backup']);
  await waitFor(() => records.find((x) => x.kind === 'verify' && x.ok), { timeoutMs: 30_000, what: 'the verify record of backup' });
  const verifies = records.filter((x) => x.kind === 'verify');
  t.same(
    verifies.map((x) => [x.target, x.decisionId, x.ok]),
    [
      ['local', 1, false],
      ['backup', 2, true],
    ],
    'the aborted verification is on record under its own decision, then the new target verified under its own',
  );
  t.match(verifies[0]?.detail, /^verification of local abandoned: superseded: the target is now backup/);
  t.same(
    records.filter((x) => x.kind === 'apply').map((x) => [x.target, x.decisionId]),
    [
      ['local', 1],
      ['backup', 2],
    ],
    'each apply carries the decision it was started for',
  );
  t.equal(r.status().lastVerify?.target, 'backup');
});

t.test('pre-emption does not wait for an actuator that ignores the abort', async (t) => {
  const a = new BlockingVerifyActuator();
  a.ignoreAbort = true;
  const records: ReconcileRecord[] = [];
  const r = new Reconciler(a, { retryInitialMs: 10, retryMaxMs: 40, driftCheckMs: 60_000, now: Date.now, record: (x) => records.push(x) });
  r.start();
  r.setTarget('local', 1);
  await waitFor(() => a.verifying.length === 1, { timeoutMs: 30_000, what: 'verification of local in flight' });
  r.setTarget('backup', 2);
  await waitFor(() => a.state === 'backup' && r.status().converged, { timeoutMs: 30_000, what: 'backup applied' });
  t.equal(a.verifying.length, 2, 'the backup verification started too');
  t.same(
    records.filter((x) => x.kind === 'verify').map((x) => [x.target, x.decisionId, x.ok]),
    [['local', 1, false]],
    'only the abandoned verification of local on record',
  );
  t.equal(r.status().lastVerify, null, 'an abandoned verification is no result');
  await r.stop();
  t.pass('stop() does not wait for a verification that never ends');
});

t.test('drift found during a verification pre-empts it and re-applies', async (t) => {
  const a = new BlockingVerifyActuator();
  const records: ReconcileRecord[] = [];
  const r = new Reconciler(a, { retryInitialMs: 10, retryMaxMs: 40, driftCheckMs: 20, now: Date.now, record: (x) => records.push(x) });
  r.start();
  t.teardown(() => r.stop());
  r.setTarget('backup', 7);
  await waitFor(() => a.verifying.length === 1, { timeoutMs: 30_000, what: 'verification of backup in flight' });
  a.state = 'local'; // Kamailio restarted mid test call and forgot
  await waitFor(() => records.find((x) => x.kind === 'drift'), { timeoutMs: 30_000, what: 'the drift to be seen during the verification' });
  await waitFor(() => a.state === 'backup' && a.applied.length === 2, { timeoutMs: 30_000, what: 're-applied' });
  t.equal(a.verifying[0]?.aborted, true, 'the verification in flight was aborted');
  t.equal(records.find((x) => x.kind === 'drift')?.decisionId, 7);
});
