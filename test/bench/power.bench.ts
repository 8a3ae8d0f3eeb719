/**
 * Bench: "upsd shows OB" → Vaktpost's power signal says battery, for our
 * 1 s poll, side by side with upsmon at its default POLLFREQ 5 s watching the
 * same upsd (its ONBATT notification through NOTIFYCMD).
 *
 * "upsd shows OB" is taken from an independent 10 ms GET VAR poller, so the
 * driver's own pickup delay (dummy-ups re-reads its file every ~1 s) is not
 * charged to either side. Each trial restarts both pollers at random offsets
 * (else fixed periods phase-lock), writes OB, waits for both, returns to OL.
 *
 *   npx tsx test/bench/power.bench.ts        (POWER_BENCH_TRIALS=20 by default, ~2–3 min)
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NutClient } from '../../hardware/nut/client.js';
import { UpsConfigSchema } from '../../supervisor/src/config/power.js';
import type { Signal } from '../../supervisor/src/core/signal.js';
import { UpsMonitor } from '../../supervisor/src/monitors/upsMonitor.js';
import { startNutRig } from '../helpers/nut.js';
import { percentiles, waitFor } from '../helpers/util.js';

const TRIALS = Number(process.env.POWER_BENCH_TRIALS ?? 20);
const UPSMON_POLLFREQ_S = 5; // upsmon's default
const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rig = await startNutRig({ ups: ['ups1'] });
const notifyFile = path.join(rig.dir, 'notify.log');
await writeFile(notifyFile, '');
const upsConfig = UpsConfigSchema.parse({ name: 'ups1', port: rig.port });
const POLL_MS = upsConfig.pollMs;
const mon = new UpsMonitor({ ups: [upsConfig] });
const probe = new NutClient({ port: rig.port, requestTimeoutMs: 1000 });
let probeTimer: NodeJS.Timeout | null = null;
let stopped = false;

try {
  let mains: { value: Signal['value']; at: number } = { value: null, at: 0 };
  const onSignal = (s: Signal) => {
    if (s.key === 'power.ups1.mains' && s.value !== mains.value) mains = { value: s.value, at: wallNow() };
  };
  await mon.start(onSignal);
  await rig.startUpsmon('ups1', { pollFreqS: UPSMON_POLLFREQ_S, notifyFile });

  // Independent observer of upsd: the moment upsd starts reporting a status.
  let upsd: { status: string; at: number } = { status: '', at: 0 };
  const pollUpsd = async () => {
    try {
      const st = await probe.getVar('ups1', 'ups.status');
      if (st !== upsd.status) upsd = { status: st, at: wallNow() };
    } catch {
      // a probe hiccup only delays the reference point; the trial waits for it anyway
    }
    if (!stopped) probeTimer = setTimeout(() => void pollUpsd(), 10);
  };
  void pollUpsd();

  /** Latest upsmon notification of `type` after `since` (wall ms), from NOTIFYCMD's `date +%s%N`. */
  const upsmonSaw = async (type: string, since: number): Promise<number | null> => {
    const lines = (await readFile(notifyFile, 'utf8')).trim().split('\n');
    for (const l of lines) {
      const [ns, t] = l.split(' ');
      const at = Number(ns) / 1e6;
      if (t === type && at >= since) return at;
    }
    return null;
  };

  const ours: number[] = [];
  const peer: number[] = [];
  const fromWrite: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    // Both pollers and the driver tick at fixed periods (1 s, 5 s, ~1 s): left running they
    // phase-lock and every trial measures the same phase. Restart both at random offsets so
    // each trial sees a random phase, as a real mains loss would.
    await mon.stop();
    await rig.stopUpsmon('ups1');
    await rig.startUpsmon('ups1', { pollFreqS: UPSMON_POLLFREQ_S, notifyFile });
    await sleep(Math.random() * UPSMON_POLLFREQ_S * 1000);
    await mon.start(onSignal);
    await sleep(Math.random() * POLL_MS);

    const written = wallNow();
    await rig.setStatus('ups1', 'OB DISCHRG', { 'battery.charge': 90, 'battery.runtime': 1500 });
    await waitFor(() => upsd.status === 'OB DISCHRG' && upsd.at >= written, { timeoutMs: 5000, what: 'upsd OB' });
    const shown = upsd.at;
    await waitFor(() => mains.value === 'battery' && mains.at >= written, { timeoutMs: 5000, what: 'Vaktpost battery signal' });
    const peerAt = await waitFor(() => upsmonSaw('ONBATT', written), { timeoutMs: 15_000, intervalMs: 5, what: 'upsmon ONBATT' });
    ours.push(mains.at - shown);
    peer.push(peerAt - shown);
    fromWrite.push(mains.at - written);

    const back = wallNow();
    await rig.setStatus('ups1', 'OL');
    await waitFor(() => mains.value === 'online' && mains.at >= back, { timeoutMs: 5000, what: 'Vaktpost online signal' });
    process.stderr.write(`trial ${i + 1}/${TRIALS}: ours ${ours.at(-1)?.toFixed(0)} ms, upsmon ${peer.at(-1)?.toFixed(0)} ms\n`);
  }

  const o = percentiles(ours);
  const p = percentiles(peer);
  const w = percentiles(fromWrite);
  const line = (stat: 'median' | 'p95', goal: number) => ({
    name: `power.upsd_ob_to_signal_${stat}`,
    value: round(o[stat]),
    unit: 'ms',
    goal,
    better: 'lower',
    trials: TRIALS,
    detail: `Vaktpost UpsMonitor, pollMs ${POLL_MS}, GET VAR; from the moment upsd reports OB. From the .dev write (incl. dummy-ups pickup): median ${round(w.median)} ms, p95 ${round(w.p95)} ms`,
    peer: {
      name: `upsmon POLLFREQ ${UPSMON_POLLFREQ_S} s (default) ONBATT via NOTIFYCMD, same upsd`,
      value: round(p[stat]),
      ratio: round(p[stat] / o[stat], 2),
    },
  });
  // Goals: a 1 s poll should see OB within half a poll on average and within one poll at p95.
  console.log(JSON.stringify(line('median', 500)));
  console.log(JSON.stringify(line('p95', 1000)));
} finally {
  stopped = true;
  if (probeTimer) clearTimeout(probeTimer);
  await mon.stop();
  await probe.close();
  await rig.close();
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
