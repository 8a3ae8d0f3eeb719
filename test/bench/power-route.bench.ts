/**
 * upsd shows LB → the supervisor's route target is backup (ms), through the real
 * process: real upsd + dummy-ups, NUT client at the default 1 s poll, decision seen
 * on the WebSocket. "upsd shows" = the moment upsd itself answers OB LB.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startNutRig } from '../helpers/nut.js';
import { liveClient, startSupervisor } from '../helpers/supervisorProcess.js';
import { freePort, percentiles, scratchDir } from '../helpers/util.js';

const TRIALS = Number(process.env.BENCH_POWER_TRIALS ?? 10);
const nut = await startNutRig({ ups: ['ups1'], pollIntervalS: 1 });
const { dir, cleanup } = await scratchDir('bench-power');
const port = await freePort();
const file = path.join(dir, 'vaktpost.yaml');
writeFileSync(
  file,
  `box: { name: bench, dataDir: ${path.join(dir, 'data')}, hardware: real }\napi: { listen: 127.0.0.1, port: ${port} }\n` +
    `policy: { failbackHoldS: 0, holdDownS: 0, tickMs: 250 }\n` +
    `power:\n  ups:\n    - { name: ups1, host: ${nut.host}, port: ${nut.port} }\ntime:\n  chronyc: { socket: /nonexistent/chronyd.sock }\n`,
);
const sup = await startSupervisor(file, port);
try {
  const live = await liveClient(sup.url, sup.token());
  await live.next((m) => m.type === 'snapshot', 5000);
  const lat: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    await nut.setStatus('ups1', 'OL', { 'battery.runtime': 1800, 'battery.charge': 100 });
    await nut.waitForUpsdStatus('ups1', 'OL', 10_000);
    const backAtLocal = live.next((m) => m.type === 'decision' && (m.decision as { route: string }).route === 'local', 15_000);
    await backAtLocal.catch(() => undefined);
    live.messages.length = 0;
    // Random phase against the 1 s poll, so trials do not all measure the same moment.
    await new Promise((r) => setTimeout(r, Math.random() * 1000));
    const toBackup = live.next(
      (m) =>
        m.type === 'decision' && (m.decision as { route: string; routeChanged: boolean }).routeChanged && (m.decision as { route: string }).route === 'backup',
      15_000,
    );
    await nut.setStatus('ups1', 'OB LB', { 'battery.runtime': 60, 'battery.charge': 5 });
    await nut.waitForUpsdStatus('ups1', 'OB LB', 10_000);
    const t0 = performance.now();
    await toBackup;
    lat.push(performance.now() - t0);
  }
  const p = percentiles(lat);
  console.log(
    JSON.stringify({
      name: 'power.upsd_LB_to_route_backup.median',
      value: Math.round(p.median),
      unit: 'ms',
      goal: 1500,
      better: 'lower',
      p95: Math.round(p.p95),
      n: lat.length,
      peer: { name: 'upsmon POLLFREQ 5 s (expected median ≈ 2500 ms to even notice)', pollMs: 5000 },
    }),
  );
  live.close();
} finally {
  await sup.kill('SIGTERM');
  await nut.close();
  await cleanup();
}
