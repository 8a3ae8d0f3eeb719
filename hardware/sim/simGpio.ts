/**
 * Simulated GPIO lines behind the same `GpioBackend` interface as onoff:
 * inputs follow the simulated mains and UPS contacts, outputs (line relay,
 * alarm lamp) hold what was written. Lines are named, not numbered.
 */
import type { GpioBackend, Level, LineSpec, RawInput, RawOutput } from '../gpio/types.js';
import type { SimBox, SimState } from './simBox.js';

const INPUTS: Record<string, (s: SimState) => Level> = {
  mains: (s) => (s.mainsPresent ? 1 : 0),
  onBattery: (s) => (Object.values(s.ups).some((u) => u.status.split(/\s+/).includes('OB')) ? 1 : 0),
  lowBattery: (s) => (Object.values(s.ups).some((u) => u.status.split(/\s+/).includes('LB')) ? 1 : 0),
};

export class SimGpioBackend implements GpioBackend {
  readonly kind = 'sim';
  /** Raw output levels by line name (e.g. lineRelay). */
  readonly outputs = new Map<string, Level>();

  constructor(private readonly box: SimBox) {}

  async openInput(spec: LineSpec): Promise<RawInput> {
    const read = INPUTS[spec.name];
    if (!read) throw new Error(`simulated GPIO has no input "${spec.name}" (known: ${Object.keys(INPUTS).join(', ')})`);
    const raw = (s: SimState): Level => (spec.activeLow ? ((1 - read(s)) as Level) : read(s));
    let onChange: ((s: SimState) => void) | null = null;
    return {
      read: async () => raw(this.box.state),
      watch: (onEdge) => {
        let last = raw(this.box.state);
        onChange = (s) => {
          const l = raw(s);
          if (l !== last) {
            last = l;
            onEdge(l);
          }
        };
        this.box.on('change', onChange);
      },
      close: async () => {
        if (onChange) this.box.off('change', onChange);
      },
    };
  }

  async openOutput(spec: LineSpec, initial: Level): Promise<RawOutput> {
    this.outputs.set(spec.name, initial);
    return {
      write: async (l) => {
        this.outputs.set(spec.name, l);
      },
      read: async () => this.outputs.get(spec.name) ?? 0,
      close: async () => {},
    };
  }
}
