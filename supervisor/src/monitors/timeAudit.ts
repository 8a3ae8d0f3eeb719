/**
 * Audits the clocks of the centre's other systems (operator PCs, phone system,
 * recorder, radio terminal — KoKom T4: all within 1 s) with our own SNTP
 * client, and reports each as `time.audit.<name>`:
 *   value  = the host's clock minus the box's clock (s; + = host ahead)
 *   status = ok / warn ≥ warnS / fail ≥ failS; warn when the host itself says
 *            it is unsynchronised; unknown (with the cause) when it does not answer.
 * The box is the centre's time server (ops/chrony), so "relative to the box"
 * is the common clock T4 asks for; the box's own error is in time.errorBound.
 */
import { SntpError, type SntpResult, sntpQuery } from '../../../hardware/ntp/index.js';
import type { Signal, SignalStatus } from '../core/signal.js';
import { levelFor } from '../core/timeHealth.js';
import type { Guard } from '../guard.js';
import { type Clock, type Monitor, type SignalSink, systemClock, timersOf } from './monitor.js';
import { PollingLoop } from './pollingMonitor.js';

export interface AuditHost {
  /** Key-safe name: the signal is `time.audit.<name>`. */
  name: string;
  host: string;
  port: number;
  intervalS: number;
}

export interface TimeAuditOptions {
  hosts: readonly AuditHost[];
  warnS: number;
  failS: number;
  timeoutMs?: number;
  /** Queries per round before the host counts as not answering (default 2). */
  attempts?: number;
  sourceAddress?: string;
  clock?: Clock;
  /** Called after each round for a host (for logs, reports, tests). */
  onResult?: (host: AuditHost, outcome: SntpResult | SntpError) => void;
  /** Where a bug in a host's loop is reported (once; the loop goes on with backoff). */
  guard?: Guard;
}

export class TimeAuditMonitor implements Monitor {
  readonly name = 'time.audit';
  private readonly clock: Clock;
  /** One loop per host: each has its own interval, and a host that hangs delays only itself. */
  private loops = new Map<string, PollingLoop>();
  private running = false;
  private emit: SignalSink = () => {};

  constructor(private readonly opts: TimeAuditOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Resolves after the first round of every host has been reported. */
  async start(emit: SignalSink): Promise<void> {
    this.emit = emit;
    this.running = true;
    const timers = timersOf(this.clock);
    // The next round of a host starts intervalS after its previous round ended.
    this.loops = new Map(
      this.opts.hosts.map((h) => [
        h.name,
        new PollingLoop(`time.audit ${h.name}`, () => this.round(h), {
          pollMs: h.intervalS * 1000,
          ...(timers ? { timers } : {}),
          ...(this.opts.guard ? { guard: this.opts.guard } : {}),
        }),
      ]),
    );
    await Promise.all([...this.loops.values()].map((l) => l.start(emit)));
  }

  async stop(): Promise<void> {
    this.running = false;
    const loops = [...this.loops.values()];
    this.loops = new Map();
    await Promise.all(loops.map((l) => l.stop()));
  }

  /** Audit one host now (by name); resolves when its signal has been emitted. */
  async auditNow(name: string): Promise<void> {
    const h = this.opts.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no audited host named "${name}"`);
    const loop = this.loops.get(name);
    if (loop) await loop.pollNow();
    else await this.round(h);
  }

  private async round(h: AuditHost): Promise<void> {
    const outcome = await this.query(h);
    if (!this.running) return;
    this.emit(this.toSignal(h, outcome));
    this.opts.onResult?.(h, outcome);
  }

  private async query(h: AuditHost): Promise<SntpResult | SntpError> {
    const attempts = this.opts.attempts ?? 2;
    let last: SntpError | undefined;
    for (let i = 0; i < attempts; i++) {
      try {
        return await sntpQuery(h.host, {
          port: h.port,
          timeoutMs: this.opts.timeoutMs ?? 1000,
          ...(this.opts.sourceAddress ? { localAddress: this.opts.sourceAddress } : {}),
        });
      } catch (err) {
        last = err instanceof SntpError ? err : new SntpError('socket', `NTP query to ${h.host}:${h.port} failed: ${String(err)}`);
        // A refusal or bad name will not change within one round.
        if (last.code === 'refused' || last.code === 'resolve' || last.code === 'kiss-of-death') break;
      }
    }
    return last as SntpError;
  }

  private toSignal(h: AuditHost, outcome: SntpResult | SntpError): Signal {
    const base = {
      subsystem: 'time' as const,
      source: `ntp:${h.name}`,
      key: `time.audit.${h.name}`,
      observedAt: this.clock.now(),
      // Two missed rounds before the core calls it stale.
      ttlMs: 2 * h.intervalS * 1000 + (this.opts.attempts ?? 2) * (this.opts.timeoutMs ?? 1000),
    };
    if (outcome instanceof SntpError) {
      return { ...base, status: 'unknown', value: null, detail: `no time from ${h.name}: ${outcome.message}` };
    }
    const o = outcome.offsetS;
    let status: SignalStatus = levelFor(Math.abs(o), this.opts);
    const where = o >= 0 ? 'ahead of' : 'behind';
    let detail = `${h.name} (${h.host}:${h.port}) is ${Math.abs(o).toFixed(3)} s ${where} the box (delay ${(outcome.delayS * 1000).toFixed(1)} ms, stratum ${outcome.stratum}, ref ${outcome.refId || '-'}; warn ≥ ${this.opts.warnS} s, fail ≥ ${this.opts.failS} s)`;
    if (!outcome.hostSynchronised) {
      if (status === 'ok') status = 'warn';
      detail += '; the host reports its own clock as NOT synchronised — point it at the box (NTP server)';
    }
    return { ...base, status, value: o, unit: 's', detail };
  }
}
