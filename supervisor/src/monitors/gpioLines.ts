/**
 * From the power config's GPIO section to concrete lines: which chip label,
 * which offset, active-low. Shared by the GPIO monitor (inputs) and the
 * composition root (alarm lamp and line relay outputs).
 */
import type { GpioBackend, LineSpec } from '../../../hardware/gpio/types.js';
import { SwitchOutput } from '../../../hardware/gpio/output.js';
import type { GpioConfig, GpioOutputConfig, GpioInputConfig } from '../config/power.js';

export function lineSpecFor(name: string, pin: GpioInputConfig | GpioOutputConfig, gpio: Pick<GpioConfig, 'chipLabel'>): LineSpec {
  return { name, chipLabel: pin.chipLabel ?? gpio.chipLabel, line: pin.line, activeLow: pin.activeLow };
}

export interface PowerOutputs {
  alarmLamp?: SwitchOutput;
  lineRelay?: SwitchOutput;
}

/**
 * Open the configured outputs, both starting OFF: the lamp dark and the line
 * relay de-energised, i.e. calls to the backup centre until the supervisor has
 * decided and applied `local` (see ops/gpio/README.md). Rejects with a
 * GpioError naming the line if one cannot be opened.
 */
export async function openPowerOutputs(gpio: GpioConfig, backend: GpioBackend): Promise<PowerOutputs> {
  const out: PowerOutputs = {};
  const { alarmLamp, lineRelay } = gpio.outputs;
  if (alarmLamp) out.alarmLamp = await SwitchOutput.open(backend, lineSpecFor('alarmLamp', alarmLamp, gpio), false);
  if (lineRelay) out.lineRelay = await SwitchOutput.open(backend, lineSpecFor('lineRelay', lineRelay, gpio), false);
  return out;
}
