/**
 * Simulated time for unit tests of loops that schedule through the injected
 * Clock & Timers (supervisor/src/monitors/monitor.ts): nothing moves until the
 * test calls `advance`, which fires every due timer at its own instant, in
 * order, and lets the work it starts (promises, setImmediate) settle before the
 * next one — so an hour of polling runs in milliseconds, and a "too early"
 * check is exact to the millisecond.
 */
import type { Clock, TimerHandle, Timers } from '../../supervisor/src/monitors/monitor.js';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  handle: TimerHandle;
}

/** Lets settled promises and queued immediates run (a few event-loop turns, no timers). */
async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

export class SimClock implements Clock, Timers {
  private mono = 0;
  private seq = 0;
  private queue: Pending[] = [];

  /** `wallStartMs`: what `now()` says at monotonic 0. */
  constructor(private readonly wallStartMs = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.wallStartMs + this.mono;
  }

  monotonic(): number {
    return this.mono;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle = { sim: ++this.seq };
    this.queue.push({ at: this.mono + Math.max(0, ms), seq: this.seq, fn, handle });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.queue = this.queue.filter((p) => p.handle !== handle);
  }

  /** Timers scheduled and not yet fired or cleared. */
  get pendingTimers(): number {
    return this.queue.length;
  }

  /** Milliseconds until the next timer fires (null: none pending). */
  nextIn(): number | null {
    const next = this.earliest();
    return next ? next.at - this.mono : null;
  }

  /** Moves simulated time forward by `ms`, firing due timers at their instants. */
  async advance(ms: number): Promise<void> {
    const end = this.mono + ms;
    await settle();
    for (;;) {
      const next = this.earliest();
      if (!next || next.at > end) break;
      this.queue = this.queue.filter((p) => p !== next);
      this.mono = next.at;
      next.fn();
      await settle();
    }
    this.mono = end;
    await settle();
  }

  private earliest(): Pending | undefined {
    let best: Pending | undefined;
    for (const p of this.queue) if (!best || p.at < best.at || (p.at === best.at && p.seq < best.seq)) best = p;
    return best;
  }
}

/**
 * After `stop()`, a polling monitor leaves no timer behind and polls nothing more,
 * however long simulated time runs on. `polled()` counts what it has delivered.
 */
export async function assertStopsQuietly(
  t: { equal(found: unknown, wanted: unknown, message: string): unknown },
  clock: SimClock,
  stop: () => Promise<void>,
  polled: () => number,
): Promise<void> {
  await stop();
  t.equal(clock.pendingTimers, 0, 'no timer left behind');
  const n = polled();
  await clock.advance(60_000);
  t.equal(polled(), n, 'nothing polled after stop');
}
