/**
 * The box itself: CPU temperature, memory and disk space. Not a failover trigger
 * by default (a full disk does not stop calls flowing through Kamailio), but an
 * alarm a technician must see before it does stop the store or the audio log.
 */
import { z } from 'zod';

const absPath = z.string().regex(/^\/[^\s"]*$/, { message: 'expected an absolute path without spaces or quotes' });
const pct = z.number().min(1).max(100);

const thresholds = (warn: number, fail: number) =>
  z
    .strictObject({ warn: pct.default(warn), fail: pct.default(fail) })
    .prefault({})
    .refine((d) => d.warn < d.fail, { message: 'warn must be below fail', path: ['warn'] });

export const systemSchema = z.strictObject({
  /** How often memory and disks are read (ms). */
  pollMs: z.number().int().min(1000).max(600_000).default(10_000),
  cpuTemp: z
    .strictObject({
      /** How often the CPU temperature is read (ms); reading it costs tens of ms of the event loop. */
      pollMs: z.number().int().min(5000).max(3_600_000).default(60_000),
      /** °C */
      warnC: z.number().min(30).max(120).default(80),
      failC: z.number().min(30).max(130).default(90),
    })
    .prefault({})
    .refine((d) => d.warnC < d.failC, { message: 'warnC must be below failC', path: ['warnC'] }),
  /**
   * The supervisor's own event-loop delay (p99 over each report window, ms): a lagging loop
   * makes every probe late and every timeout long. Defaults leave room for a busy box.
   */
  eventLoop: z
    .strictObject({
      reportMs: z.number().int().min(500).max(60_000).default(5000),
      warnMs: z.number().int().min(20).max(60_000).default(250),
      failMs: z.number().int().min(50).max(120_000).default(2000),
    })
    .prefault({})
    .refine((d) => d.warnMs < d.failMs, { message: 'warnMs must be below failMs', path: ['warnMs'] }),
  /** Memory in use (of total, from MemAvailable), percent. */
  memoryPct: thresholds(90, 97),
  /** Disk in use, percent, on each watched filesystem. */
  diskPct: thresholds(85, 95),
  /**
   * Filesystems to watch, by a path on them; the signal is `system.disk.<name>`.
   * Default: `data` (box.dataDir: the store, and the audio log unless it is elsewhere) and `root` (/).
   */
  disks: z
    .array(z.strictObject({ name: z.string().regex(/^[a-z0-9-]{1,32}$/, { message: 'lower-case letters, digits and -' }), path: absPath }))
    .max(16)
    .refine((d) => new Set(d.map((x) => x.name)).size === d.length, { message: 'disk names must be unique' })
    .optional(),
});

export type SystemConfig = z.infer<typeof systemSchema>;
