/**
 * One guard around every timer callback, sink call and fire-and-forget promise.
 *
 * Why: an exception thrown out of a `setInterval` callback or a promise nobody awaits
 * either kills the process or vanishes without a trace. The supervisor must do neither:
 * a fault in one monitor, reconciler or API handler is logged with where it happened,
 * raised as an alarm, and the decision loop goes on.
 *
 * Guarantees:
 *  - `run`, `callback` and `promise` never throw and never leave a rejection unhandled.
 *  - Every fault is logged once, with `where` and the stack.
 *  - `onFault` is called for every fault; if it throws itself, that is logged and dropped
 *    (no recursion, no loop).
 */
import type { Logger } from './log.js';

export interface Fault {
  /** What was running, e.g. "monitor sim: poll", "reconciler kamailio: drift check". */
  where: string;
  error: Error;
  at: number;
}

export class Guard {
  private inFault = false;

  constructor(
    private readonly log: Logger,
    private readonly onFault: (f: Fault) => void = () => {},
  ) {}

  /** Runs `fn` now; a throw or a rejected returned promise becomes a fault. */
  run<T>(where: string, fn: () => T): T | undefined {
    try {
      const r = fn();
      if (r instanceof Promise) r.catch((err: unknown) => this.report(where, err));
      return r;
    } catch (err) {
      this.report(where, err);
      return undefined;
    }
  }

  /** Wraps a callback (timer, event listener, sink) so it can never throw out. */
  callback<A extends unknown[]>(where: string, fn: (...args: A) => unknown): (...args: A) => void {
    return (...args: A) => {
      this.run(where, () => fn(...args));
    };
  }

  /** Starts nothing: observes a promise nobody awaits, so its rejection is a fault. */
  promise(where: string, p: Promise<unknown>): void {
    p.catch((err: unknown) => this.report(where, err));
  }

  report(where: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.log.error({ where, err: { message: error.message, stack: error.stack } }, `internal fault in ${where}: ${error.message}`);
    if (this.inFault) return;
    this.inFault = true;
    try {
      this.onFault({ where, error, at: Date.now() });
    } catch (e) {
      this.log.error({ where: 'guard onFault', err: (e as Error).message }, 'raising the internal alarm failed');
    } finally {
      this.inFault = false;
    }
  }
}
