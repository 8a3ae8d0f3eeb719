/**
 * The UPS monitor against a REAL upsd + dummy-ups (test/helpers/nut.ts):
 * status sequence, driver killed, driver hung (DATA-STALE), upsd stopped and
 * restarted, wrong password. Faults must be `unknown` with the cause — never
 * "on battery", never "ok".
 */
import t, { type Test } from 'tap';
import { UpsConfigSchema } from '../../../supervisor/src/config/power.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { UpsMonitor } from '../../../supervisor/src/monitors/upsMonitor.js';
import { type NutRig, startNutRig } from '../../helpers/nut.js';
import { waitFor } from '../../helpers/util.js';

interface Seen extends Signal {
  at: number;
}

/** Collects every signal with its arrival time; `last(key)` is the current view. */
function recorder() {
  const all: Seen[] = [];
  const latest = new Map<string, Seen>();
  return {
    all,
    sink: (s: Signal) => {
      const x = { ...s, at: performance.now() };
      all.push(x);
      latest.set(s.key, x);
    },
    last: (key: string) => latest.get(key),
    since: (t0: number) => all.filter((s) => s.at >= t0),
  };
}

async function setup(t: Test, rigOpts: Parameters<typeof startNutRig>[0], ups: object[]) {
  const rig = await startNutRig(rigOpts);
  t.teardown(() => rig.close());
  const rec = recorder();
  const mon = new UpsMonitor({ ups: ups.map((u) => UpsConfigSchema.parse({ port: rig.port, ...u })) });
  t.teardown(() => mon.stop());
  await mon.start(rec.sink);
  return { rig, rec, mon };
}

const cred = (rig: NutRig) => ({ user: rig.user.name, password: rig.user.password });

t.test('OL → OB → OB LB → OL gives the right signals, per UPS', async (t) => {
  const rig = await startNutRig({ ups: ['ups1', 'ups2'] });
  t.teardown(() => rig.close());
  const rec = recorder();
  const mon = new UpsMonitor({
    ups: [UpsConfigSchema.parse({ name: 'ups1', port: rig.port, ...cred(rig) }), UpsConfigSchema.parse({ name: 'ups2', port: rig.port })],
  });
  t.teardown(() => mon.stop());
  await mon.start(rec.sink);
  t.match(rec.last('power.ups1.mains'), { status: 'ok', value: 'online', ttlMs: 1500, source: `nut:ups1@127.0.0.1:${rig.port}` });
  t.match(rec.last('power.ups1.charge'), { status: 'ok', value: 100, unit: '%' });
  t.match(rec.last('power.ups1.runtime'), { value: 1800, unit: 's' });
  t.match(rec.last('power.ups1.inputVoltage'), { value: 230, unit: 'V' });
  t.match(rec.last('power.ups1.load'), { value: 23, unit: '%' });
  t.equal(await rig.query('GET NUMLOGINS ups1'), 'NUMLOGINS ups1 1', 'logged in like a secondary upsmon');
  const t0 = performance.now();

  await rig.setStatus('ups1', 'OB DISCHRG', { 'battery.charge': 80, 'battery.runtime': 900, 'input.voltage': 0 });
  await waitFor(() => rec.last('power.ups1.mains')?.value === 'battery', { timeoutMs: 30_000, what: 'mains = battery' });
  t.match(rec.last('power.ups1.mains'), { status: 'warn', value: 'battery' });
  t.match(rec.last('power.ups1.lowBattery'), { status: 'ok', value: false });
  t.match(rec.last('power.ups1.runtime'), { value: 900 });

  await rig.setStatus('ups1', 'OB LB', { 'battery.charge': 15, 'battery.runtime': 120 });
  await waitFor(() => rec.last('power.ups1.lowBattery')?.value === true, { timeoutMs: 30_000, what: 'lowBattery = true' });
  t.match(rec.last('power.ups1.lowBattery'), { status: 'fail', value: true });
  t.match(rec.last('power.ups1.mains'), { status: 'warn', value: 'battery' });
  t.match(rec.last('power.ups1.charge'), { status: 'warn', value: 15, detail: /battery\.charge\.low 20/ });
  t.match(rec.last('power.ups1.fsd'), { status: 'ok', value: false });

  await rig.setStatus('ups1', 'OL CHRG', { 'battery.charge': 16 });
  await waitFor(() => rec.last('power.ups1.mains')?.value === 'online', { timeoutMs: 30_000, what: 'mains = online' });
  t.match(rec.last('power.ups1.lowBattery'), { status: 'ok', value: false });
  t.match(rec.last('power.ups1.mains'), { status: 'ok' });

  const during = rec.since(t0);
  t.notOk(
    during.some((s) => s.status === 'unknown'),
    'no monitoring fault during a clean sequence',
  );
  t.notOk(
    during.some((s) => s.key.startsWith('power.ups2.') && s.status !== 'ok'),
    'ups2 stayed OL throughout',
  );
});

