/**
 * Notices when the box's wall clock is stepped (date -s, chronyd makestep,
 * a VM resumed) by comparing how far Date.now() and the monotonic clock moved
 * between two checks. The supervisor's own timers run on the monotonic clock
 * and are unaffected; but timestamps in the store jump, so a step is recorded:
 * `onStep` (for an event in the store) and the signal `time.wallClockStep`
 * (warn for a while after a step, value = the step in s, + = clock jumped ahead).
 */
import type { Signal } from '../core/signal.js';
import { wallClockStepMs } from '../core/timeHealth.js';
import type { Guard } from '../guard.js';
import { type Clock, type SignalSink, systemClock, timersOf } from './monitor.js';
import { PollingMonitor } from './pollingMonitor.js';

export interface WallClockStep {
  /** Wall-clock jump, ms (+ = forward). */
  stepMs: number;
  /** Wall clock just after the step was noticed (epoch ms). */
  atMs: number;
  /** Wall clock the previous check would have predicted (epoch ms). */
  expectedMs: number;
}

export interface WallClockMonitorOptions {
  /** How often the clocks are compared (default 1000 ms). */
  checkMs?: number;
  /** Jumps above this are steps (default 0.1 s). */
  thresholdS?: number;
  /** How long the signal stays at warn after a step (default 600 s). */
  warnForS?: number;
  clock?: Clock;
  onStep?: (step: WallClockStep) => void;
  /** Where a bug in a check (or in onStep) is reported (once; checking goes on). */
  guard?: Guard;
}

export class WallClockMonitor extends PollingMonitor {
  readonly name = 'time.wallClock';
  private readonly clock: Clock;
  private readonly checkMs: number;
  private last: { wallMs: number; monoMs: number } | null = null;
  private lastStep: { step: WallClockStep; monoMs: number } | null = null;
  private emit: SignalSink = () => {};

  constructor(private readonly opts: WallClockMonitorOptions = {}) {
    const clock = opts.clock ?? systemClock;
    const timers = timersOf(clock);
    // A check every checkMs on the monotonic clock (the thing being compared against).
    super({ pollMs: opts.checkMs ?? 1000, cadence: clock, ...(timers ? { timers } : {}), ...(opts.guard ? { guard: opts.guard } : {}) });
    this.clock = clock;
    this.checkMs = opts.checkMs ?? 1000;
  }

  protected override onStart(emit: SignalSink): void {
    this.emit = emit;
    this.last = null;
  }

  protected poll(): void {
    this.check();
  }

  /** Compare the clocks now (also called by tests with a fake clock). */
  check(): void {
    const cur = { wallMs: this.clock.now(), monoMs: this.clock.monotonic() };
    if (this.last) {
      const stepMs = wallClockStepMs(this.last, cur);
      if (Math.abs(stepMs) > (this.opts.thresholdS ?? 0.1) * 1000) {
        const step: WallClockStep = { stepMs, atMs: cur.wallMs, expectedMs: cur.wallMs - stepMs };
        this.lastStep = { step, monoMs: cur.monoMs };
        this.opts.onStep?.(step);
      }
    }
    this.last = cur;
    this.emit(this.toSignal(cur));
  }

  private toSignal(cur: { wallMs: number; monoMs: number }): Signal {
    const warnForMs = (this.opts.warnForS ?? 600) * 1000;
    const recent = this.lastStep && cur.monoMs - this.lastStep.monoMs < warnForMs ? this.lastStep.step : null;
    return {
      subsystem: 'time',
      source: 'wallclock',
      key: 'time.wallClockStep',
      status: recent ? 'warn' : 'ok',
      value: recent ? recent.stepMs / 1000 : 0,
      unit: 's',
      observedAt: cur.wallMs,
      ttlMs: 3 * this.checkMs,
      detail: recent
        ? `wall clock stepped ${recent.stepMs > 0 ? 'forward' : 'back'} by ${(Math.abs(recent.stepMs) / 1000).toFixed(3)} s at ${new Date(recent.atMs).toISOString()}`
        : 'no wall-clock step seen',
    };
  }
}
