/**
 * GPIO as Vaktpost uses it: a few slow digital inputs (mains sense, UPS dry
 * contacts) and two outputs (alarm lamp, line relay).
 *
 * Backends deal in *electrical* levels (1 = high). Active-low inversion,
 * debouncing and re-reading live above the backend (input.ts / output.ts),
 * so they behave the same on real hardware and in the fake backend.
 */
export type Level = 0 | 1;

/** One GPIO line: which chip (by label — numbering differs between kernels), which offset on it. */
export interface LineSpec {
  /** Human name for messages and signals, e.g. `mains`, `lineRelay`. */
  name: string;
  /** gpiochip label, e.g. `pinctrl-bcm2711` (Pi 4). */
  chipLabel: string;
  /** Offset on that chip (the BCM number on a Raspberry Pi). */
  line: number;
  /** Logical 1 = electrical low. */
  activeLow: boolean;
}

/** A raw input line, electrical levels. */
export interface RawInput {
  read(): Promise<Level>;
  /** Called on every edge the kernel reports (may be lost or bounce). */
  watch(onEdge: (level: Level) => void): void;
  close(): Promise<void>;
}

/** A raw output line, electrical levels. `read()` returns the level the line drives now. */
export interface RawOutput {
  write(level: Level): Promise<void>;
  read(): Promise<Level>;
  close(): Promise<void>;
}

export interface GpioBackend {
  readonly kind: string;
  /** Throws `GpioError` when the line cannot be opened (no GPIO, wrong chip, busy, permission). */
  openInput(spec: LineSpec): Promise<RawInput>;
  /** `initial` is driven from the first moment (no glitch through the other level). */
  openOutput(spec: LineSpec, initial: Level): Promise<RawOutput>;
}

/** A GPIO line that cannot be used. Surfaces as a sensor fault, never as a reading. */
export class GpioError extends Error {
  override readonly name = 'GpioError';
  constructor(
    readonly line: Pick<LineSpec, 'name' | 'chipLabel' | 'line'>,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function describeLine(spec: Pick<LineSpec, 'name' | 'chipLabel' | 'line'>): string {
  return `GPIO "${spec.name}" (${spec.chipLabel} line ${spec.line})`;
}
