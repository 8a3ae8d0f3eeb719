import t from 'tap';
import type { UpsReader } from '../../../hardware/nut/reader.js';
import { UpsConfigSchema } from '../../../supervisor/src/config/power.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { UpsMonitor } from '../../../supervisor/src/monitors/upsMonitor.js';
import { upsSignalsFromVars } from '../../../supervisor/src/monitors/upsSignals.js';
import { waitFor } from '../../helpers/util.js';

const ctx = { id: 'ups1', source: 'nut:test', observedAt: 1000, ttlMs: 3000 };
const vars = (o: Record<string, string>) => new Map(Object.entries(o));
const byKey = (sigs: Signal[]) => new Map(sigs.map((s) => [s.key.replace('power.ups1.', ''), s]));

t.test('OL: mains online ok, no LB, no FSD, measurements as numbers', async (t) => {
  const s = byKey(
    upsSignalsFromVars(ctx, vars({ 'ups.status': 'OL CHRG', 'battery.charge': '97', 'battery.runtime': '1800', 'input.voltage': '231.5', 'ups.load': '23' })),
  );
  t.match(s.get('mains'), { status: 'ok', value: 'online', subsystem: 'power', key: 'power.ups1.mains', ttlMs: 3000, observedAt: 1000 });
  t.match(s.get('lowBattery'), { status: 'ok', value: false });
  t.match(s.get('fsd'), { status: 'ok', value: false });
  t.match(s.get('charge'), { status: 'ok', value: 97, unit: '%' });
  t.match(s.get('runtime'), { status: 'ok', value: 1800, unit: 's' });
  t.match(s.get('inputVoltage'), { status: 'ok', value: 231.5, unit: 'V' });
  t.match(s.get('load'), { status: 'ok', value: 23, unit: '%' });
});

t.test('OB, OB LB, FSD, overload, thresholds from the UPS', async (t) => {
  t.match(byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'OB DISCHRG' }))).get('mains'), { status: 'warn', value: 'battery' });
  const lb = byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'OB LB', 'battery.charge': '15', 'battery.charge.low': '20' })));
  t.match(lb.get('lowBattery'), { status: 'fail', value: true });
  t.match(lb.get('charge'), { status: 'warn', value: 15 });
  t.match(byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'FSD OB LB' }))).get('fsd'), { status: 'fail', value: true });
  t.match(byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'OL OVER', 'ups.load': '104' }))).get('load'), { status: 'warn', value: 104 });
  t.match(byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'OL BYPASS' }))).get('mains'), { status: 'warn', value: 'online' });
});

t.test('WAIT, missing or odd ups.status: a monitoring fault, never battery', async (t) => {
  for (const v of [vars({ 'ups.status': 'WAIT' }), vars({}), vars({ 'ups.status': '  ' })]) {
    const sigs = upsSignalsFromVars(ctx, v, new Set(['charge']));
    t.same(sigs.map((s) => s.key.split('.')[2]).sort(), ['charge', 'fsd', 'lowBattery', 'mains']);
    for (const s of sigs) {
      t.equal(s.status, 'unknown');
      t.equal(s.value, null);
      t.match(s.detail, /ups\.status|WAIT/);
    }
  }
  t.match(byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'OFF' }))).get('mains'), { status: 'unknown', value: null, detail: /neither OL nor OB/ });
});

t.test('measurements: absent ones are not invented, vanished or garbled ones are unknown', async (t) => {
  const none = byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'OL' })));
  t.notOk(none.has('charge'));
  t.notOk(none.has('inputVoltage'));
  const gone = byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'OL' }), new Set(['charge'])));
  t.match(gone.get('charge'), { status: 'unknown', detail: /missing now/ });
  const bad = byKey(upsSignalsFromVars(ctx, vars({ 'ups.status': 'OL', 'battery.runtime': 'n/a' })));
  t.match(bad.get('runtime'), { status: 'unknown', value: null, detail: /not a number/ });
});

/** A scripted reader: each listVars call takes the next step (vars or an error). */
class ScriptedReader implements UpsReader {
  calls = 0;
  constructor(private readonly step: (ups: string, call: number) => Map<string, string> | Error) {}
  async listVars(ups: string): Promise<Map<string, string>> {
    const r = this.step(ups, this.calls++);
    if (r instanceof Error) throw r;
    return r;
  }
}

t.test('UpsMonitor: several UPSes, faults isolated per UPS, injected clock and reader', async (t) => {
  const reader = new ScriptedReader((ups, call) => {
    if (ups === 'a') return vars({ 'ups.status': 'OB', 'battery.charge': '80' });
    return call < 2 ? vars({ 'ups.status': 'OL', 'battery.charge': '100' }) : new Error('upsd at x:1 answered ERR DATA-STALE');
  });
  const clock = { now: () => 42_000, monotonic: () => performance.now() };
  const ups = [UpsConfigSchema.parse({ name: 'a', pollMs: 200 }), UpsConfigSchema.parse({ name: 'b', pollMs: 200 })];
  const mon = new UpsMonitor({ ups, reader, clock, source: (u) => `sim:${u.name}` });
  const seen: Signal[] = [];
  await mon.start((s) => seen.push(s));
  t.teardown(() => mon.stop());
  t.match(
    seen.find((s) => s.key === 'power.a.mains'),
    { status: 'warn', value: 'battery', observedAt: 42_000, ttlMs: 600, source: 'sim:a' },
  );
  t.match(
    seen.find((s) => s.key === 'power.b.mains'),
    { status: 'ok', value: 'online' },
  );
  await waitFor(() => seen.find((s) => s.key === 'power.b.charge' && s.status === 'unknown'), { timeoutMs: 30_000, what: 'b to fault' });
  const bFault = seen.filter((s) => s.key.startsWith('power.b.') && s.status === 'unknown');
  t.same([...new Set(bFault.map((s) => s.key))].sort(), ['power.b.charge', 'power.b.fsd', 'power.b.lowBattery', 'power.b.mains']);
  t.ok(bFault.every((s) => s.value === null && /DATA-STALE/.test(s.detail ?? '')));
  t.notOk(
    seen.some((s) => s.key.startsWith('power.a.') && s.status === 'unknown'),
    'a is unaffected by b',
  );
  t.notOk(
    seen.some((s) => s.key === 'power.b.mains' && s.value === 'battery'),
    'b never reads as on battery',
  );
  await mon.stop();
  const n = reader.calls;
  await new Promise((r) => setTimeout(r, 450));
  t.equal(reader.calls, n, 'no polls after stop');
});

t.test('UpsMonitor: a throwing sink does not stop polling', async (t) => {
  const reader = new ScriptedReader(() => vars({ 'ups.status': 'OL' }));
  const mon = new UpsMonitor({ ups: [UpsConfigSchema.parse({ name: 'u', pollMs: 200 })], reader });
  await mon.start(() => {
    throw new Error('bad sink');
  });
  t.teardown(() => mon.stop());
  await waitFor(() => reader.calls >= 3, { timeoutMs: 30_000, what: 'three polls' });
  t.pass('kept polling');
});
