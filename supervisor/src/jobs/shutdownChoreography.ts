/**
 * The power shutdown, in the only safe order:
 *   1. the box declares it is shutting down (signal system.shutdown → safety floor → backup),
 *   2. every route actuator has converged on backup and verified the backup path,
 *   3. that is recorded, and only then
 *   4. the configured shutdown command runs.
 * No shutdown is ever started while calls still go to this box: if the backup path
 * cannot be confirmed, it keeps trying and raises an alarm instead.
 */
import { execFile } from 'node:child_process';
import type { Reason } from '../core/reason.js';
import type { Reconciler } from '../reconcilers/reconciler.js';
import type { Supervisor } from '../supervisor.js';

/** Power reasons that mean "the battery will not last": time to hand over and go down. */
export const SHUTDOWN_REASONS = new Set(['power.lowBattery', 'power.fsd', 'power.lowRuntime']);

export interface ShutdownOptions {
  command: readonly string[];
  /** How often to re-check convergence/verification while waiting. */
  checkMs?: number;
  now: () => number;
  /** Runs the command; default execFile with a 60 s timeout. */
  run?: (cmd: readonly string[]) => Promise<{ ok: boolean; output: string }>;
}

function defaultRun(cmd: readonly string[]): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    const [file, ...args] = cmd;
    execFile(file as string, args, { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ ok: !err, output: `${stdout}${stderr}`.trim().slice(0, 2000) || (err ? err.message : '') });
    });
  });
}

export class ShutdownChoreography {
  private state: 'idle' | 'handing-over' | 'shutting-down' | 'done' = 'idle';
  private timer: NodeJS.Timeout | null = null;
  private lastAlarmAt = 0;

  constructor(
    private readonly sup: Supervisor,
    private readonly reconcilers: readonly Reconciler[],
    private readonly opts: ShutdownOptions,
  ) {}

  get phase(): string {
    return this.state;
  }

  start(): void {
    this.sup.on('live', (m) => {
      if (m.type !== 'health' || this.state !== 'idle') return;
      const why = m.health.power.status === 'fail' ? m.health.power.reasons.filter((r) => SHUTDOWN_REASONS.has(r.code)) : [];
      if (why.length > 0) this.begin(why);
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private begin(why: Reason[]): void {
    this.state = 'handing-over';
    const text = why.map((r) => r.en).join('; ');
    this.sup.event({
      kind: 'shutdown.requested',
      severity: 'alarm',
      subsystem: 'power',
      en: `Power will not last (${text}): moving calls to backup before shutting down`,
      nb: `Strømmen holder ikke (${why.map((r) => r.nb).join('; ')}): flytter anrop til reserve før nedstengning`,
    });
    // The safety floor: from here on nothing can route calls to this box.
    this.sup.onSignal({
      subsystem: 'system',
      source: 'shutdown',
      key: 'system.shutdown',
      status: 'warn',
      value: true,
      observedAt: this.opts.now(),
      ttlMs: 7 * 24 * 3600_000,
      detail: text,
    });
    this.timer = setInterval(() => void this.check(), this.opts.checkMs ?? 200);
    void this.check();
  }

  private handedOver(): { ok: boolean; detail: string } {
    if (this.sup.route !== 'backup') return { ok: false, detail: 'route is not backup yet' };
    for (const r of this.reconcilers) {
      const s = r.status();
      if (!s.converged || s.target !== 'backup') return { ok: false, detail: `${s.actuator} has not converged on backup (${s.lastError ?? 'working'})` };
      if (r.actuator.verify && !(s.lastVerify?.ok && s.lastVerify.target === 'backup')) {
        return { ok: false, detail: `${s.actuator}: backup path not verified (${s.lastVerify?.detail ?? 'pending'})` };
      }
    }
    return { ok: true, detail: this.reconcilers.map((r) => r.name).join(', ') || 'no route actuators configured' };
  }

  private async check(): Promise<void> {
    if (this.state !== 'handing-over') return;
    const h = this.handedOver();
    if (!h.ok) {
      const now = this.opts.now();
      if (now - this.lastAlarmAt > 30_000) {
        this.lastAlarmAt = now;
        this.sup.event({
          kind: 'shutdown.waiting',
          severity: 'alarm',
          subsystem: 'power',
          en: `Shutdown held back: calls are not confirmed on backup yet (${h.detail})`,
          nb: `Nedstengning holdes tilbake: anrop er ikke bekreftet på reserve (${h.detail})`,
        });
      }
      return;
    }
    this.state = 'shutting-down';
    if (this.timer) clearInterval(this.timer);
    this.sup.event({
      kind: 'shutdown.start',
      severity: 'alarm',
      subsystem: 'power',
      en: `Calls confirmed on backup (${h.detail}); running shutdown: ${this.opts.command.join(' ')}`,
      nb: `Anrop bekreftet på reserve (${h.detail}); starter nedstengning: ${this.opts.command.join(' ')}`,
      data: { command: this.opts.command },
    });
    const r = await (this.opts.run ?? defaultRun)(this.opts.command);
    this.state = 'done';
    this.sup.event({
      kind: 'shutdown.command',
      severity: r.ok ? 'info' : 'alarm',
      subsystem: 'power',
      en: `Shutdown command ${r.ok ? 'ran' : 'FAILED'}${r.output ? `: ${r.output}` : ''}`,
      nb: `Nedstengningskommando ${r.ok ? 'kjørt' : 'FEILET'}${r.output ? `: ${r.output}` : ''}`,
    });
  }
}
