/**
 * The real backend: onoff (sysfs GPIO) behind the GpioBackend interface.
 *
 * onoff is loaded lazily, so a box (or test run) without GPIO — or without
 * onoff's native `epoll` addon — gets a sensor fault per line instead of a
 * crash at import. Lines are opened with onoff's own debounce and active-low
 * off: both are done above the backend, identically for every backend.
 *
 * Note: onoff always uses /sys/class/gpio; `sysfsRoot` only moves the chip
 * lookup (for tests, and for hosts that mount sysfs elsewhere).
 */
import { globalGpioNumber, DEFAULT_SYSFS_GPIO } from './sysfs.js';
import { describeLine, type GpioBackend, GpioError, type Level, type LineSpec, type RawInput, type RawOutput } from './types.js';

type OnoffModule = typeof import('onoff');

let onoffLoad: Promise<OnoffModule> | null = null;
function loadOnoff(): Promise<OnoffModule> {
  onoffLoad ??= import('onoff');
  return onoffLoad;
}

export interface OnoffBackendOptions {
  sysfsRoot?: string;
}

export function createOnoffBackend(opts: OnoffBackendOptions = {}): GpioBackend {
  const root = opts.sysfsRoot ?? DEFAULT_SYSFS_GPIO;

  async function prepare(spec: LineSpec): Promise<{ Gpio: OnoffModule['Gpio']; number: number }> {
    let mod: OnoffModule;
    try {
      mod = await loadOnoff();
    } catch (e) {
      onoffLoad = null; // allow a later retry, e.g. after the addon is rebuilt
      throw new GpioError(
        spec,
        `${describeLine(spec)}: cannot load onoff (${(e as Error).message.split('\n')[0]}) — rebuild it with \`npm rebuild onoff epoll\``,
        { cause: e },
      );
    }
    if (!mod.Gpio.accessible) {
      throw new GpioError(
        spec,
        `${describeLine(spec)}: GPIO is not accessible on this host (no /sys/class/gpio, or no permission — run as root or add the user to group gpio)`,
      );
    }
    try {
      return { Gpio: mod.Gpio, number: await globalGpioNumber(spec.chipLabel, spec.line, root) };
    } catch (e) {
      throw new GpioError(spec, `${describeLine(spec)}: ${(e as Error).message}`, { cause: e });
    }
  }

  function openError(spec: LineSpec, n: number, e: unknown): GpioError {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'EBUSY'
        ? 'the line is in use by another driver or program (device tree overlay, gpiod?)'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied — run as root or add the user to group gpio'
          : (e as Error).message;
    return new GpioError(spec, `${describeLine(spec)}: cannot open sysfs GPIO ${n}: ${why}`, { cause: e });
  }

  return {
    kind: 'onoff',
    async openInput(spec: LineSpec): Promise<RawInput> {
      const { Gpio, number } = await prepare(spec);
      let gpio: InstanceType<OnoffModule['Gpio']>;
      try {
        gpio = new Gpio(number, 'in', 'both', { activeLow: false });
      } catch (e) {
        throw openError(spec, number, e);
      }
      return {
        read: () => gpio.read() as Promise<Level>,
        watch: (onEdge) =>
          gpio.watch((err, value) => {
            // A failed edge read is not a reading; the periodic re-read reports the fault.
            if (!err) onEdge(value);
          }),
        close: async () => {
          gpio.unwatchAll();
          gpio.unexport();
        },
      };
    },
    async openOutput(spec: LineSpec, initial: Level): Promise<RawOutput> {
      const { Gpio, number } = await prepare(spec);
      let gpio: InstanceType<OnoffModule['Gpio']>;
      try {
        // 'high'/'low' set the direction and level in one write: no glitch through the other level.
        gpio = new Gpio(number, initial === 1 ? 'high' : 'low', 'none', { activeLow: false });
      } catch (e) {
        throw openError(spec, number, e);
      }
      return {
        write: (level) => gpio.write(level),
        read: () => gpio.read() as Promise<Level>,
        // Not unexported: the line keeps its level when Vaktpost exits (the relay wiring decides what that means).
        close: async () => undefined,
      };
    },
  };
}