t.test('driver killed → monitoring fault within a poll (not on battery); restart recovers', async (t) => {
  const { rig, rec } = await setup(t, { ups: ['ups1'] }, [{ name: 'ups1' }]);
  await rig.setStatus('ups1', 'OL');
  // Kill at a random phase relative to the default 500 ms poll, as in real life.
  await new Promise((r) => setTimeout(r, Math.random() * 500));
  const t0 = performance.now();
  await rig.killDriver('ups1');
  // The first mains report that is not ok: a poll that lands before upsd has noticed the kill
  // still (rightly) reports ok, so "the first report after the kill" would race upsd.
  const fault = await waitFor(() => rec.since(t0).find((s) => s.key === 'power.ups1.mains' && s.status !== 'ok'), {
    timeoutMs: 30_000,
    what: 'the fault after the kill',
  });
  const ms = fault.at - t0;
  t.match(fault, { status: 'unknown', value: null, detail: /DRIVER-NOT-CONNECTED|WAIT/ });
  t.comment(`driver kill → unknown in ${ms.toFixed(0)} ms (detail: ${fault.detail})`);
  // The spec's "within 1 s" is a speed figure (a benchmark's), not asserted here.
  for (const k of ['lowBattery', 'fsd', 'charge', 'runtime', 'inputVoltage', 'load']) {
    await waitFor(() => rec.since(t0).some((s) => s.key === `power.ups1.${k}` && s.status === 'unknown'), { timeoutMs: 30_000, what: `${k} unknown` });
  }
  t.notOk(
    rec.since(t0).some((s) => s.value === 'battery' || (s.status === 'ok' && s.at > fault.at + 10)),
    'never on battery, never ok while the driver is gone',
  );
  await rig.startDriver('ups1');
  await waitFor(() => rec.last('power.ups1.mains')?.status === 'ok', { timeoutMs: 30_000, what: 'recovery after driver restart' });
  t.match(rec.last('power.ups1.mains'), { value: 'online' });
});

t.test('driver hung (SIGSTOP) → DATA-STALE → fault; SIGCONT recovers', async (t) => {
  // MAXAGE 3 instead of NUT's 15 keeps the test short; the mechanism is the same.
  const { rig, rec } = await setup(t, { ups: ['ups1'], maxAgeS: 3 }, [{ name: 'ups1' }]);
  const t0 = performance.now();
  rig.pauseDriver('ups1');
  t.teardown(() => {
    try {
      rig.resumeDriver('ups1');
    } catch {}
  });
  const fault = await waitFor(() => rec.since(t0).find((s) => s.key === 'power.ups1.mains' && s.status !== 'ok'), {
    timeoutMs: 30_000,
    what: 'DATA-STALE fault',
  });
  t.match(fault, { status: 'unknown', value: null, detail: /DATA-STALE/ });
  t.comment(`SIGSTOP → unknown (DATA-STALE) after ${(fault.at - t0).toFixed(0)} ms with MAXAGE 3`);
  t.notOk(
    rec.since(t0).some((s) => s.value === 'battery'),
    'never on battery',
  );
  rig.resumeDriver('ups1');
  await waitFor(() => rec.last('power.ups1.mains')?.status === 'ok', { timeoutMs: 30_000, what: 'recovery after SIGCONT' });
  t.pass('recovered');
});

t.test('upsd stopped → fault; upsd restarted → recovery with no manual step', async (t) => {
  const { rig, rec } = await setup(t, { ups: ['ups1'] }, [{ name: 'ups1' }]);
  t.match(rec.last('power.ups1.mains'), { status: 'ok' });
  const t0 = performance.now();
  await rig.stopUpsd();
  const fault = await waitFor(() => rec.since(t0).find((s) => s.key === 'power.ups1.mains'), { timeoutMs: 30_000, what: 'fault after upsd stop' });
  t.match(fault, { status: 'unknown', value: null, detail: /upsd at 127\.0\.0\.1:\d+ (closed the connection|refused the connection)/ });
  await waitFor(() => rec.since(t0).some((s) => /refused the connection — is upsd running/.test(s.detail ?? '')), {
    timeoutMs: 30_000,
    what: 'the refused-connection cause',
  });
  t.notOk(
    rec.since(t0).some((s) => s.value === 'battery' || s.status === 'ok'),
    'neither battery nor ok while upsd is down',
  );
  const t1 = performance.now();
  await rig.startUpsd();
  await waitFor(() => rec.last('power.ups1.mains')?.status === 'ok', { timeoutMs: 30_000, what: 'recovery after upsd restart' });
  t.comment(`upsd back → signals ok after ${(performance.now() - t1).toFixed(0)} ms (reconnect backoff ≤ 4 s + driver reconnect)`);
  t.match(rec.last('power.ups1.mains'), { value: 'online' });
});

t.test('wrong password → every signal unknown, the cause named', async (t) => {
  const { rig, rec } = await setup(t, { ups: ['ups1'] }, [{ name: 'ups1', user: 'vakt', password: 'wrong' }]);
  const m = rec.last('power.ups1.mains');
  t.match(m, { status: 'unknown', value: null });
  t.match(m?.detail, /refused LOGIN ups1 for user "vakt" \(ERR ACCESS-DENIED\) — wrong password/);
  t.match(rec.last('power.ups1.lowBattery'), { status: 'unknown' });
  t.match(rec.last('power.ups1.fsd'), { status: 'unknown' });
  t.equal(await rig.query('GET NUMLOGINS ups1'), 'NUMLOGINS ups1 0');
});
