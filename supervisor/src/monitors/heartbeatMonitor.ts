import type { Heartbeat } from '../reconcilers/upstream/heartbeat.js';
import { heartbeatSignal } from '../reconcilers/upstream/heartbeatSignal.js';
import type { Clock, Monitor, SignalSink } from './monitor.js';

/**
 * Runs the upstream heartbeat and reports its health as `telephony.upstream.heartbeat`.
 * The heartbeat is what lets the carrier/backup notice a dead box, so a failing one
 * is an alarm here (it does not move calls by itself).
 */
export class HeartbeatMonitor implements Monitor {
  readonly name = 'upstream-heartbeat';
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly heartbeat: Heartbeat,
    private readonly clock: Clock,
  ) {}

  async start(emit: SignalSink): Promise<void> {
    const report = () => emit(heartbeatSignal(this.heartbeat.status(), this.clock.now()));
    this.unsubscribe = this.heartbeat.onBeat(report);
    this.heartbeat.start();
    // Also report between beats, so a heartbeat that stops answering ages visibly.
    this.timer = setInterval(report, 1000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    await this.heartbeat.stop();
  }
}
