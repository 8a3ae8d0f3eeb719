/**
 * Polls chronyd (through a TimeSource: the chronyc wrapper or the simulated
 * box) and reports the box's own time as signals:
 *   time.offset      system clock minus NTP time (s)
 *   time.errorBound  |offset| + root dispersion + root delay/2 (s)
 *   time.leap        chronyd's leap status
 *   time.source      the selected NTP source (address) or null
 *   time.refAge      age of chronyd's last reference update (s)
 * Statuses come from the pure core (core/timeHealth.ts). When chronyd cannot
 * be asked, the signals are `unknown` with the cause (a monitoring fault,
 * never "time ok"), except `time.errorBound` once a good bound is known: it
 * then shows that bound grown at the holdover drift rate (warn; fail only when
 * it reaches the limit) — a chronyd restart is not a wrong clock.
 * Each poll asks chronyd for tracking, sources and (if the source offers it)
 * ntpdata: the last packet of each source, which tells an upstream that
 * answers "unsynchronised" (leap 3 / stratum 16) long before chronyd drops it.
 */
import type { NtpSourceData, NtpSourceInfo, TimeSource } from '../../../hardware/chrony/index.js';
import type { Signal, SignalStatus, SignalValue } from '../core/signal.js';
import { type TimeEvaluation, type TimeHealthState, type TimeSourceFacts, type TimeThresholds, evaluateTime, evaluateTimeFault } from '../core/timeHealth.js';
import type { Guard } from '../guard.js';
import { type Clock, type SignalSink, systemClock, timersOf } from './monitor.js';
import { PollingMonitor } from './pollingMonitor.js';

export const TIME_SIGNAL_KEYS = ['time.offset', 'time.errorBound', 'time.leap', 'time.source', 'time.refAge'] as const;
export type TimeSignalKey = (typeof TIME_SIGNAL_KEYS)[number];

export interface TimeMonitorOptions {
  source: TimeSource;
  thresholds: TimeThresholds;
  /** How often chronyd is asked (default 1000 ms). */
  pollMs?: number;
  /** `source` field of the signals (default `chrony`). */
  sourceName?: string;
  clock?: Clock;
  /** Called after every evaluation, also of a poll chronyd did not answer (for tests, benches, the status CLI). */
  onEvaluation?: (e: TimeEvaluation) => void;
  /** Where a bug in a poll is reported (once; the loop goes on with backoff). */
  guard?: Guard;
}

export class TimeMonitor extends PollingMonitor {
  readonly name = 'time';
  private readonly pollMs: number;
  private readonly clock: Clock;
  private readonly sourceName: string;
  private state: TimeHealthState | undefined;
  private emit: SignalSink = () => {};

  constructor(private readonly opts: TimeMonitorOptions) {
    const clock = opts.clock ?? systemClock;
    const timers = timersOf(clock);
    // Fixed cadence on the monotonic clock; a slow chronyc delays, never stacks.
    super({ pollMs: opts.pollMs ?? 1000, cadence: clock, ...(timers ? { timers } : {}), ...(opts.guard ? { guard: opts.guard } : {}) });
    this.pollMs = opts.pollMs ?? 1000;
    this.clock = clock;
    this.sourceName = opts.sourceName ?? 'chrony';
  }

  /** Resolves after the first poll has been reported. */
  protected override onStart(emit: SignalSink): void {
    this.emit = emit;
  }

  /** One chronyc round (never two at once: the base schedules the next after it). */
  protected async poll(): Promise<void> {
    let evaluation: TimeEvaluation;
    try {
      const [tracking, sources, packets] = await Promise.all([this.opts.source.tracking(), this.opts.source.sources(), this.ntpData()]);
      evaluation = evaluateTime(
        {
          tracking,
          sources: sourceFacts(sources, packets.data),
          nowMs: this.clock.now(),
          monoMs: this.clock.monotonic(),
          ...(packets.error ? { packetsUnavailable: packets.error } : {}),
        },
        this.state,
        this.opts.thresholds,
      );
    } catch (err) {
      if (!this.live) return;
      const cause = err instanceof Error ? err.message : String(err);
      evaluation = evaluateTimeFault({ cause, monoMs: this.clock.monotonic() }, this.state, this.opts.thresholds);
    }
    if (!this.live) return;
    this.state = evaluation.state;
    this.report(evaluation);
    this.opts.onEvaluation?.(evaluation);
  }

  /**
   * ntpdata is extra: when it cannot be had (501 over chronyd's UDP command
   * port, a race with a stopping chronyd) the poll goes on without it and
   * time.source says so. A source without the method (the simulated box) is fine as is.
   */
  private async ntpData(): Promise<{ data?: NtpSourceData[]; error?: string }> {
    if (!this.opts.source.ntpData) return {};
    try {
      return { data: await this.opts.source.ntpData() };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    }
  }

  private ttlMs(): number {
    // Three missed polls (or one slow chronyc) before the core calls the facts stale.
    return Math.max(3 * this.pollMs, this.pollMs + 5000);
  }

  private signal(key: TimeSignalKey, status: SignalStatus, value: SignalValue, detail: string, unit?: string): Signal {
    return {
      subsystem: 'time',
      source: this.sourceName,
      key,
      status,
      value,
      observedAt: this.clock.now(),
      ttlMs: this.ttlMs(),
      detail,
      ...(unit ? { unit } : {}),
    };
  }

  private report(e: TimeEvaluation): void {
    this.emit(this.signal('time.offset', e.offset.status, e.offset.value, e.offset.detail, 's'));
    this.emit(this.signal('time.errorBound', e.errorBound.status, e.errorBound.value, e.errorBound.detail, 's'));
    this.emit(this.signal('time.leap', e.leap.status, e.leap.value, e.leap.detail));
    this.emit(this.signal('time.source', e.source.status, e.source.value, e.source.detail));
    this.emit(this.signal('time.refAge', e.refAge.status, e.refAge.value, e.refAge.detail, 's'));
  }
}

function sourceFacts(sources: readonly NtpSourceInfo[], packets: readonly NtpSourceData[] | undefined): TimeSourceFacts[] {
  return sources.map((s) => {
    const p = packets?.find((d) => d.address === s.address);
    return {
      address: s.address,
      state: s.state,
      reach: s.reach,
      lastRxS: s.lastRxS,
      ...(p ? { lastPacket: { leapStatus: p.leapStatus, stratum: p.stratum, validRx: p.totalValidRx } } : {}),
    };
  });
}
