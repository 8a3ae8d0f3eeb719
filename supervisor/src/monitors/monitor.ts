import type { Signal } from '../core/signal.js';
import { systemTimers, type Timers } from '../../../hardware/timers.js';

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

// Timers live with the drivers (hardware/timers.ts): probe loops and the DNS cache wait too.
export type { TimerHandle, Timers } from '../../../hardware/timers.js';
export { systemTimers } from '../../../hardware/timers.js';

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
