/**
 * Start-up as components: each has `start` and `stop`; they start in dependency order
 * and stop in reverse (as Fastify does with plugins).
 *
 * Guarantees:
 *  - A component that fails to start stops everything started before it, in reverse, and
 *    the start fails with the component's name and cause. Nothing is left half running.
 *  - `stop` stops every started component even when some throw; each failure is logged
 *    with the component's name and returned, never thrown part-way.
 *  - Each component is started at most once and stopped at most once.
 */
import type { Logger } from '../log.js';

export interface Component {
  readonly name: string;
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}

export class StartError extends Error {
  constructor(
    readonly component: string,
    cause: unknown,
  ) {
    super(`${component}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

export class Components {
  private readonly started: Component[] = [];
  private stopping: Promise<Error[]> | null = null;

  constructor(private readonly log: Logger) {}

  /** Start `list` in order; on a failure, stop what started (reverse) and throw StartError. */
  async start(list: readonly Component[]): Promise<void> {
    for (const c of list) {
      try {
        await c.start?.();
      } catch (err) {
        this.log.error({ component: c.name, err: (err as Error).message }, `${c.name} failed to start; stopping what already started`);
        await this.stop();
        throw err instanceof StartError ? err : new StartError(c.name, err);
      }
      this.started.push(c);
    }
  }

  /** Stop every started component in reverse order; returns the failures (also logged). */
  stop(): Promise<Error[]> {
    this.stopping ??= (async () => {
      const errors: Error[] = [];
      while (this.started.length > 0) {
        const c = this.started.pop() as Component;
        try {
          await c.stop?.();
        } catch (err) {
          const e = new Error(`${c.name}: ${(err as Error).message}`, { cause: err });
          this.log.error({ component: c.name, err: (err as Error).message }, `${c.name} failed to stop cleanly`);
          errors.push(e);
        }
      }
      return errors;
    })();
    return this.stopping;
  }

  names(): string[] {
    return this.started.map((c) => c.name);
  }
}
