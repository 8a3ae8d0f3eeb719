import type { KamailioRpc } from '../../../hardware/kamailio/rpc.js';
import type { Guard } from '../guard.js';
import type { Clock, SignalSink } from './monitor.js';
import { PollingMonitor } from './pollingMonitor.js';

/**
 * Is the call router alive? `telephony.kamailio` from core.uptime over JSON-RPC.
 * Kamailio down is a failure of the call path on this box (Kamailio's own
 * failure routing cannot help if Kamailio itself is gone) — an alarm; whether it
 * moves calls is the policy's `failoverOn` choice (the upstream reroute can).
 */
export class KamailioMonitor extends PollingMonitor {
  readonly name = 'kamailio';

  constructor(
    private readonly rpc: Pick<KamailioRpc, 'coreUptime'>,
    private readonly clock: Clock,
    private readonly pollMs = 1000,
    guard?: Guard,
  ) {
    super({ pollMs, ...(guard ? { guard } : {}) });
  }

  protected async poll(emit: SignalSink): Promise<void> {
    const observedAt = this.clock.now();
    const base = { subsystem: 'telephony' as const, source: 'kamailio', key: 'telephony.kamailio', observedAt, ttlMs: this.pollMs * 3 };
    try {
      const up = await this.rpc.coreUptime();
      emit({ ...base, status: 'ok', value: up.uptimeS, unit: 's', detail: `up since ${up.upSince}` });
    } catch (err) {
      emit({ ...base, status: 'fail', value: null, detail: `Kamailio JSON-RPC: ${(err as Error).message}` });
    }
  }
}
