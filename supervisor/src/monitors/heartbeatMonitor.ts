import type { Guard } from '../guard.js';
import type { Heartbeat } from '../reconcilers/upstream/heartbeat.js';
import { heartbeatSignal } from '../reconcilers/upstream/heartbeatSignal.js';
import { type Clock, type SignalSink, timersOf } from './monitor.js';
import { PollingMonitor } from './pollingMonitor.js';

/**
 * Runs the upstream heartbeat and reports its health as `telephony.upstream.heartbeat`.
 * The heartbeat is what lets the carrier/backup notice a dead box, so a failing one
 * is an alarm here (it does not move calls by itself).
 * Reported on every beat, and polled every second between beats, so a heartbeat that
 * stops answering ages visibly.
 */
export class HeartbeatMonitor extends PollingMonitor {
  readonly name = 'upstream-heartbeat';
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly heartbeat: Heartbeat,
    private readonly clock: Clock,
    guard?: Guard,
  ) {
    const timers = timersOf(clock);
    super({ pollMs: 1000, ...(timers ? { timers } : {}), ...(guard ? { guard } : {}) });
  }

  protected override onStart(emit: SignalSink): void {
    this.unsubscribe = this.heartbeat.onBeat(() => this.report(emit));
    this.heartbeat.start();
  }

  protected poll(emit: SignalSink): void {
    this.report(emit);
  }

  protected override async onStop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.heartbeat.stop();
  }

  private report(emit: SignalSink): void {
    emit(heartbeatSignal(this.heartbeat.status(), this.clock.now()));
  }
}
