import type { KamailioRpc } from '../../../hardware/kamailio/rpc.js';
import {
  type CallOutcomeRules,
  type CallOutcomeState,
  type CentreCallCounts,
  defaultCallOutcomeRules,
  initialCallOutcomeState,
  judgeCentreCalls,
} from '../core/callOutcomes.js';
import { LOCAL_CALLS_SIGNAL } from '../core/health.js';
import type { Guard } from '../guard.js';
import { CALL_OUTCOME_TABLE } from '../reconcilers/kamailio/render.js';
import type { Clock, SignalSink } from './monitor.js';
import { PollingMonitor } from './pollingMonitor.js';

/**
 * Does the local centre take the calls it gets? `centres.calls.local` from the
 * call outcomes Kamailio counts per centre (`htable.dump vp_outcome` over
 * JSON-RPC; render.ts "Call outcomes"), judged by core/callOutcomes.ts. A centre
 * that answers OPTIONS but drops or refuses every INVITE fails here while its
 * probes say ok; health treats it as unreachable (safety floor: calls to backup).
 * Kamailio not answering: `unknown` (the router's own signal says why).
 */
export class CallOutcomeMonitor extends PollingMonitor {
  readonly name = 'call-outcomes';
  private state: CallOutcomeState = initialCallOutcomeState;

  constructor(
    private readonly rpc: Pick<KamailioRpc, 'call'>,
    private readonly clock: Clock,
    private readonly pollMs = 1000,
    guard?: Guard,
    private readonly rules: CallOutcomeRules = defaultCallOutcomeRules,
  ) {
    super({ pollMs, ...(guard ? { guard } : {}) });
  }

  protected async poll(emit: SignalSink): Promise<void> {
    const observedAt = this.clock.now();
    const base = { subsystem: 'centres' as const, source: 'kamailio', key: LOCAL_CALLS_SIGNAL, observedAt, ttlMs: this.pollMs * 3 };
    let counts: CentreCallCounts;
    try {
      counts = centreCallCounts(await this.rpc.call('htable.dump', [CALL_OUTCOME_TABLE]), 'local');
    } catch (err) {
      emit({ ...base, status: 'unknown', value: null, detail: `cannot read the call outcomes from Kamailio: ${(err as Error).message}` });
      return;
    }
    const j = judgeCentreCalls(this.state, counts, this.clock.monotonic(), this.rules);
    this.state = j.state;
    emit({ ...base, status: j.status, value: j.streak, unit: 'failed in a row', detail: j.detail });
  }
}

/**
 * One role's counters from `htable.dump`'s result: `[{ slot: [{ name: "local::failed", value: 3 }, …] }, …]`.
 * A key Kamailio has not written yet (no such call since it started) is 0.
 */
export function centreCallCounts(dump: unknown, role: 'local' | 'backup'): CentreCallCounts {
  const values = new Map<string, number>();
  if (!Array.isArray(dump)) throw new Error(`htable.dump returned ${JSON.stringify(dump)?.slice(0, 80)}, expected a list of slots`);
  for (const entry of dump) {
    const slots = (entry as { slot?: unknown }).slot;
    if (!Array.isArray(slots)) continue;
    for (const item of slots) {
      const { name, value } = item as { name?: unknown; value?: unknown };
      const n = typeof value === 'number' ? value : Number(value);
      if (typeof name === 'string' && Number.isFinite(n)) values.set(name, n);
    }
  }
  const get = (k: string) => values.get(`${role}::${k}`) ?? 0;
  const code = values.get(`${role}::code`);
  return { failed: get('failed'), taken: get('taken'), streak: get('streak'), lastCode: code ?? null };
}
