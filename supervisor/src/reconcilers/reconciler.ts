/**
 * Target-state reconciliation for one actuator: make the real thing follow the
 * target route and keep it there.
 *  - idempotent apply, confirmed by reading the state back (observe)
 *  - retried with exponential backoff (+ jitter) until it converges
 *  - drift detection: the real state is read back periodically; if it differs
 *    (e.g. Kamailio restarted and forgot), it is re-applied at once
 *  - after each change the new path is verified (if the actuator can); a new target
 *    (or a drift found meanwhile) pre-empts a verification in flight: it is aborted
 *    (the actuator's test call killed), the new target applied at once, then verified
 * Every attempt, drift and verification is recorded through `record`.
 */
import { EventEmitter } from 'node:events';
import { Guard } from '../guard.js';
import { silentLogger } from '../log.js';
import type { TestHooks } from '../testHooks.js';
import type { RouteActuator, RouteTarget, VerifyResult } from './actuator.js';

export interface ActuatorStatus {
  actuator: string;
  target: RouteTarget | null;
  observed: RouteTarget | 'unknown' | null;
  converged: boolean;
  attempts: number;
  lastError: string | null;
  lastVerify: (VerifyResult & { target: RouteTarget; at: number }) | null;
  lastAppliedAt: number | null;
}

export interface ReconcileRecord {
  kind: 'apply' | 'verify' | 'drift';
  actuator: string;
  target: RouteTarget;
  ok: boolean;
  detail: string;
  durationMs: number;
  decisionId: number | null;
}

export interface ReconcilerOptions {
  retryInitialMs: number;
  retryMaxMs: number;
  driftCheckMs: number;
  now: () => number;
  record: (r: ReconcileRecord) => void;
  /** Every timer and background attempt runs under it: a fault is an alarm, never a crash. */
  guard?: Guard;
  /** Chaos-suite fault injection (testHooks.ts); absent in production. */
  hooks?: TestHooks | null;
}

export class Reconciler extends EventEmitter<{ status: [ActuatorStatus]; converged: [RouteTarget]; verifyFailed: [VerifyResult & { target: RouteTarget }] }> {
  private target: RouteTarget | null = null;
  private decisionId: number | null = null;
  private observed: RouteTarget | 'unknown' | null = null;
  private converged = false;
  private attempts = 0;
  private lastError: string | null = null;
  private lastVerify: ActuatorStatus['lastVerify'] = null;
  private lastAppliedAt: number | null = null;
  private running = false;
  private busy: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private driftTimer: NodeJS.Timeout | null = null;
  /** Bumped on every new target so a stale in-flight attempt does not verify the wrong route. */
  private generation = 0;
  /** Set while the in-flight attempt is verifying: aborting it pre-empts the verification. */
  private verifying: AbortController | null = null;
  private readonly guard: Guard;

  constructor(
    readonly actuator: RouteActuator,
    private readonly opts: ReconcilerOptions,
  ) {
    super();
    this.guard = opts.guard ?? new Guard(silentLogger());
  }

  /** Recording must not break reconciliation: a record that cannot be made is a fault. */
  private record(r: ReconcileRecord): void {
    this.guard.run(`reconciler ${this.name}: record`, () => this.opts.record(r));
  }

  get name(): string {
    return this.actuator.name;
  }

  status(): ActuatorStatus {
    return {
      actuator: this.actuator.name,
      target: this.target,
      observed: this.observed,
      converged: this.converged,
      attempts: this.attempts,
      lastError: this.lastError,
      lastVerify: this.lastVerify,
      lastAppliedAt: this.lastAppliedAt,
    };
  }

