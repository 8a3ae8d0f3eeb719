/**
 * The simulated box's CPU temperature, memory and disks behind the same
 * `SystemProbe` interface as the real host probe: a demo can fill the disk
 * (`disk-full`) without filling the machine it runs on, and tests of the
 * simulated box do not depend on how full the CI machine's disk happens to be.
 */
import type { DiskReading, MemoryReading, SystemProbe } from '../system/systemProbe.js';
import type { SimBox } from './simBox.js';

const GIB = 1024 ** 3;
const MEMORY_BYTES = 4 * GIB;
const DISK_BYTES = 32 * GIB;

export class SimSystemProbe implements SystemProbe {
  constructor(private readonly box: SimBox) {}

  async cpuTemperatureC(): Promise<number | null> {
    return this.box.state.system.cpuTempC;
  }

  async memory(): Promise<MemoryReading> {
    return { totalBytes: MEMORY_BYTES, availableBytes: Math.round(MEMORY_BYTES * (1 - this.box.state.system.memoryUsedPct / 100)) };
  }

  /** Every watched path is on the one simulated disk. */
  async disk(path: string): Promise<DiskReading> {
    return { path, totalBytes: DISK_BYTES, availableBytes: Math.round(DISK_BYTES * (1 - this.box.state.system.diskUsedPct / 100)) };
  }
}
