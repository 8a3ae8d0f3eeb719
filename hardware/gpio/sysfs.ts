/**
 * Finding a line's global sysfs number. The sysfs GPIO numbers are
 * `base + offset`, and the base is not stable: Raspberry Pi OS bookworm
 * (kernel 6.6+) numbers the main chip from 512, older kernels from 0. So
 * the chip is found by its label under /sys/class/gpio/gpiochip<N>/.
 * The root is a parameter so the lookup can be tested against a fake tree.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export const DEFAULT_SYSFS_GPIO = '/sys/class/gpio';

export interface GpioChipInfo {
  /** Directory name, e.g. `gpiochip512`. */
  chip: string;
  label: string;
  base: number;
  ngpio: number;
}

/** Every gpiochip under `root`. Throws with a clear message when there is no GPIO sysfs at all. */
export async function listGpioChips(root = DEFAULT_SYSFS_GPIO): Promise<GpioChipInfo[]> {
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (e) {
    throw new Error(
      `no GPIO sysfs at ${root} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}) — ` + 'this kernel has no GPIO, or CONFIG_GPIO_SYSFS is off',
      { cause: e },
    );
  }
  const chips: GpioChipInfo[] = [];
  for (const chip of entries.filter((e) => /^gpiochip\d+$/.test(e)).sort()) {
    const read = (f: string) => readFile(path.join(root, chip, f), 'utf8').then((s) => s.trim());
    const [label, base, ngpio] = await Promise.all([read('label'), read('base'), read('ngpio')]);
    chips.push({ chip, label, base: Number(base), ngpio: Number(ngpio) });
  }
  return chips;
}

/** The chip with this label. Throws naming the labels that do exist. */
export async function findGpioChip(label: string, root = DEFAULT_SYSFS_GPIO): Promise<GpioChipInfo> {
  const chips = await listGpioChips(root);
  const found = chips.find((c) => c.label === label);
  if (!found) {
    const have = chips.map((c) => `${c.label} (${c.chip})`).join(', ') || 'none';
    throw new Error(`no gpiochip labelled "${label}" under ${root}; found: ${have} — set gpio.chipLabel to one of these`);
  }
  if (!Number.isInteger(found.base) || !Number.isInteger(found.ngpio)) {
    throw new Error(`gpiochip "${label}" (${found.chip}) has an unreadable base/ngpio under ${root}`);
  }
  return found;
}

/** The global sysfs GPIO number for `line` on the chip labelled `label`. */
export async function globalGpioNumber(label: string, line: number, root = DEFAULT_SYSFS_GPIO): Promise<number> {
  const chip = await findGpioChip(label, root);
  if (line < 0 || line >= chip.ngpio) {
    throw new Error(`line ${line} is outside gpiochip "${label}" (${chip.chip} has ${chip.ngpio} lines: 0–${chip.ngpio - 1})`);
  }
  return chip.base + line;
}
