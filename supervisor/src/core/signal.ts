/**
 * A signal is one observed fact about the box or its surroundings.
 * Monitors (drivers at the edge) emit signals; the pure core folds them into
 * health. A signal that is not refreshed within its ttl becomes `unknown`:
 * silence from a monitor is never read as "still fine".
 */
export const SIGNAL_STATUSES = ['ok', 'warn', 'fail', 'unknown'] as const;
export type SignalStatus = (typeof SIGNAL_STATUSES)[number];

export const SUBSYSTEMS = ['power', 'time', 'wan', 'centres', 'recording', 'telephony', 'flows', 'system'] as const;
export type Subsystem = (typeof SUBSYSTEMS)[number];

export type SignalValue = number | string | boolean | null;

export interface Signal {
  /** Which health subsystem this fact belongs to. */
  subsystem: Subsystem;
  /** The driver instance that observed it, e.g. `nut:ups1`, `chrony`, `sim`. */
  source: string;
  /**
   * Unique key on the box, dotted, starting with the subsystem:
   * `power.ups1.mains`, `time.offset`, `wan.wan1.link`, `centres.local.wan1`.
   */
  key: string;
  status: SignalStatus;
  value: SignalValue;
  unit?: string;
  /** Epoch ms when the fact was observed. */
  observedAt: number;
  /** How long (ms) the fact may be trusted without a refresh. */
  ttlMs: number;
  /** Short technical explanation (English), e.g. the cause of a monitoring fault. */
  detail?: string;
}

/** Severity order used when folding: unknown ranks between warn and fail. */
const RANK: Record<SignalStatus, number> = { ok: 0, warn: 1, unknown: 2, fail: 3 };

export function worstStatus(statuses: Iterable<SignalStatus>, empty: SignalStatus = 'unknown'): SignalStatus {
  let worst: SignalStatus | undefined;
  for (const s of statuses) {
    if (worst === undefined || RANK[s] > RANK[worst]) worst = s;
  }
  return worst ?? empty;
}

export function isSignalStatus(v: unknown): v is SignalStatus {
  return typeof v === 'string' && (SIGNAL_STATUSES as readonly string[]).includes(v);
}
