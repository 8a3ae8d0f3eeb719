/**
 * Fault injection for the chaos suite: only when the process runs with
 * VAKTPOST_TEST_HOOKS=1 (never set by the package or `make run`). An armed hook throws
 * once, at the next pass through the named place, so a test can show that a fault in a
 * monitor, a reconciler or an API handler is an alarm and a log line, not a crash.
 */
/** `monitorHang`: the simulated box's monitor hangs in its next read (a hung driver) until stopped. */
export const HOOK_PLACES = ['monitor', 'reconciler', 'api', 'monitorHang'] as const;
export type HookPlace = (typeof HOOK_PLACES)[number];

export class TestHooks {
  private readonly armed = new Set<HookPlace>();

  static fromEnv(env: NodeJS.ProcessEnv): TestHooks | null {
    return env.VAKTPOST_TEST_HOOKS === '1' ? new TestHooks() : null;
  }

  arm(place: HookPlace): void {
    this.armed.add(place);
  }

  /** Throws once if `place` is armed. */
  trip(place: HookPlace): void {
    if (!this.take(place)) return;
    throw new Error(`test hook: fault injected in the ${place}`);
  }

  /** True once if `place` is armed (for faults other than a throw). */
  take(place: HookPlace): boolean {
    return this.armed.delete(place);
  }
}
