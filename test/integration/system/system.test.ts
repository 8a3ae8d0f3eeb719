/**
 * The system monitor on the real machine: memory from systeminformation against
 * /proc/meminfo, disk space from statfs against `df`, and a real (tiny) tmpfs
 * filled past the fail threshold and emptied again. Then the real supervisor
 * process reports its own data disk and memory in /api/status.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { HostSystemProbe } from '../../../hardware/system/systemProbe.js';
import { systemSchema } from '../../../supervisor/src/config/system.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import { systemClock } from '../../../supervisor/src/monitors/monitor.js';
import { SystemMonitor } from '../../../supervisor/src/monitors/systemMonitor.js';
import { startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

const run = promisify(execFile);
const probe = new HostSystemProbe();

t.test('memory: systeminformation agrees with /proc/meminfo', async (t) => {
  const meminfo = await readFile('/proc/meminfo', 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1]) * 1024;
  const m = await probe.memory();
  t.equal(m.totalBytes, kb('MemTotal'), 'total is MemTotal');
  t.ok(Math.abs(m.availableBytes - kb('MemAvailable')) < 256 * 1024 * 1024, `available ${m.availableBytes} ≈ MemAvailable ${kb('MemAvailable')} (it moves)`);
});

t.test('CPU temperature: none on a machine without sensors', async (t) => {
  const sensors =
    (existsSync('/sys/class/hwmon') && readdirSync('/sys/class/hwmon').length > 0) ||
    (existsSync('/sys/class/thermal') && readdirSync('/sys/class/thermal').some((n) => n.startsWith('thermal_zone')));
  const c = await probe.cpuTemperatureC();
  if (sensors) t.ok(c === null || (c > 0 && c < 130), `this machine has sensors: ${c} °C`);
  else t.equal(c, null, 'no hwmon, no thermal zone: no temperature (not 0, not -1)');
});

t.test('a real filesystem filled past the threshold fails, and recovers when emptied', async (t) => {
  const { dir, cleanup } = await scratchDir('system-disk');
  t.teardown(cleanup);
  const mnt = path.join(dir, 'mnt');
  await mkdir(mnt);
  await run('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', mnt]);
  t.teardown(() => run('umount', ['-l', mnt]).catch(() => undefined));

  // statfs agrees with df to the 1K block.
  const d = await probe.disk(mnt);
  const df = (await run('df', ['--output=size,avail', '-k', mnt])).stdout.trim().split('\n')[1]?.trim().split(/\s+/).map(Number) ?? [];
  t.same([d.totalBytes / 1024, d.availableBytes / 1024], df, `statfs = df (${df.join(' / ')} KiB)`);

  const got: Signal[] = [];
  const m = new SystemMonitor({
    probe,
    cfg: systemSchema.parse({ pollMs: 600_000, cpuTemp: { pollMs: 3_600_000 } }),
    disks: [{ name: 'scratch', path: mnt }],
    clock: systemClock,
    log: silentLogger(),
  });
  const emit = (s: Signal) => got.push(s);
  await m.start(emit);
  t.teardown(() => m.stop());
  const last = () => [...got].reverse().find((s) => s.key === 'system.disk.scratch');
  t.match(last(), { status: 'ok', value: 0 }, 'an empty tmpfs');

  await writeFile(path.join(mnt, 'fill'), Buffer.alloc(Math.floor(d.totalBytes * 0.96)));
  await m.readFast(emit);
  t.equal(last()?.status, 'fail', `filled: ${last()?.value} % used → fail (≥ 95 %)`);
  t.match(last()?.detail, new RegExp(`${mnt}: \\d+ MB free of 1 MB`));

  await rm(path.join(mnt, 'fill'));
  await m.readFast(emit);
  t.match(last(), { status: 'ok', value: 0 }, 'emptied: ok again');

  await run('umount', [mnt]);
  await rm(mnt, { recursive: true });
  await m.readFast(emit);
  t.equal(last()?.status, 'unknown', 'the watched path gone: unknown');
  t.match(last()?.detail, /ENOENT/);
});

t.test('the simulated box: its disks and memory in /api/status; a full disk alarms but does not move calls', async (t) => {
  const { dir, cleanup } = await scratchDir('system-sup');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir, '', { holdDownS: 0 });
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: 'system-test-password-1' });
  t.teardown(() => sup.kill('SIGKILL'));
  type Status = {
    route: string;
    mode: string;
    signals: Array<{ key: string; status: string; value: unknown; detail?: string }>;
    health: Record<string, { status: string }>;
  };
  const status = () => sup.api<Status>('GET', '/api/status').then((r) => r.json);
  const first = await waitFor(
    async () => {
      const s = await status();
      return ['system.memory', 'system.disk.data', 'system.disk.root', 'system.cpuTemp'].every((k) => s.signals.some((x) => x.key === k)) ? s : null;
    },
    { timeoutMs: 30_000, what: 'system signals in /api/status' },
  );
  const data = first.signals.find((x) => x.key === 'system.disk.data');
  t.match(data, { status: 'ok', value: 41 }, 'the simulated disk, 41 % used');
  t.match(data?.detail, `${path.join(dir, 'data')}:`, 'the data disk is the one holding box.dataDir');

  t.equal((await sup.api('POST', '/api/sim/fault', { fault: 'disk-full' })).status, 200);
  const full = await waitFor(
    async () => {
      const s = await status();
      return s.health.system?.status === 'fail' ? s : null;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: 'the system subsystem to fail on a full disk' },
  );
  t.match(
    full.signals.find((x) => x.key === 'system.disk.data'),
    { status: 'fail', value: 97 },
  );
  t.equal(full.route, 'local', 'calls stay local: a full disk is an alarm, not a reason to move calls (system is not in failoverOn)');
  t.equal(full.mode, 'degraded', 'the box says it is degraded');
  const alarms = (await sup.api<{ alarms: Array<{ kind: string; en: string }> }>('GET', '/api/alarms')).json.alarms;
  const alarm = alarms.find((a) => a.kind === 'subsystem.status' && a.en.startsWith('system:'));
  t.match(alarm?.en, /system: ok → fail: system\.disk\.data = 97 %/, `an alarm names the disk: ${alarm?.en}`);
});
