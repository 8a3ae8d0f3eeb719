import t from 'tap';
import { PowerConfigSchema, upsId } from '../../../supervisor/src/config/power.js';

t.test('defaults', async (t) => {
  const c = PowerConfigSchema.parse({});
  t.same(c.ups, []);
  t.equal(c.gpio.enabled, false);
  t.equal(c.gpio.sysfsRoot, '/sys/class/gpio');
  t.same(c.gpio.inputs, {});
  t.match(c.policy, { failoverAfterOnBatteryS: 120, minRuntimeS: 300, failoverOnLowBattery: true, failoverOnFsd: true });
  t.equal(c.policy.shutdownCommand, undefined);
  const u = PowerConfigSchema.parse({ ups: [{ name: 'ups1' }] }).ups[0];
  t.match(u, { name: 'ups1', host: '127.0.0.1', port: 3493, pollMs: 500, timeoutMs: 2000, keepaliveMs: 20000 });
  const g = PowerConfigSchema.parse({ gpio: { enabled: true, inputs: { mains: { line: 17 } } } }).gpio;
  t.match(g.inputs.mains, { line: 17, activeLow: false, debounceMs: 50, rereadMs: 1000 });
});

t.test('rejects unknown keys, half credentials, duplicate ids, keepalive near the 60 s drop', async (t) => {
  const bad = (v: unknown) => PowerConfigSchema.safeParse(v).success;
  t.notOk(bad({ upss: [] }), 'unknown top-level key');
  t.notOk(bad({ ups: [{ name: 'u', pollms: 1000 }] }), 'unknown ups key (typo)');
  t.notOk(bad({ ups: [{ name: 'u', user: 'vakt' }] }), 'user without password');
  t.notOk(bad({ ups: [{ name: 'u' }, { name: 'u', host: '10.0.0.2' }] }), 'duplicate signal ids');
  t.ok(bad({ ups: [{ name: 'u' }, { name: 'u', id: 'u2', host: '10.0.0.2' }] }), 'same name on two hosts with an id');
  t.notOk(bad({ ups: [{ name: 'u', keepaliveMs: 60000 }] }), 'keepalive must stay under 30 s');
  t.notOk(bad({ ups: [{ name: 'has space' }] }));
  t.notOk(bad({ policy: { shutdownCommand: [] } }), 'empty shutdown command');
  t.notOk(bad({ gpio: { inputs: { mains: { line: 17, bounce: 5 } } } }));
  t.equal(upsId({ name: 'ups', id: 'house' }), 'house');
});
