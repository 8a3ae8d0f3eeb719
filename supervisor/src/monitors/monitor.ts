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

export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
};
