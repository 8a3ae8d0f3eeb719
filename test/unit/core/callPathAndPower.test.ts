/**
 * The pure edges of issue 15: where callers actually end up (core/callPath.ts) and what
 * the UPS flags mean (core/powerHealth.ts via evaluateHealth).
 */
import t from 'tap';
import { callPath } from '../../../supervisor/src/core/callPath.js';
import { defaultHealthRules, evaluateHealth, type HealthRules } from '../../../supervisor/src/core/health.js';
import type { Signal, SignalStatus } from '../../../supervisor/src/core/signal.js';
import { SignalTable } from '../../../supervisor/src/core/signalTable.js';

const NOW = 1_000_000;

function health(list: Array<[string, SignalStatus, Signal['value'], number?]>, rules: HealthRules = defaultHealthRules) {
  const table = new SignalTable();
  for (const [key, status, value, changedAgoMs = 0] of list) {
    table.apply(
      { subsystem: key.split('.')[0] as Signal['subsystem'], source: 'test', key, status, value, observedAt: NOW - changedAgoMs, ttlMs: 3_600_000 },
      NOW - changedAgoMs,
    );
  }
  return evaluateHealth(table.effective(NOW), NOW, rules);
}

const centresOk: Array<[string, SignalStatus, Signal['value']]> = [
  ['centres.local.wan1', 'ok', true],
  ['centres.backup.wan1', 'ok', true],
  ['wan.wan1.state', 'ok', 'up'],
  ['telephony.kamailio', 'ok', 100],
];

t.test('callPath: the route when centres answer', async (t) => {
  t.same(callPath('local', health(centresOk)), { path: 'local', critical: false, reasons: [] });
  t.same(callPath('backup', health(centresOk)).path, 'backup');
});

t.test('callPath: no centre answers → announcement, critical', async (t) => {
  const h = health([
    ['centres.local.wan1', 'fail', false],
    ['centres.backup.wan1', 'fail', false],
    ['wan.wan1.state', 'ok', 'up'],
    ['telephony.kamailio', 'ok', 100],
  ]);
  const cp = callPath('backup', h);
  t.equal(cp.path, 'announcement');
  t.ok(cp.critical);
  t.same(cp.reasons.map((r) => r.code).sort(), ['centres.backupUnreachable', 'centres.localUnreachable']);
});

t.test('callPath: backup unreachable but calls still local → the route', async (t) => {
  const h = health([
    ['centres.local.wan1', 'ok', true],
    ['centres.backup.wan1', 'fail', false],
    ['wan.wan1.state', 'ok', 'up'],
  ]);
  t.equal(callPath('local', h).path, 'local');
});

t.test('callPath: every WAN link down → the route (the box cannot see the centres; the carrier reroutes)', async (t) => {
  const h = health([
    ['centres.local.wan1', 'fail', false],
    ['centres.backup.wan1', 'fail', false],
    ['wan.wan1.state', 'fail', 'down'],
  ]);
  t.same(callPath('backup', h), { path: 'backup', critical: false, reasons: [] });
});

t.test('callPath: the call router down → noRouter, whatever the route', async (t) => {
  const h = health([...centresOk.filter(([k]) => k !== 'telephony.kamailio'), ['telephony.kamailio', 'fail', null]]);
  t.equal(callPath('local', h).path, 'noRouter');
  t.ok(callPath('backup', h).critical);
});

t.test('power: OB+LB and FSD are a safety floor; OL+LB is only a warning', async (t) => {
  const ob = health([
    ['power.ups1.mains', 'warn', 'battery'],
    ['power.ups1.lowBattery', 'fail', true],
    ['power.ups1.fsd', 'ok', false],
  ]);
  t.equal(ob.subsystems.power.status, 'fail');
  t.same(
    ob.floor.map((r) => r.code),
    ['power.lowBattery'],
    'OB+LB: floor',
  );
  const fsd = health([
    ['power.ups1.mains', 'ok', 'online'],
    ['power.ups1.lowBattery', 'ok', false],
    ['power.ups1.fsd', 'fail', true],
  ]);
  t.same(
    fsd.floor.map((r) => r.code),
    ['power.fsd'],
    'FSD: floor',
  );
  const ollb = health([
    ['power.ups1.mains', 'ok', 'online'],
    ['power.ups1.lowBattery', 'fail', true],
    ['power.ups1.fsd', 'ok', false],
  ]);
  t.equal(ollb.subsystems.power.status, 'warn', 'OL+LB: warn');
  t.same(ollb.floor, [], 'no floor');
  t.ok(ollb.subsystems.power.reasons.some((r) => r.code === 'power.lowBatteryOnMains'));
});

t.test('power: mains lost is an alarm reason with runtime and when calls move; fails after the limit', async (t) => {
  const early = health([
    ['power.ups1.mains', 'warn', 'battery', 30_000],
    ['power.ups1.lowBattery', 'ok', false],
    ['power.ups1.fsd', 'ok', false],
    ['power.ups1.runtime', 'ok', 1500],
  ]);
  t.equal(early.subsystems.power.status, 'warn');
  t.equal(early.alarms.length, 1);
  t.match(early.alarms[0]?.en, /mains lost — on battery for 30 s, 25 min of battery left; calls move to the backup centre in 90 s/);
  t.match(early.alarms[0]?.nb, /strømbrudd — på batteri i 30 s, 25 min batteritid igjen; anrop flyttes til reservesentralen om 90 s/);
  const late = health([
    ['power.ups1.mains', 'warn', 'battery', 130_000],
    ['power.ups1.lowBattery', 'ok', false],
    ['power.ups1.fsd', 'ok', false],
  ]);
  t.equal(late.subsystems.power.status, 'fail');
  t.same(late.floor, [], 'too long on battery fails power but is no floor (the hold-down applies)');
  t.same(late.alarms, []);
});

t.test('power: several UPSes under upsRule', async (t) => {
  const two: Array<[string, SignalStatus, Signal['value'], number?]> = [
    ['power.a.mains', 'warn', 'battery', 200_000],
    ['power.a.lowBattery', 'ok', false],
    ['power.a.fsd', 'ok', false],
    ['power.b.mains', 'ok', 'online'],
    ['power.b.lowBattery', 'ok', false],
    ['power.b.fsd', 'ok', false],
  ];
  t.equal(health(two, { ...defaultHealthRules, upsRule: 'any' }).subsystems.power.status, 'fail', 'any: one failing UPS fails power');
  const all = health(two, { ...defaultHealthRules, upsRule: 'all' }).subsystems.power;
  t.equal(all.status, 'warn', 'all: one of two is tolerated');
  t.ok(all.reasons.some((r) => r.code === 'power.ruleHolds' && /1 of 2 power sources are healthy/.test(r.en)));
  t.equal(health(two, { ...defaultHealthRules, upsRule: { minHealthy: 1 } }).subsystems.power.status, 'warn', 'minHealthy 1: one healthy is enough');
  t.equal(health(two, { ...defaultHealthRules, upsRule: { minHealthy: 2 } }).subsystems.power.status, 'fail', 'minHealthy 2: fails');
  const critical = two.map(([k, s, v, a]): [string, SignalStatus, Signal['value'], number?] =>
    k === 'power.a.lowBattery' ? [k, 'fail', true, a] : [k, s, v, a],
  );
  t.same(health(critical, { ...defaultHealthRules, upsRule: 'all' }).floor, [], 'all: one critical UPS is no floor');
  t.equal(health(critical, { ...defaultHealthRules, upsRule: 'any' }).floor.length, 1, 'any: one critical UPS is the floor');
});
