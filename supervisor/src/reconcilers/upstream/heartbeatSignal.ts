/**
 * Pure mapping from the heartbeat's status to the `telephony.upstream.heartbeat`
 * signal. A failing heartbeat matters twice: we may be cut off from the
 * upstream, and the upstream may already have rerouted our calls because it
 * thinks this box is dead.
 */
import type { Signal } from '../../core/signal.js';
import type { HeartbeatStatus } from './heartbeat.js';

export const HEARTBEAT_SIGNAL_KEY = 'telephony.upstream.heartbeat';

export function heartbeatSignal(
  s: HeartbeatStatus,
  nowMs: number,
  opts: {
    /** Consecutive failed beats that make the signal `fail` (fewer: `warn`). Default 3. */
    failAfter?: number;
    source?: string;
  } = {},
): Signal {
  const failAfter = opts.failAfter ?? 3;
  const ageS = s.lastOkAt === null ? null : Math.max(0, (nowMs - s.lastOkAt) / 1000);
  // A beat every interval, each allowed timeoutMs: older than this means beats are not getting through.
  const staleMs = 2 * s.intervalMs + s.timeoutMs;
  const base = {
    subsystem: 'telephony' as const,
    source: opts.source ?? 'upstream:heartbeat',
    key: HEARTBEAT_SIGNAL_KEY,
    value: ageS === null ? null : Math.round(ageS * 10) / 10,
    unit: 's',
    observedAt: nowMs,
    ttlMs: staleMs,
  };
  if (!s.running) return { ...base, status: 'unknown', detail: 'heartbeat is not running' };
  if (s.consecutiveFailures >= failAfter) {
    return {
      ...base,
      status: 'fail',
      detail: `${s.consecutiveFailures} heartbeats in a row failed — the upstream may treat this box as dead and reroute; last error: ${s.lastError ?? '?'}`,
    };
  }
  if (s.consecutiveFailures > 0) {
    return {
      ...base,
      status: 'warn',
      detail: `${s.consecutiveFailures} heartbeat(s) in a row failed; last error: ${s.lastError ?? '?'}`,
    };
  }
  if (s.lastOkAt === null) return { ...base, status: 'unknown', detail: 'no heartbeat answered yet' };
  if (nowMs - s.lastOkAt > staleMs) {
    return {
      ...base,
      status: 'fail',
      detail: `last heartbeat answered ${Math.round((nowMs - s.lastOkAt) / 1000)} s ago (interval ${s.intervalMs / 1000} s) — beats are not getting through`,
    };
  }
  return { ...base, status: 'ok', detail: `last heartbeat answered in ${Math.round(s.lastLatencyMs ?? 0)} ms` };
}
