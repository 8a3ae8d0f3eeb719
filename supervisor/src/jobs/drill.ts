/**
 * The failover drill (KoKom T18/T37: check that the switch-over actually works,
 * every time): switch to backup, verify the backup path (OPTIONS and, where
 * configured, a test call), switch back, verify the local path. Every step is
 * recorded. Skipped — with the reason recorded — when the box is already failed
 * over or in maintenance: a drill must never fight a real failover.
 */
import type { RouteTarget } from '../core/policy.js';
import type { Reconciler } from '../reconcilers/reconciler.js';
import type { Supervisor } from '../supervisor.js';

export interface DrillStep {
  step: string;
  ok: boolean;
  detail: string;
  at: number;
}

export interface DrillResult {
  outcome: 'passed' | 'failed' | 'skipped';
  by: string;
  startedAt: number;
  finishedAt: number;
  steps: DrillStep[];
  reason?: string;
}

export interface DrillOptions {
  now: () => number;
  /** How long each switch may take to converge and verify (ms). */
  stepTimeoutMs: number;
}

export class Drill {
  private running: Promise<DrillResult> | null = null;

  constructor(
    private readonly sup: Supervisor,
    private readonly reconcilers: readonly Reconciler[],
    private readonly opts: DrillOptions,
  ) {}

  get inProgress(): boolean {
    return this.running !== null;
  }

  /** Runs one drill (a second request while one runs joins the running one). */
  run(by: string): Promise<DrillResult> {
    this.running ??= this.execute(by).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private record(kind: string, severity: 'info' | 'warn' | 'alarm', en: string, nb: string, data: unknown, by: string): void {
    this.sup.event({ kind, severity, subsystem: 'telephony', actor: by, en, nb, data });
  }

  private async execute(by: string): Promise<DrillResult> {
    const startedAt = this.opts.now();
    const steps: DrillStep[] = [];
    const snap = this.sup.snapshot();
    if (snap.route !== 'local' || snap.mode === 'maintenance' || snap.mode === 'failover' || snap.mode === 'recovering') {
      const reason = `box is ${snap.mode} with calls to ${snap.route}`;
      const result: DrillResult = { outcome: 'skipped', by, startedAt, finishedAt: this.opts.now(), steps, reason };
      this.record('drill.skipped', 'warn', `Drill skipped: ${reason}`, `Øvelse hoppet over: boksen er i ${snap.mode} med anrop til ${snap.route}`, result, by);
      return result;
    }
    this.record('drill.start', 'info', `Failover drill started by ${by}`, `Omrutingsøvelse startet av ${by}`, { by }, by);
    const ok1 = await this.switchAndVerify('backup', by, steps);
    // Switch back through an explicit local override, so the return does not wait for
    // the failback hold (the local centre was never unhealthy during a drill).
    const ok2 = await this.switchAndVerify('local', by, steps);
    this.sup.clearOverride(`drill:${by}`);
    const outcome = ok1 && ok2 ? 'passed' : 'failed';
    const result: DrillResult = { outcome, by, startedAt, finishedAt: this.opts.now(), steps };
    if (outcome === 'passed') {
      this.record('drill.passed', 'info', `Failover drill passed (${steps.length} steps)`, `Omrutingsøvelse bestått (${steps.length} steg)`, result, by);
    } else {
      const failed = steps
        .filter((s) => !s.ok)
        .map((s) => `${s.step}: ${s.detail}`)
        .join('; ');
      this.record('drill.failed', 'alarm', `FAILOVER DRILL FAILED: ${failed}`, `OMRUTINGSØVELSE FEILET: ${failed}`, result, by);
    }
    return result;
  }

  private async switchAndVerify(target: RouteTarget, by: string, steps: DrillStep[]): Promise<boolean> {
    const t0 = this.opts.now();
    this.sup.setOverride({ route: target, durationMs: 10 * 60_000, by: `drill:${by}`, reason: `drill: switch to ${target}` });
    const push = (step: string, ok: boolean, detail: string) => {
      const s = { step, ok, detail, at: this.opts.now() };
      steps.push(s);
      this.record(
        'drill.step',
        ok ? 'info' : 'alarm',
        `Drill ${step}: ${ok ? 'ok' : 'FAILED'} — ${detail}`,
        `Øvelse ${step}: ${ok ? 'ok' : 'FEILET'} — ${detail}`,
        s,
        by,
      );
    };
    if (this.sup.route !== target) {
      push(`switch-to-${target}`, false, `the policy kept calls on ${this.sup.route} (safety floor?)`);
      return false;
    }
    push(`switch-to-${target}`, true, `route set to ${target}`);
    let allOk = true;
    for (const r of this.reconcilers) {
      const done = await this.waitFor(() => {
        const s = r.status();
        const verified = !r.actuator.verify || (s.lastVerify !== null && s.lastVerify.at >= t0 && s.lastVerify.target === target);
        return s.converged && s.target === target && verified;
      });
      const s = r.status();
      if (!done) {
        push(`verify-${target}:${r.name}`, false, `no confirmation within ${this.opts.stepTimeoutMs} ms (${s.lastError ?? s.lastVerify?.detail ?? 'pending'})`);
        allOk = false;
      } else if (r.actuator.verify && !s.lastVerify?.ok) {
        push(`verify-${target}:${r.name}`, false, s.lastVerify?.detail ?? 'verification failed');
        allOk = false;
      } else {
        push(`verify-${target}:${r.name}`, true, s.lastVerify?.detail ?? `${r.name} follows ${target}`);
      }
    }
    return allOk;
  }

  private async waitFor(pred: () => boolean): Promise<boolean> {
    const deadline = this.opts.now() + this.opts.stepTimeoutMs;
    while (this.opts.now() < deadline) {
      if (pred()) return true;
      await new Promise((r) => setTimeout(r, 50));
    }
    return pred();
  }
}
