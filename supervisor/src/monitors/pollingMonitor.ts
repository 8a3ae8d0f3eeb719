/**
 * One polling loop for monitors that read something every `pollMs`
 * (cf. Home Assistant's DataUpdateCoordinator).
 *
 * Guarantees:
 *  - Polls never overlap: the next one is scheduled when the previous has finished.
 *  - A poll that throws (a bug, or a driver error the monitor did not turn into an
 *    `unknown` signal) never escapes: the first failure is logged and reported as an
 *    internal fault ("down" once), later ones back off (up to `maxBackoffMs`), and the
 *    first success after that is logged once ("back"). The signals it stops sending go
 *    stale and become `unknown` by their ttl: silence is never read as fine.
 *  - `stop()` waits for a poll in flight and schedules nothing after it.
 *  - Every wait goes through the injected `Timers` (monitor.ts; real, unref'd timers by
 *    default), so unit tests run the loop on simulated time (test/helpers/simClock.ts).
 *  - `cadence`: pollMs counts from the start of the previous poll (a fixed rate; a slow
 *    poll delays the next, never stacks); otherwise from its end.
 *  - `pollNow()` polls at once, after any poll in flight; the schedule counts from it.
 * Monitors with several cadences or targets run one `PollingLoop` each.
 */
import type { Guard } from '../guard.js';
import type { Logger } from '../log.js';
import { type Clock, type Monitor, type SignalSink, type TimerHandle, type Timers, systemTimers } from './monitor.js';

export interface PollingOptions {
  pollMs: number;
  /** Longest wait between failing polls (default 8 × pollMs, at least 5 s). */
  maxBackoffMs?: number;
  guard?: Guard;
  log?: Logger;
  /** Where the waits between polls are scheduled (default: the real timers, unref'd). */
  timers?: Timers;
  /**
   * Fixed cadence: measure pollMs from the START of the previous good poll on this
   * clock's monotonic time (a slow poll delays the next, never stacks). Default: pollMs
   * after the previous poll ended.
   */
  cadence?: Pick<Clock, 'monotonic'>;
}

export abstract class PollingMonitor implements Monitor {
  abstract readonly name: string;
  private timer: TimerHandle | null = null;
  private inFlight: Promise<void> | null = null;
  private running = false;
  private failures = 0;
  private lastStart = 0;
  private sink: SignalSink = () => {};

  private readonly timers: Timers;

  constructor(protected readonly polling: PollingOptions) {
    this.timers = polling.timers ?? systemTimers;
  }

  /** One reading; emit what was observed. May throw: the loop handles it. */
  protected abstract poll(emit: SignalSink): Promise<void> | void;

  /** Hook for monitors that also listen for events; called once at start. */
  protected onStart(_emit: SignalSink): Promise<void> | void {}
  protected onStop(): Promise<void> | void {}

  async start(emit: SignalSink): Promise<void> {
    this.running = true;
    this.sink = emit;
    await this.onStart(emit);
    await this.once(emit);
    this.schedule(emit);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await this.inFlight;
    await this.onStop();
  }

  /**
   * A fresh poll now, outside the schedule (tests that step a monitor, "check now"):
   * waits for a poll in flight (polls never overlap), then polls; the next scheduled
   * poll counts from this one.
   */
  async pollNow(): Promise<void> {
    while (this.inFlight) await this.inFlight;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = null;
    await this.once(this.sink);
    this.schedule(this.sink);
  }

  private schedule(emit: SignalSink): void {
    // One timer at a time; a poll in flight (a pollNow) schedules when it ends.
    if (!this.running || this.timer || this.inFlight) return;
    const backoff = this.failures === 0 ? this.nextWait() : Math.min(this.maxBackoff(), this.polling.pollMs * 2 ** (this.failures - 1));
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      if (this.inFlight) return;
      void this.once(emit).then(() => this.schedule(emit));
    }, backoff);
  }

  private nextWait(): number {
    const c = this.polling.cadence;
    return c ? Math.max(0, this.polling.pollMs - (c.monotonic() - this.lastStart)) : this.polling.pollMs;
  }

  /** False once stop() was called: a poll still in flight then emits nothing more. */
  protected get live(): boolean {
    return this.running;
  }

  private maxBackoff(): number {
    return this.polling.maxBackoffMs ?? Math.max(5000, this.polling.pollMs * 8);
  }

  private async once(emit: SignalSink): Promise<void> {
    if (this.polling.cadence) this.lastStart = this.polling.cadence.monotonic();
    const run = (async () => {
      try {
        await this.poll(emit);
        if (this.failures > 0) this.polling.log?.info({ monitor: this.name, failures: this.failures }, `monitor ${this.name} polls again`);
        this.failures = 0;
      } catch (err) {
        this.failures++;
        if (this.failures === 1) {
          if (this.polling.guard) this.polling.guard.report(`monitor ${this.name}: poll`, err);
          else this.polling.log?.error({ monitor: this.name, err: (err as Error).message }, `monitor ${this.name}: poll failed`);
        }
      }
    })();
    this.inFlight = run;
    await run;
    if (this.inFlight === run) this.inFlight = null;
  }
}

/**
 * A PollingMonitor around one function: for monitors with several cadences or
 * several targets (one loop each, each with its own backoff).
 */
export class PollingLoop extends PollingMonitor {
  constructor(
    readonly name: string,
    private readonly read: (emit: SignalSink) => Promise<void> | void,
    opts: PollingOptions,
  ) {
    super(opts);
  }

  protected poll(emit: SignalSink): Promise<void> | void {
    return this.read(emit);
  }
}
