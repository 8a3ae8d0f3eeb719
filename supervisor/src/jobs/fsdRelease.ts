/**
 * FSD from the primary upsmon: move the calls, then get out of upsmon's way.
 *
 * The primary upsmon, after setting FSD, waits up to HOSTSYNC for every logged-in
 * secondary (Vaktpost is one) to log out before it shuts the box down. Vaktpost's part is
 * to move the calls first: it logs out as soon as every route actuator has converged on
 * backup — not waiting for the verification call, the box is going down either way — or
 * after `maxWaitMs` (default 3 s), whichever comes first. So the primary shuts down within
 * seconds of FSD, never after HOSTSYNC.
 */
import type { Reconciler } from '../reconcilers/reconciler.js';
import type { LiveMessage, Supervisor } from '../supervisor.js';

export interface FsdReleaseOptions {
  logout: (upsIds: readonly string[]) => Promise<string[]>;
  maxWaitMs?: number;
  checkMs?: number;
}

export class FsdRelease {
  private pending = new Set<string>();
  private released = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private since = 0;

  private readonly onLive = (m: LiveMessage) => {
    if (m.type !== 'health') return;
    const ids = m.floor
      .filter((r) => r.code === 'power.fsd')
      .flatMap((r) => r.signals)
      .map((k) => k.split('.')[1] ?? '')
      .filter((id) => id && !this.released.has(id));
    if (ids.length === 0) return;
    if (this.pending.size === 0) this.since = performance.now();
    for (const id of ids) this.pending.add(id);
    this.timer ??= setInterval(() => void this.check(), this.opts.checkMs ?? 50);
    void this.check();
  };

  constructor(
    private readonly sup: Supervisor,
    private readonly reconcilers: readonly Reconciler[],
    private readonly opts: FsdReleaseOptions,
  ) {}

  start(): void {
    this.sup.on('live', this.onLive);
  }

  stop(): void {
    this.sup.off('live', this.onLive);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private busy = false;

  private async check(): Promise<void> {
    if (this.busy || this.pending.size === 0) return;
    const moved = this.sup.route === 'backup' && this.reconcilers.every((r) => r.status().converged && r.status().target === 'backup');
    const waited = performance.now() - this.since;
    if (!moved && waited < (this.opts.maxWaitMs ?? 3000)) return;
    this.busy = true;
    const ids = [...this.pending];
    this.pending.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      const out = await this.opts.logout(ids);
      for (const id of ids) this.released.add(id);
      if (out.length > 0) {
        this.sup.event({
          kind: 'power.fsdLogout',
          severity: 'warn',
          subsystem: 'power',
          en: `FSD: ${moved ? 'calls moved to backup' : `calls not confirmed on backup after ${Math.round(waited)} ms`}; logged out of upsd (${out.join(', ')}) so the primary upsmon can shut down now`,
          nb: `FSD: ${moved ? 'anrop flyttet til reserve' : `anrop ikke bekreftet på reserve etter ${Math.round(waited)} ms`}; logget ut av upsd (${out.join(', ')}) så primær-upsmon kan stenge ned nå`,
          data: { ups: out, moved, waitedMs: Math.round(waited) },
        });
      }
    } finally {
      this.busy = false;
    }
  }
}
