/**
 * Fires a probe round every `intervalMs` — all probers at once — and delivers the
 * rounds strictly in the order they were sent, even though a later round can finish
 * first (an early answer vs. an earlier round still waiting out its timeout).
 * In-order delivery is what makes "N lost in a row" mean N consecutive sends.
 *
 * Rounds overlap on purpose: with a 100 ms interval and a ≥250 ms timeout, waiting for
 * each round before sending the next would stretch the interval on exactly the link
 * that is failing.
 */
import { realTimers, type TimerHandle, type Timers } from '../timers.js';
import type { ProbeResult } from './prober.js';

/** Anything that can run one probe (TargetProber in production, fakes in unit tests). */
export interface Prober {
  probe(): Promise<ProbeResult>;
  close(): void;
}

export interface Round {
  seq: number;
  /** performance.now() when the round was sent. */
  sentAt: number;
  results: ProbeResult[];
}

export interface ProbeLoopOptions {
  intervalMs: number;
  probers: readonly Prober[];
  onRound: (round: Round) => void;
  /** Monotonic ms; default performance.now. */
  monotonic?: () => number;
  /** Where the wait for the next round is scheduled; default Node's timers (ref'd). */
  timers?: Timers;
}

export class ProbeLoop {
  private timer: TimerHandle | undefined;
  private seq = 0;
  private nextToDeliver = 0;
  private readonly done = new Map<number, Round>();
  private running = false;
  private startedAt = 0;
  /** Index of the schedule slot of the next tick (tick k is due at startedAt + k·interval). */
  private slot = 0;
  private readonly mono: () => number;
  private readonly timers: Timers;

  constructor(private readonly opts: ProbeLoopOptions) {
    this.mono = opts.monotonic ?? (() => performance.now());
    this.timers = opts.timers ?? realTimers;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.mono();
    this.slot = 0;
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.opts.probers) p.close();
  }

  private tick(): void {
    if (!this.running) return;
    const seq = this.seq++;
    const sentAt = this.mono();
    void Promise.all(this.opts.probers.map((p) => p.probe())).then((results) => {
      if (!this.running) return;
      this.done.set(seq, { seq, sentAt, results });
      this.flush();
    });
    // Schedule against the start time so timer lag does not accumulate; a late tick
    // skips the slots it missed rather than firing a burst (a burst would shorten the
    // time "N lost in a row" spans). Timers may also fire a little early, so the next
    // slot is counted, not derived from the clock alone.
    const { intervalMs } = this.opts;
    const elapsed = this.mono() - this.startedAt;
    this.slot = Math.max(this.slot + 1, Math.floor(elapsed / intervalMs) + 1);
    this.timer = this.timers.setTimeout(() => this.tick(), Math.max(0, this.slot * intervalMs - elapsed));
  }

  private flush(): void {
    for (;;) {
      const r = this.done.get(this.nextToDeliver);
      if (!r) return;
      this.done.delete(this.nextToDeliver);
      this.nextToDeliver++;
      this.opts.onRound(r);
    }
  }
}
