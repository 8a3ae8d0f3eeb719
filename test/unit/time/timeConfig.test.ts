/** The `time:` config section: defaults, strictness, and the monitors built from it. */
import t from 'tap';
import { ChronycClient } from '../../../hardware/chrony/index.js';
import { timeConfigSchema } from '../../../supervisor/src/config/time.js';
import { TimeAuditMonitor } from '../../../supervisor/src/monitors/timeAudit.js';
import { TimeMonitor } from '../../../supervisor/src/monitors/timeMonitor.js';
import { chronycFromConfig, createTimeMonitors } from '../../../supervisor/src/monitors/timeMonitors.js';
import { WallClockMonitor } from '../../../supervisor/src/monitors/timeWallClock.js';

t.test('defaults', async (t) => {
  const c = timeConfigSchema.parse({});
  t.equal(c.warnS, 0.5);
  t.equal(c.failS, 1.0);
  t.equal(c.pollMs, 1000);
  t.equal(c.maxSourceLossS, 120);
  t.equal(c.clearHoldS, 60);
  t.equal(c.holdoverDriftPpm, 50, 'holdover: the last good bound grows ≥ 50 ppm (1 s after ~5.5 h)');
  t.equal(c.startupGraceS, 60);
  t.equal(c.chronyc.path, '/usr/bin/chronyc');
  t.equal(c.chronyc.socket, '/run/chrony/chronyd.sock');
  t.same(c.audit.hosts, []);
  const h = timeConfigSchema.parse({ audit: { hosts: [{ name: 'operator1', host: '10.20.0.31' }] } }).audit.hosts[0];
  t.same(h, { name: 'operator1', host: '10.20.0.31', port: 123, intervalS: 60 });
});

t.test('rejects typos, unsafe names, duplicates and inverted thresholds', async (t) => {
  const issues = (v: unknown) => timeConfigSchema.safeParse(v).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
  t.match(issues({ warnsS: 1 }), [/Unrecognized key/]);
  t.match(issues({ chronyc: { sockt: '/x' } }), [/chronyc: Unrecognized key/]);
  t.match(issues({ audit: { hosts: [{ name: 'op 1', host: 'x' }] } }), [/audit\.hosts\.0\.name: expected a short name/]);
  t.match(
    issues({
      audit: {
        hosts: [
          { name: 'a', host: 'x' },
          { name: 'a', host: 'y' },
        ],
      },
    }),
    [/audit\.hosts: audit host names must be unique/],
  );
  t.match(issues({ warnS: 1.5, failS: 1.0 }), [/warnS: warnS must be below failS/]);
  t.match(issues({ audit: { hosts: [{ name: 'a', host: 'x', port: 0 }] } }), [/port/]);
});

t.test('createTimeMonitors', async (t) => {
  const none = createTimeMonitors(timeConfigSchema.parse({}));
  t.same(
    none.map((m) => m.constructor),
    [TimeMonitor, WallClockMonitor],
    'no audit monitor without hosts',
  );
  const all = createTimeMonitors(timeConfigSchema.parse({ audit: { hosts: [{ name: 'phone', host: '127.0.0.1' }] } }));
  t.ok(all[2] instanceof TimeAuditMonitor);
  const c = chronycFromConfig(timeConfigSchema.parse({ chronyc: { path: '/opt/chronyc', timeoutMs: 500 } }));
  t.ok(c instanceof ChronycClient);
  t.equal(c.chronycPath, '/opt/chronyc');
  t.equal(c.timeoutMs, 500);
});
