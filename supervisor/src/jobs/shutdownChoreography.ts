/**
 * The power shutdown, in the only safe order:
 *   1. the box declares it is shutting down (signal system.shutdown → safety floor → backup),
 *   2. every route actuator has converged on backup and verified the backup path,
 *   3. that is recorded, and only then
 *   4. the configured shutdown command runs.
 * No shutdown is ever started while calls still go to this box: if the backup path
 * cannot be confirmed, it keeps trying and raises an alarm instead (after a grace, so a
 * hand-over that takes its normal second raises nothing).
 *
 * When it does not end (README "Power rules"):
 *  - power recovers before the command runs → the shutdown is cancelled and the
 *    "shutting down" floor is lifted: the normal policy decides again;
 *  - the command fails → it is retried (`retries`, `retryMs` apart); when every try has
 *    failed an alarm says so, calls stay on backup while power is critical, and the floor
 *    is lifted once power is fine again (no 7-day floor on a box that did not go down).
 */
import { execFile } from 'node:child_process';
import type { Reason } from '../core/reason.js';
import type { Reconciler } from '../reconcilers/reconciler.js';
import type { LiveMessage, Supervisor } from '../supervisor.js';

/** Power reasons that mean "the battery will not last": time to hand over and go down. */
export const SHUTDOWN_REASONS = new Set(['power.lowBattery', 'power.fsd', 'power.lowRuntime']);

export interface ShutdownOptions {
  command: readonly string[];
  /** How often to re-check convergence/verification while waiting. */
  checkMs?: number;
  now: () => number;
  /** Runs the command; default execFile with a 60 s timeout. */
  run?: (cmd: readonly string[]) => Promise<{ ok: boolean; output: string }>;
  /** Raise shutdown.waiting only when the hand-over has taken longer than this (ms). */
  waitingAlarmAfterMs?: number;
  /** Tries of a failing command before giving up (default 3), and the pause between them. */
  retries?: number;
  retryMs?: number;
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
  private state: 'idle' | 'handing-over' | 'shutting-down' | 'done' | 'failed' = 'idle';
  private timer: NodeJS.Timeout | null = null;
  private lastAlarmAt = 0;
  private beganAt = 0;
  private stopped = false;
  private readonly onLive = (m: LiveMessage) => {
    if (m.type !== 'health') return;
    const why = m.health.power.status === 'fail' ? m.health.power.reasons.filter((r) => SHUTDOWN_REASONS.has(r.code)) : [];
    if (why.length > 0 && this.state === 'idle') this.begin(why);
    else if (why.length === 0 && (this.state === 'handing-over' || this.state === 'failed')) this.powerIsBack();
  };

  constructor(
    private readonly sup: Supervisor,
    private readonly reconcilers: readonly Reconciler[],
    private readonly opts: ShutdownOptions,
  ) {}

  get phase(): string {
    return this.state;
  }

  start(): void {
    this.sup.on('live', this.onLive);
  }

  stop(): void {
    this.stopped = true;
    this.sup.off('live', this.onLive);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Power is no longer critical before the box went down: lift the floor, policy decides. */
  private powerIsBack(): void {
    const was = this.state;
    this.state = 'idle';
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sup.event({
      kind: 'shutdown.cancelled',
      severity: 'info',
      subsystem: 'power',
      en:
        was === 'failed'
          ? 'Power is fine again after the failed shutdown: the normal policy decides the route again'
          : 'Power recovered before the shutdown: cancelled; the normal policy decides the route again',
      nb:
        was === 'failed'
          ? 'Strømmen er i orden igjen etter den mislykte nedstengningen: vanlig policy bestemmer ruten igjen'
          : 'Strømmen kom tilbake før nedstengningen: avbrutt; vanlig policy bestemmer ruten igjen',
    });
    this.sup.onSignal({
      subsystem: 'system',
      source: 'shutdown',
      key: 'system.shutdown',
      status: 'ok',
      value: false,
      observedAt: this.opts.now(),
      ttlMs: 7 * 24 * 3600_000,
    });
  }

  private begin(why: Reason[]): void {
    this.state = 'handing-over';
    this.beganAt = this.opts.now();
    this.lastAlarmAt = 0;
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
      if (now - this.beganAt >= (this.opts.waitingAlarmAfterMs ?? 10_000) && now - this.lastAlarmAt > 30_000) {
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
    const tries = this.opts.retries ?? 3;
    for (let i = 1; i <= tries && !this.stopped; i++) {
      const r = await (this.opts.run ?? defaultRun)(this.opts.command);
      this.sup.event({
        kind: 'shutdown.command',
        severity: r.ok ? 'info' : 'alarm',
        subsystem: 'power',
        en: `Shutdown command ${r.ok ? 'ran' : `FAILED (try ${i} of ${tries})`}${r.output ? `: ${r.output}` : ''}`,
        nb: `Nedstengningskommando ${r.ok ? 'kjørt' : `FEILET (forsøk ${i} av ${tries})`}${r.output ? `: ${r.output}` : ''}`,
      });
      if (r.ok) {
        this.state = 'done';
        return;
      }
      if (i < tries) await new Promise((res) => setTimeout(res, this.opts.retryMs ?? 30_000).unref());
    }
    this.state = 'failed';
    this.sup.event({
      kind: 'shutdown.failed',
      severity: 'alarm',
      subsystem: 'power',
      en: `The shutdown command failed ${tries} times: the box stays up; calls stay on the backup centre while power is critical and return when it is fine — check ${this.opts.command[0]}`,
      nb: `Nedstengningskommandoen feilet ${tries} ganger: boksen står på; anrop blir på reservesentralen mens strømmen er kritisk og kommer tilbake når den er i orden — sjekk ${this.opts.command[0]}`,
    });
    // Power may already be fine (e.g. mains back during the tries): lift the floor now.
    const power = this.sup.snapshot().health.power;
    if (!(power.status === 'fail' && power.reasons.some((r) => SHUTDOWN_REASONS.has(r.code)))) this.powerIsBack();
  }
}
