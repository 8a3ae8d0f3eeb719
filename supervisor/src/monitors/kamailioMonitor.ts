import type { KamailioRpc } from '../../../hardware/kamailio/rpc.js';
import type { Clock, Monitor, SignalSink } from './monitor.js';

/**
 * Is the call router alive? `telephony.kamailio` from core.uptime over JSON-RPC.
 * Kamailio down is a failure of the call path on this box (Kamailio's own
 * failure routing cannot help if Kamailio itself is gone) — an alarm; whether it
 * moves calls is the policy's `failoverOn` choice (the upstream reroute can).
 */
export class KamailioMonitor implements Monitor {
  readonly name = 'kamailio';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly rpc: Pick<KamailioRpc, 'coreUptime'>,
    private readonly clock: Clock,
    private readonly pollMs = 1000,
  ) {}

  async start(emit: SignalSink): Promise<void> {
    const poll = async () => {
      const observedAt = this.clock.now();
      const base = { subsystem: 'telephony' as const, source: 'kamailio', key: 'telephony.kamailio', observedAt, ttlMs: this.pollMs * 3 };
      try {
        const up = await this.rpc.coreUptime();
        emit({ ...base, status: 'ok', value: up.uptimeS, unit: 's', detail: `up since ${up.upSince}` });
      } catch (err) {
        emit({ ...base, status: 'fail', value: null, detail: `Kamailio JSON-RPC: ${(err as Error).message}` });
      }
    };
    await poll();
    this.timer = setInterval(() => void poll(), this.pollMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
  }
}
