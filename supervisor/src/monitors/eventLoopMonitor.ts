/**
 * The supervisor's own event-loop delay as the signal `system.eventLoop`.
 *
 * Why: every probe, timeout and decision of this process runs on one event loop. A loop
 * that lags (a sync call that blocks, a CPU-starved box) makes every other signal late
 * and every timeout long, so the lag itself must be visible — as a number, with
 * thresholds from config (`system.eventLoop`).
 *
 * Measured with `perf_hooks.monitorEventLoopDelay` (libuv timer, no polling of our own);
 * each report covers the window since the last one and then resets the histogram.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import { type Clock, type Monitor, type SignalSink, systemTimers, timersOf } from './monitor.js';
import { type Repeating, repeatEvery } from '../../../hardware/timers.js';

export interface EventLoopThresholds {
  /** How often the delay is reported (ms); also the window it covers. */
  reportMs: number;
  /** p99 delay in the window at or above this (ms) → warn. */
  warnMs: number;
  /** p99 delay in the window at or above this (ms) → fail. */
  failMs: number;
}

export class EventLoopMonitor implements Monitor {
  readonly name = 'eventLoop';
  private histogram: IntervalHistogram | null = null;
  private timer: Repeating | null = null;

  constructor(
    private readonly cfg: EventLoopThresholds,
    private readonly clock: Clock,
  ) {}

  async start(emit: SignalSink): Promise<void> {
    this.histogram = monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
    this.timer = repeatEvery(timersOf(this.clock) ?? systemTimers, this.cfg.reportMs, () => this.report(emit));
  }

  async stop(): Promise<void> {
    this.timer?.stop();
    this.timer = null;
    this.histogram?.disable();
    this.histogram = null;
  }

  private report(emit: SignalSink): void {
    const h = this.histogram;
    if (!h) return;
    // The histogram is in ns and includes the sampling resolution itself.
    const max = Math.max(0, h.max / 1e6 - 10);
    // A blocked loop takes no samples while it is blocked: a 3 s stall is ONE sample among
    // hundreds and the raw p99 never sees it (coordinated omission). Corrected for the
    // largest stall (as if sampled every resolution while blocked), p99 ≥ max − window/100.
    const p99 = Math.max(0, h.percentile(99) / 1e6 - 10, max - this.cfg.reportMs / 100);
    h.reset();
    const status = p99 >= this.cfg.failMs ? 'fail' : p99 >= this.cfg.warnMs ? 'warn' : 'ok';
    emit({
      subsystem: 'system',
      source: 'supervisor',
      key: 'system.eventLoop',
      status,
      value: Math.round(p99),
      unit: 'ms',
      observedAt: this.clock.now(),
      ttlMs: this.cfg.reportMs * 3,
      ...(status === 'ok' ? {} : { detail: `event loop delay p99 ${Math.round(p99)} ms, max ${Math.round(max)} ms over ${this.cfg.reportMs / 1000} s` }),
    });
  }
}