  start(): void {
    this.running = true;
    this.driftTimer = setInterval(
      this.guard.callback(`reconciler ${this.name}: drift check`, () => this.checkDrift()),
      this.opts.driftCheckMs,
    );
    this.driftTimer.unref();
    if (this.target) this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.verifying?.abort(new Error('the reconciler stops'));
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.driftTimer) clearInterval(this.driftTimer);
    this.retryTimer = null;
    this.driftTimer = null;
    await this.busy;
  }

  setTarget(target: RouteTarget, decisionId: number | null): void {
    if (target === this.target && this.converged) return;
    this.generation++;
    this.target = target;
    this.decisionId = decisionId;
    this.converged = false;
    this.attempts = 0;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    // A verification of the previous target (a test call can take seconds) must not hold
    // the new route back: abort it; the attempt then ends and the new target is applied.
    this.verifying?.abort(new Error(`superseded: the target is now ${target}`));
    this.kick();
  }

  /** Wait until the current target has converged (or the timeout passes). */
  async waitConverged(timeoutMs: number): Promise<boolean> {
    if (this.converged) return true;
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.off('converged', on);
        resolve(false);
      }, timeoutMs);
      const on = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.once('converged', on);
    });
  }

  private kick(): void {
    if (!this.running || this.busy) return;
    const attempt = (async () => {
      try {
        await this.converge();
      } catch (err) {
        // converge() handles the actuator's errors; anything else is a fault of ours.
        this.guard.report(`reconciler ${this.name}: converge`, err);
        if (this.running && !this.retryTimer) this.scheduleRetry();
      }
    })();
    this.busy = attempt.finally(() => {
      this.busy = null;
      // A new target may have arrived while we were busy.
      if (this.running && !this.converged && this.target && !this.retryTimer) this.kick();
    });
    this.guard.promise(`reconciler ${this.name}: attempt`, this.busy);
  }

  private async converge(): Promise<void> {
    const target = this.target;
    if (!target) return;
    const gen = this.generation;
    // Records of this attempt belong to the decision it was started for, even if a newer
    // decision arrives while it runs.
    const decisionId = this.decisionId;
    this.attempts++;
    const t0 = performance.now();
    try {
      await this.actuator.apply(target);
      const observed = await this.actuator.observe();
      this.observed = observed;
      if (observed !== target) {
        throw new Error(`applied ${target} but ${this.actuator.name} reads back ${observed}`);
      }
      const dt = performance.now() - t0;
      this.record({
        kind: 'apply',
        actuator: this.name,
        target,
        ok: true,
        detail: `now routes to ${target}`,
        durationMs: dt,
        decisionId,
      });
      if (gen !== this.generation) return;
      this.converged = true;
      this.lastError = null;
      this.lastAppliedAt = this.opts.now();
      this.emitStatus();
      this.emit('converged', target);
      await this.verify(target, gen, decisionId);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      this.lastError = msg;
      this.record({ kind: 'apply', actuator: this.name, target, ok: false, detail: msg, durationMs: performance.now() - t0, decisionId });
      this.emitStatus();
      if (gen === this.generation && this.running) this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    const base = Math.min(this.opts.retryMaxMs, this.opts.retryInitialMs * 2 ** Math.max(0, this.attempts - 1));
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(
      this.guard.callback(`reconciler ${this.name}: retry`, () => {
        this.retryTimer = null;
        this.kick();
      }),
      delay,
    );
    this.retryTimer.unref();
  }

  private async verify(target: RouteTarget, gen: number, decisionId: number | null): Promise<void> {
    if (!this.actuator.verify) return;
    const ctrl = new AbortController();
    this.verifying = ctrl;
    const t0 = performance.now();
    let result: VerifyResult;
    try {
      result = await untilAborted(this.actuator.verify(target, ctrl.signal), ctrl.signal);
    } catch (err) {
      result = { ok: false, detail: err instanceof Error ? err.message : String(err), durationMs: performance.now() - t0 };
    } finally {
      if (this.verifying === ctrl) this.verifying = null;
    }
    if (ctrl.signal.aborted || gen !== this.generation) {
      // Pre-empted (new target, drift, stop): on record under the decision it was started
      // for, as abandoned — never as the current route's result (no lastVerify, no alarm).
      const reason: unknown = ctrl.signal.reason;
      this.record({
        kind: 'verify',
        actuator: this.name,
        target,
        ok: false,
        detail: `verification of ${target} abandoned: ${reason instanceof Error ? reason.message : 'the target changed'}`,
        durationMs: performance.now() - t0,
        decisionId,
      });
      return;
    }
    this.lastVerify = { ...result, target, at: this.opts.now() };
    this.record({
      kind: 'verify',
      actuator: this.name,
      target,
      ok: result.ok,
      detail: result.detail,
      durationMs: result.durationMs,
      decisionId,
    });
    this.emitStatus();
    if (!result.ok) this.emit('verifyFailed', { ...result, target });
  }

  private async checkDrift(): Promise<void> {
    this.opts.hooks?.trip('reconciler');
    // While the attempt in flight only verifies, the drift check runs: a Kamailio that
    // restarted during a test call is put right without waiting for the call.
    if (!this.running || (this.busy && !this.verifying) || !this.target || !this.converged) return;
    const target = this.target;
    let observed: RouteTarget | 'unknown';
    try {
      observed = await this.actuator.observe();
    } catch (err) {
      observed = 'unknown';
      this.lastError = err instanceof Error ? err.message : String(err);
    }
    const changed = observed !== this.observed;
    this.observed = observed;
    if (observed !== target && this.target === target && this.converged) {
      this.record({
        kind: 'drift',
        actuator: this.name,
        target,
        ok: false,
        detail: `expected ${target}, found ${observed}: re-applying`,
        durationMs: 0,
        decisionId: this.decisionId,
      });
      this.converged = false;
      this.attempts = 0;
      this.verifying?.abort(new Error(`drift: ${this.actuator.name} reads back ${observed}`));
      this.emitStatus();
      // Idle: at once; verifying: when the aborted attempt ends (kick's finally).
      this.kick();
    } else if (changed) this.emitStatus();
  }

  private emitStatus(): void {
    this.emit('status', this.status());
  }
}

/** `p`, or a rejection as soon as `signal` aborts (`p` is left to settle on its own). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
