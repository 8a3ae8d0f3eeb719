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
 * Open the configured outputs. The lamp starts dark. The line relay starts at the
 * stored target route (`relayLocal`): energised if the last recorded decision said
 * `local`, so a restart of Vaktpost changes nothing outside the box (opening it
 * de-energised would switch the trunk to backup and back on every restart). With no
 * stored decision (first start) it starts de-energised, i.e. backup, until the
 * supervisor has decided and applied `local` (see ops/gpio/README.md). Rejects with a
 * GpioError naming the line if one cannot be opened.
 */
export async function openPowerOutputs(gpio: GpioConfig, backend: GpioBackend, opts: { relayLocal?: boolean } = {}): Promise<PowerOutputs> {
  const out: PowerOutputs = {};
  const { alarmLamp, lineRelay } = gpio.outputs;
  if (alarmLamp) out.alarmLamp = await SwitchOutput.open(backend, lineSpecFor('alarmLamp', alarmLamp, gpio), false);
  if (lineRelay) out.lineRelay = await SwitchOutput.open(backend, lineSpecFor('lineRelay', lineRelay, gpio), opts.relayLocal === true);
  return out;
}
