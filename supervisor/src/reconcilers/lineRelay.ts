/**
 * The line relay as a route actuator. Wiring (ops/gpio/README.md): the
 * trunk goes to the backup centre through the relay's normally-closed
 * contacts, so a de-energised coil — Vaktpost off, box dead, power gone —
 * means backup. Only `local` energises the coil.
 */
import type { SwitchOutput } from '../../../hardware/gpio/output.js';
import type { RouteActuator, RouteTarget, VerifyResult } from './actuator.js';

export class LineRelayActuator implements RouteActuator {
  readonly name = 'lineRelay';

  constructor(private readonly relay: SwitchOutput) {}

  async apply(target: RouteTarget): Promise<void> {
    try {
      await this.relay.set(target === 'local');
    } catch (e) {
      throw new Error(
        `line relay (${this.relay.spec.chipLabel} line ${this.relay.spec.line}) could not be ${target === 'local' ? 'energised' : 'released'}: ` +
          `${(e as Error).message} — check the GPIO line and gpio.outputs.lineRelay`,
        { cause: e },
      );
    }
  }

  /** Reads the output line back: energised = local, released = backup. */
  async observe(): Promise<RouteTarget | 'unknown'> {
    try {
      return (await this.relay.isOn()) ? 'local' : 'backup';
    } catch {
      return 'unknown';
    }
  }

  /**
   * Checks that the line reads back as commanded. This is the drive side only:
   * a welded contact or a dead coil needs an auxiliary contact on an input to see.
   */
  async verify(target: RouteTarget): Promise<VerifyResult> {
    const t0 = performance.now();
    const seen = await this.observe();
    const ok = seen === target;
    return {
      ok,
      detail: `line relay output reads back ${seen === 'local' ? 'energised (local)' : seen === 'backup' ? 'released (backup)' : 'unreadable'}; wanted ${target}`,
      durationMs: performance.now() - t0,
    };
  }

  async close(): Promise<void> {
    await this.relay.close();
  }
}
