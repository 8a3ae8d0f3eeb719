/**
 * A logical on/off output (alarm lamp, line relay coil) on top of a raw line,
 * with active-low applied here so every backend behaves the same.
 * `isOn()` reads the line back from the backend rather than trusting our
 * last write: a line re-configured behind our back shows up as drift.
 */
import type { GpioBackend, Level, LineSpec, RawOutput } from './types.js';

export class SwitchOutput {
  private constructor(
    readonly spec: LineSpec,
    private readonly raw: RawOutput,
  ) {}

  /** Open the line already driven to `initialOn` (default off). */
  static async open(backend: GpioBackend, spec: LineSpec, initialOn = false): Promise<SwitchOutput> {
    const raw = await backend.openOutput(spec, SwitchOutput.electrical(spec, initialOn));
    return new SwitchOutput(spec, raw);
  }

  private static electrical(spec: LineSpec, on: boolean): Level {
    return (on !== spec.activeLow ? 1 : 0) as Level;
  }

  async set(on: boolean): Promise<void> {
    await this.raw.write(SwitchOutput.electrical(this.spec, on));
  }

  async isOn(): Promise<boolean> {
    const level = await this.raw.read();
    return (level === 1) !== this.spec.activeLow;
  }

  close(): Promise<void> {
    return this.raw.close();
  }
}
