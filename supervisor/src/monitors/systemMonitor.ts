/**
 * The box's own CPU temperature, memory and disks as `system.*` signals. Reads are
 * never overlapped (a slow statfs on a hung NFS mount must not pile up); a read
 * that throws becomes an `unknown` signal with its cause. On a machine with no
 * temperature sensor (most VMs) the first read finds none: the temperature is then
 * not monitored at all — said once in the log — rather than reported as a
 * permanent "unknown" that would teach people to ignore the system subsystem.
 */
import type { SystemProbe } from '../../../hardware/system/systemProbe.js';
import type { SystemConfig } from '../config/system.js';
import { type Reading, type SystemReadings, type SystemRules, systemSignals } from '../core/systemSignals.js';
import type { Guard } from '../guard.js';
import type { Logger } from '../log.js';
import { type Clock, type Monitor, type SignalSink, timersOf } from './monitor.js';
import { PollingLoop, type PollingOptions } from './pollingMonitor.js';

export interface SystemMonitorDeps {
  probe: SystemProbe;
  cfg: SystemConfig;
  /** The filesystems to watch (config `system.disks`, or the defaults app.ts derives). */
  disks: Array<{ name: string; path: string }>;
  clock: Clock;
  log: Logger;
  /** Where a bug in a read loop is reported (once; the loop goes on with backoff). */
  guard?: Guard;
}

async function attempt<T>(f: () => Promise<T>): Promise<Reading<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

export class SystemMonitor implements Monitor {
  readonly name = 'system';
  /** One loop per cadence: memory and disks every pollMs, the temperature every cpuTemp.pollMs. */
  private loops: PollingLoop[] = [];
  private busy = { fast: false, temp: false };
  private stopped = false;
  /** null: not yet known; false: this machine has no sensor. */
  private hasTempSensor: boolean | null = null;

  private readonly rules: SystemRules;
  /** A reading may miss two polls before it turns unknown. */
  private readonly ttl: { fast: number; cpuTemp: number };

  constructor(private readonly d: SystemMonitorDeps) {
    this.rules = { cpuTemp: d.cfg.cpuTemp, memoryPct: d.cfg.memoryPct, diskPct: d.cfg.diskPct };
    this.ttl = { fast: d.cfg.pollMs * 3, cpuTemp: d.cfg.cpuTemp.pollMs * 3 };
  }

  private report(emit: SignalSink, r: SystemReadings): void {
    if (this.stopped) return;
    for (const s of systemSignals(r, this.rules, this.d.clock.now(), this.ttl)) emit(s);
  }

  /** One round of memory and disks. */
  async readFast(emit: SignalSink): Promise<void> {
    if (this.busy.fast || this.stopped) return;
    this.busy.fast = true;
    try {
      const r: SystemReadings = {
        memory: await attempt(() => this.d.probe.memory()),
        disks: await Promise.all(this.d.disks.map(async (x) => ({ ...x, reading: await attempt(() => this.d.probe.disk(x.path)) }))),
      };
      this.report(emit, r);
    } finally {
      this.busy.fast = false;
    }
  }

  /** One temperature reading (none once the machine is known to have no sensor). */
  async readTemp(emit: SignalSink): Promise<void> {
    if (this.busy.temp || this.stopped || this.hasTempSensor === false) return;
    this.busy.temp = true;
    try {
      const t = await attempt(() => this.d.probe.cpuTemperatureC());
      if (t.ok && t.value === null) {
        if (this.hasTempSensor === null) {
          this.hasTempSensor = false;
          this.d.log.info('no CPU temperature sensor on this machine: system.cpuTemp is not monitored (ingen temperaturføler)');
          return;
        }
        // A sensor that was there and is gone: that is unknown, not "fine".
        this.report(emit, { cpuTempC: { ok: false, error: 'the sensor stopped reporting' }, disks: [] });
        return;
      }
      if (t.ok) this.hasTempSensor = true;
      this.report(emit, { cpuTempC: t as Reading<number>, disks: [] }); // (null returned above)
    } finally {
      this.busy.temp = false;
    }
  }

  /** Whether the CPU temperature is monitored (null until the first reading). */
  get temperatureMonitored(): boolean | null {
    return this.hasTempSensor;
  }

  async start(emit: SignalSink): Promise<void> {
    this.stopped = false;
    const timers = timersOf(this.d.clock);
    // Each loop keeps its cadence from the start of the last read; a slow read delays, never stacks.
    const opts = (pollMs: number): PollingOptions => ({
      pollMs,
      cadence: this.d.clock,
      log: this.d.log,
      ...(timers ? { timers } : {}),
      ...(this.d.guard ? { guard: this.d.guard } : {}),
    });
    this.loops = [
      new PollingLoop('system.fast', (e) => this.readFast(e), opts(this.d.cfg.pollMs)),
      new PollingLoop('system.cpuTemp', (e) => this.readTemp(e), opts(this.d.cfg.cpuTemp.pollMs)),
    ];
    await Promise.all(this.loops.map((l) => l.start(emit)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const loops = this.loops;
    this.loops = [];
    await Promise.all(loops.map((l) => l.stop()));
  }
}
