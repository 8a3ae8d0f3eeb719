/**
 * UPS monitoring faults against a real upsd + dummy-ups on loopback (test/helpers/nut.ts),
 * the UpsMonitor at its default 500 ms poll — the time limits the functional tests no
 * longer assert (test/integration/power/upsMonitor.test.ts, upsmonCoexist.test.ts):
 *
 *  1. power.driver_kill_to_unknown.p95: the driver SIGKILLed → power.ups1.mains turns
 *     `unknown` (DRIVER-NOT-CONNECTED). Spec: within 1 s. The kill lands at a random
 *     phase of the poll, as in real life.
 *  2. power.upsmon_fsd_to_signal.p95: the primary upsmon is told `upsmon -c fsd` →
 *     Vaktpost's power.ups1.fsd fails (the window in which calls move to the backup
 *     before upsmon shuts the box down). Goal 2.5 s. A fresh upsd per trial (FSD is
 *     sticky in upsd until it restarts).
 *
 * No peer: these are limits of our own monitor, not a comparison.
 *
 *   node --import tsx test/bench/power-faults.bench.ts     (POWER_FAULT_TRIALS=10, FSD trials 5; ~1 min)
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UpsConfigSchema } from '../../supervisor/src/config/power.js';
import type { Signal } from '../../supervisor/src/core/signal.js';
import { UpsMonitor } from '../../supervisor/src/monitors/upsMonitor.js';
import { startNutRig } from '../helpers/nut.js';
import { percentiles, waitFor } from '../helpers/util.js';

const TRIALS = Number(process.env.POWER_FAULT_TRIALS ?? 10);
const FSD_TRIALS = Math.max(3, Math.round(TRIALS / 2));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number) => Math.round(x * 10) / 10;

function figure(name: string, xs: number[], goal: number, detail: string): string {
  const p = percentiles(xs);
  return JSON.stringify({ name, value: r1(p.p95), unit: 'ms', goal, better: 'lower', median: r1(p.median), max: r1(p.max), n: xs.length, detail });
}

// 1. Driver killed → unknown.
{
  const rig = await startNutRig({ ups: ['ups1'] });
  const ups = UpsConfigSchema.parse({ name: 'ups1', port: rig.port });
  const mon = new UpsMonitor({ ups: [ups] });
  try {
    let last: { s: Signal; at: number } | null = null;
    const seen: Array<{ s: Signal; at: number }> = [];
    await mon.start((s) => {
      if (s.key !== 'power.ups1.mains') return;
      last = { s, at: performance.now() };
      seen.push(last);
    });
    const lat: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      await waitFor(() => last?.s.status === 'ok', { timeoutMs: 10_000, what: 'power.ups1.mains ok before the kill' });
      await sleep(Math.random() * ups.pollMs);
      const t0 = performance.now();
      await rig.killDriver('ups1');
      const fault = await waitFor(() => seen.find((x) => x.at >= t0 && x.s.status !== 'ok'), { timeoutMs: 5000, what: 'the fault after the kill' });
      if (fault.s.status !== 'unknown' || fault.s.value !== null)
        throw new Error(`driver kill reported as ${fault.s.status}/${String(fault.s.value)}, not unknown`);
      lat.push(fault.at - t0);
      process.stderr.write(`driver kill ${i + 1}/${TRIALS}: unknown after ${(fault.at - t0).toFixed(0)} ms (${fault.s.detail?.slice(0, 60)})\n`);
      seen.length = 0;
      await rig.startDriver('ups1');
    }
    console.log(
      figure(
        'power.driver_kill_to_unknown.p95',
        lat,
        1000,
        `dummy-ups SIGKILLed at a random phase of the ${ups.pollMs} ms poll → power.ups1.mains unknown (spec: within 1 s)`,
      ),
    );
  } finally {
    await mon.stop();
    await rig.close();
  }
}

// 2. upsmon -c fsd → Vaktpost sees FSD.
{
  const lat: number[] = [];
  for (let i = 0; i < FSD_TRIALS; i++) {
    const rig = await startNutRig({ ups: ['ups1'] });
    const ups = UpsConfigSchema.parse({ name: 'ups1', port: rig.port, user: rig.user.name, password: rig.user.password });
    const mon = new UpsMonitor({ ups: [ups] });
    try {
      const notify = path.join(rig.dir, 'upsmon-events.log');
      await writeFile(notify, '');
      // As in upsmonCoexist.test.ts: a primary upsmon that waits for secondaries (HOSTSYNC) before
      // its (harmless) SHUTDOWNCMD; Vaktpost logged in as a secondary.
      await rig.startUpsmon('ups1', { pollFreqS: 5, notifyFile: notify, role: 'primary', hostSyncS: 20, finalDelayS: 0 });
      let fsdAt = 0;
      let ok = false;
      await mon.start((s: Signal) => {
        if (s.key === 'power.ups1.fsd' && s.status === 'ok') ok = true;
        if (s.key === 'power.ups1.fsd' && s.value === true && s.status === 'fail' && fsdAt === 0) fsdAt = performance.now();
      });
      await waitFor(() => ok, { timeoutMs: 10_000, what: 'power.ups1.fsd ok before the FSD' });
      await sleep(Math.random() * ups.pollMs);
      const t0 = performance.now();
      await rig.upsmonFsd();
      await waitFor(() => fsdAt > 0, { timeoutMs: 10_000, what: 'Vaktpost to see FSD' });
      lat.push(fsdAt - t0);
      process.stderr.write(`upsmon -c fsd ${i + 1}/${FSD_TRIALS}: Vaktpost saw FSD after ${(fsdAt - t0).toFixed(0)} ms\n`);
    } finally {
      await mon.stop();
      await rig.close();
    }
  }
  console.log(
    figure('power.upsmon_fsd_to_signal.p95', lat, 2500, 'primary upsmon told `upsmon -c fsd` (timed from the command) → power.ups1.fsd fail in Vaktpost'),
  );
}
