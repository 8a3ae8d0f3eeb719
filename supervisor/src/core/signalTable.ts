import type { Signal, SignalStatus } from './signal.js';

/** A signal as the core keeps it: with the time its value or status last changed. */
export interface TrackedSignal extends Signal {
  /** When value or status last changed (used for "on battery for 3 min"), in the table's time base. */
  changedAt: number;
  /**
   * When the fact was observed, in the table's time base. The supervisor feeds steady
   * (monotonic-based) time here, so a wall-clock step neither hides a dead monitor nor
   * expires a live one; `observedAt` stays the wall-clock time for records and display.
   */
  receivedAt: number;
}

/** A signal as seen at a given moment: stale ones are turned into `unknown`. */
export interface EffectiveSignal extends TrackedSignal {
  stale: boolean;
}

/**
 * The latest fact per key. Pure: callers pass `now`.
 * Why changedAt lives here and not in monitors: durations ("on battery for X")
 * are policy inputs and must survive a monitor that restarts.
 */
export class SignalTable {
  private readonly byKey = new Map<string, TrackedSignal>();

  /**
   * Store a signal observed at `receivedAt` (the table's time base; default: its own
   * `observedAt`, as when replaying recorded history). Returns true if status or value changed.
   */
  apply(signal: Signal, receivedAt: number = signal.observedAt): boolean {
    const prev = this.byKey.get(signal.key);
    const same = prev !== undefined && prev.status === signal.status && prev.value === signal.value;
    const changedAt = same ? prev.changedAt : receivedAt;
    this.byKey.set(signal.key, { ...signal, changedAt, receivedAt });
    return !same;
  }

  get(key: string): TrackedSignal | undefined {
    return this.byKey.get(key);
  }

  /** Every signal as of `now`; a signal past its ttl is `unknown` ("stale"). */
  effective(now: number): EffectiveSignal[] {
    const out: EffectiveSignal[] = [];
    for (const s of this.byKey.values()) out.push(effectiveSignal(s, now));
    return out.sort((a, b) => a.key.localeCompare(b.key));
  }

  /** Keys whose effective status differs between two moments (to notice a signal going stale). */
  staleTransitions(prevNow: number, now: number): string[] {
    const keys: string[] = [];
    for (const s of this.byKey.values()) {
      if (effectiveSignal(s, prevNow).stale !== effectiveSignal(s, now).stale) keys.push(s.key);
    }
    return keys;
  }

  restore(signals: Iterable<TrackedSignal>): void {
    for (const s of signals) this.byKey.set(s.key, s);
  }
}

export function effectiveSignal(s: TrackedSignal, now: number): EffectiveSignal {
  const stale = now - s.receivedAt > s.ttlMs;
  if (!stale) return { ...s, stale: false };
  const status: SignalStatus = 'unknown';
  const ageS = Math.round((now - s.receivedAt) / 100) / 10;
  return { ...s, status, stale: true, detail: `no update for ${ageS} s (ttl ${s.ttlMs / 1000} s)` };
}
