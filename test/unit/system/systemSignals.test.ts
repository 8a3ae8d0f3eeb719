/** The box's resources as signals: thresholds, unknown with a cause, and the config rules behind them. */
import t from 'tap';
import { parseConfigText } from '../../../supervisor/src/config/load.js';
import { systemSchema } from '../../../supervisor/src/config/system.js';
import { systemSignals, usedPct } from '../../../supervisor/src/core/systemSignals.js';

const cfg = systemSchema.parse({});
const rules = { cpuTemp: cfg.cpuTemp, memoryPct: cfg.memoryPct, diskPct: cfg.diskPct };
const TTL = { fast: 30_000, cpuTemp: 180_000 };
const GB = 1024 ** 3;
const disk = (name: string, totalBytes: number, availableBytes: number) => ({
  name,
  path: `/${name}`,
  reading: { ok: true as const, value: { totalBytes, availableBytes } },
});
const byKey = (sigs: ReturnType<typeof systemSignals>) => Object.fromEntries(sigs.map((s) => [s.key, s]));

t.test('percent in use', async (t) => {
  t.equal(usedPct(100, 25), 75);
  t.equal(usedPct(3, 1), 66.7, 'one decimal');
  t.equal(usedPct(100, 150), 0, 'available above total (root reserve accounting) is 0 % used, not negative');
  t.equal(usedPct(0, 0), null, 'a zero-sized filesystem is no reading');
});

t.test('thresholds: ok, warn at warn, fail at fail', async (t) => {
  const s = byKey(
    systemSignals(
      {
        cpuTempC: { ok: true, value: 80 },
        memory: { ok: true, value: { totalBytes: 100 * GB, availableBytes: 20 * GB } },
        disks: [disk('data', 100 * GB, 5 * GB), disk('root', 100 * GB, 50 * GB), disk('logs', 100 * GB, 14.9 * GB)],
      },
      rules,
      1000,
      TTL,
    ),
  );
  t.match(s['system.cpuTemp'], { status: 'warn', value: 80, unit: '°C', ttlMs: 180_000 }, '80 °C is the warn threshold');
  t.match(s['system.memory'], { status: 'ok', value: 80, unit: '%' });
  t.match(s['system.disk.data'], { status: 'fail', value: 95, subsystem: 'system' }, '95 % is the fail threshold');
  t.match(s['system.disk.data']?.detail, /\/data: 5120 MB free of 102400 MB/, 'says where and how much is left');
  t.match(s['system.disk.root'], { status: 'ok', value: 50 });
  t.match(s['system.disk.logs'], { status: 'warn', value: 85.1 });
});

t.test('a failed reading is unknown, with its cause — never ok', async (t) => {
  const s = byKey(
    systemSignals(
      {
        cpuTempC: { ok: false, error: 'EIO' },
        memory: { ok: false, error: 'ENOENT /proc/meminfo' },
        disks: [{ name: 'data', path: '/srv/data', reading: { ok: false, error: "ENOENT: no such file or directory, statfs '/srv/data'" } }],
      },
      rules,
      1000,
      TTL,
    ),
  );
  for (const k of ['system.cpuTemp', 'system.memory', 'system.disk.data']) t.equal(s[k]?.status, 'unknown', `${k} unknown`);
  t.match(s['system.disk.data']?.detail, /ENOENT.*does the path exist and is it mounted\?/, 'names the cause and what to check');
  t.match(s['system.memory']?.detail, /reading memory failed: ENOENT/);
});

t.test('no temperature reading: no temperature signal', async (t) => {
  const s = systemSignals({ disks: [] }, rules, 1000, TTL);
  t.same(s, []);
});

t.test('config: defaults, rules, and clear errors', async (t) => {
  t.same(cfg.diskPct, { warn: 85, fail: 95 });
  t.equal(cfg.disks, undefined, 'disks default to the data dir and / (decided in app.ts)');
  const bad = (yaml: string) => {
    const r = parseConfigText(yaml, 'vaktpost.yaml');
    return r.ok ? [] : r.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
  };
  t.match(bad('system:\n  diskPct: { warn: 96, fail: 95 }\n'), [/system\.diskPct\.warn: warn must be below fail/]);
  t.match(bad('system:\n  disks:\n    - { name: Data, path: /srv }\n'), [/system\.disks\.0\.name: lower-case letters/]);
  t.match(bad('system:\n  disks:\n    - { name: a, path: relative/dir }\n'), [/system\.disks\.0\.path: expected an absolute path/]);
  t.match(bad('system:\n  disks:\n    - { name: a, path: /a }\n    - { name: a, path: /b }\n'), [/disk names must be unique/]);
  t.same(bad('system:\n  disks:\n    - { name: spool, path: /var/spool }\n'), [], 'a valid list');
});
