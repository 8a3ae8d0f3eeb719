import type { Signal } from '../core/signal.js';

/** Where monitors deliver what they observe. Must not throw. */
export type SignalSink = (signal: Signal) => void;

/**
 * A monitor turns one driver (NUT, chrony, probes, the simulator, …) into signals.
 * It owns its timers and sockets; `stop()` releases all of them.
 * A monitor never decides routing: it only reports facts, and reports its own
 * faults (daemon down, parse error) as `unknown` signals with the cause in `detail`.
 */
export interface Monitor {
  readonly name: string;
  start(emit: SignalSink): Promise<void>;
  stop(): Promise<void>;
}

/** Wall clock for observedAt; monotonic for intervals. Injected so tests control time. */
export interface Clock {
  now(): number;
  monotonic(): number;
}

/** An opaque handle from `Timers.setTimeout`. */
export type TimerHandle = object;

/**
 * One-shot timers, injected next to the Clock so a loop's waits run on simulated
 * time in unit tests (test/helpers/simClock.ts) and on the real timers in the product.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real timers, unref'd: a monitor's next poll never keeps the process alive on its own. */
export const systemTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The timers a clock brings with it (systemClock, a test's SimClock), if any. */
export function timersOf(clock: Clock | undefined): Timers | undefined {
  const c = clock as Partial<Timers> | undefined;
  return typeof c?.setTimeout === 'function' && typeof c.clearTimeout === 'function' ? (c as Timers) : undefined;
}

export const systemClock: Clock & Timers = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  ...systemTimers,
};
