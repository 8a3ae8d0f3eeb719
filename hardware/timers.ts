/**
 * One-shot timers as an injectable interface, so every loop that waits — a monitor's
 * poll, a probe round, a DNS refresh, a heartbeat — can run on simulated time in unit
 * tests (test/helpers/simClock.ts) and on Node's timers in the product.
 *
 * Guarantees:
 *  - `realTimers` are Node's own (ref'd: they keep a process that has nothing else
 *    alive, as a stand-alone monitor process needs); `systemTimers` are unref'd (the
 *    supervisor: its servers keep it alive, a stray timer must not).
 *  - `repeatEvery` re-arms a one-shot timer after each run: one timer at a time, and
 *    after `stop()` nothing runs again. It does not catch what `fn` throws: wrap `fn`
 *    in the caller's guard.
 */

/** An opaque handle from `Timers.setTimeout`. */
export type TimerHandle = object;

export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Node's timers, ref'd. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Node's timers, unref'd: they never keep the process alive on their own. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface Repeating {
  stop(): void;
}

/** Run `fn` every `ms` on `timers` until stopped (the first run after `ms`). */
export function repeatEvery(timers: Timers, ms: number, fn: () => void): Repeating {
  let handle: TimerHandle | null = null;
  let stopped = false;
  const arm = () => {
    handle = timers.setTimeout(() => {
      handle = null;
      if (stopped) return;
      // Re-armed before fn runs, so a throwing fn does not end the repetition.
      arm();
      fn();
    }, ms);
  };
  arm();
  return {
    stop() {
      stopped = true;
      if (handle) timers.clearTimeout(handle);
      handle = null;
    },
  };
}
