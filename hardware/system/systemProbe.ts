/**
 * The box's own resources: CPU temperature and memory (systeminformation, which
 * knows where each platform keeps them: hwmon, thermal zones, /proc/meminfo) and
 * the free space of the filesystem holding a path (statfs(2): the exact
 * filesystem of that path, no `df` parsing or mount-table matching).
 *
 * Measured here: `si.mem()` ~0.6 ms; `si.cpuTemperature()`
 * 68–97 ms with up to ~43 ms of event-loop blocking on a machine without sensors
 * (it tries several sources, some synchronously) — so the monitor reads the
 * temperature seldom, and not at all once it has found there is no sensor.
 */
import { statfs } from 'node:fs/promises';
import si from 'systeminformation';

export interface MemoryReading {
  totalBytes: number;
  /** What new work can still get without swapping (MemAvailable), not merely "free". */
  availableBytes: number;
}

export interface DiskReading {
  path: string;
  totalBytes: number;
  /** Free for unprivileged writers (f_bavail): the supervisor's store and archive run as such. */
  availableBytes: number;
}

export interface SystemProbe {
  /** Main CPU temperature in °C, or null when this machine exposes no sensor. */
  cpuTemperatureC(): Promise<number | null>;
  memory(): Promise<MemoryReading>;
  disk(path: string): Promise<DiskReading>;
}

export class HostSystemProbe implements SystemProbe {
  async cpuTemperatureC(): Promise<number | null> {
    const t = await si.cpuTemperature();
    // systeminformation reports "no sensor" as null (or -1 on some platforms).
    const main = typeof t.main === 'number' && t.main > -1 ? t.main : typeof t.max === 'number' && t.max > -1 ? t.max : null;
    return main;
  }

  async memory(): Promise<MemoryReading> {
    const m = await si.mem();
    return { totalBytes: m.total, availableBytes: m.available };
  }

  async disk(path: string): Promise<DiskReading> {
    const s = await statfs(path);
    return { path, totalBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
  }
}
