/**
 * The system monitor's own logic, on a scripted probe (the real probe is driven in
 * test/integration/system): no sensor → no temperature signal and one log line; a
 * sensor that vanishes → unknown; a throwing disk → unknown with the cause; slow
 * reads never overlap.
 */
import t from 'tap';
import type { DiskReading, MemoryReading, SystemProbe } from '../../../hardware/system/systemProbe.js';
import { systemSchema } from '../../../supervisor/src/config/system.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import { SystemMonitor } from '../../../supervisor/src/monitors/systemMonitor.js';

class ScriptedProbe implements SystemProbe {
  temps: Array<number | null | Error> = [];
  tempCalls = 0;
  diskCalls = 0;
  diskGate: Promise<void> | null = null;
  async cpuTemperatureC(): Promise<number | null> {
    this.tempCalls++;
    const v = this.temps.shift() ?? null;
    if (v instanceof Error) throw v;
    return v;
  }
  async memory(): Promise<MemoryReading> {
    return { totalBytes: 1000, availableBytes: 500 };
  }
  async disk(path: string): Promise<DiskReading> {
    this.diskCalls++;
    if (this.diskGate) await this.diskGate;
    if (path === '/gone') throw new Error(`ENOENT: no such file or directory, statfs '${path}'`);
    return { path, totalBytes: 1000, availableBytes: 10 };
  }
}

const clock = { now: () => 1_000_000, monotonic: () => 0 };
const logger = () => {
  const lines: string[] = [];
  const log = silentLogger();
  log.info = ((msg: string) => {
    lines.push(msg);
  }) as typeof log.info;
  return { log, lines };
};

function monitor(probe: SystemProbe, disks = [{ name: 'data', path: '/data' }]) {
  const { log, lines } = logger();
  const m = new SystemMonitor({ probe, cfg: systemSchema.parse({ pollMs: 600_000, cpuTemp: { pollMs: 3_600_000 } }), disks, clock, log });
  const got: Signal[] = [];
  return { m, got, emit: (s: Signal) => got.push(s), lines };
}

t.test('no sensor: no temperature signal, said once, and never read again', async (t) => {
  const probe = new ScriptedProbe();
  const { m, got, emit, lines } = monitor(probe);
  await m.start(emit);
  t.teardown(() => m.stop());
  t.equal(m.temperatureMonitored, false);
  t.notOk(
    got.some((s) => s.key === 'system.cpuTemp'),
    'no system.cpuTemp',
  );
  t.match(lines, [/no CPU temperature sensor/], 'one log line says why');
  await m.readTemp(emit);
  t.equal(probe.tempCalls, 1, 'the (costly) sensor lookup is not repeated');
  t.match(
    got.map((s) => [s.key, s.status]),
    [
      ['system.memory', 'ok'],
      ['system.disk.data', 'fail'],
    ],
  );
});

t.test('a sensor that stops reporting is unknown, not fine', async (t) => {
  const probe = new ScriptedProbe();
  probe.temps = [55, null, new Error('EIO reading hwmon')];
  const { m, got, emit } = monitor(probe);
  await m.start(emit);
  t.teardown(() => m.stop());
  t.equal(m.temperatureMonitored, true);
  await m.readTemp(emit);
  await m.readTemp(emit);
  const temps = got.filter((s) => s.key === 'system.cpuTemp').map((s) => [s.status, s.value, s.detail?.split(':')[0]]);
  t.same(temps, [
    ['ok', 55, 'warn ≥ 80 °C, fail ≥ 90 °C'],
    ['unknown', null, 'reading the CPU temperature failed'],
    ['unknown', null, 'reading the CPU temperature failed'],
  ]);
  t.match(got.filter((s) => s.key === 'system.cpuTemp')[2]?.detail, /EIO reading hwmon/, 'with the cause');
});

t.test('a path that is gone is unknown with the cause; the other disks still report', async (t) => {
  const probe = new ScriptedProbe();
  const { m, got, emit } = monitor(probe, [
    { name: 'data', path: '/data' },
    { name: 'archive', path: '/gone' },
  ]);
  await m.start(emit);
  t.teardown(() => m.stop());
  const archive = got.find((s) => s.key === 'system.disk.archive');
  t.equal(archive?.status, 'unknown');
  t.match(archive?.detail, /\/gone: ENOENT.*mounted\?/);
  t.equal(got.find((s) => s.key === 'system.disk.data')?.status, 'fail', '99 % used on the other one');
});

t.test('a slow read is not overlapped by the next', async (t) => {
  const probe = new ScriptedProbe();
  const { m, emit } = monitor(probe);
  let open = () => {};
  probe.diskGate = new Promise<void>((r) => {
    open = r;
  });
  const first = m.readFast(emit);
  await m.readFast(emit); // returns at once: a read is in flight
  await m.readFast(emit);
  t.equal(probe.diskCalls, 1, 'one statfs in flight, the others skipped');
  open();
  await first;
  probe.diskGate = null;
  await m.readFast(emit);
  t.equal(probe.diskCalls, 2, 'and the next round runs once it is done');
});

t.test('nothing is emitted after stop', async (t) => {
  const probe = new ScriptedProbe();
  const { m, got, emit } = monitor(probe);
  await m.start(emit);
  const n = got.length;
  await m.stop();
  await m.readFast(emit);
  t.equal(got.length, n);
});
