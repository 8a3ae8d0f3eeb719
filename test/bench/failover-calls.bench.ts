/**
 * Simulated power fault → first call answered at the backup centre (ms), through
 * the whole real path: supervisor process, Kamailio, SIPp caller at 20 calls/s.
 * Includes the UPS poll (500 ms), the decision, the dispatcher RPC and the next
 * call's INVITE (calls are 50 ms apart, so ±50 ms is call spacing).
 */
import { startCaller } from '../helpers/sipp.js';
import { startSupervisorCallLab } from '../helpers/supervisorCallLab.js';
import { percentiles, waitFor } from '../helpers/util.js';

const TRIALS = Number(process.env.BENCH_FAILOVER_TRIALS ?? 6);
const teardowns: Array<() => unknown> = [];
const host = { teardown: (fn: () => unknown) => teardowns.push(fn) };
try {
  const lab = await startSupervisorCallLab(host, { failbackHoldS: 1, holdDownS: 0 });
  const sup = await lab.start();
  teardowns.push(() => sup.kill('SIGKILL'));
  const route = async () => (await sup.api<{ route: string; mode: string }>('GET', '/api/status')).json;
  await waitFor(async () => (await route()).mode === 'normal', { timeoutMs: 20_000, what: 'normal' });
  const lat: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const run = await startCaller(host, { kamailioPort: lab.kam.sipPort, calls: 80, rate: 20, holdMs: 100 });
    await new Promise((r) => setTimeout(r, 1000 + Math.random() * 500));
    const faultAt = Date.now();
    await sup.api('POST', '/api/sim/fault', { fault: 'power-low-battery' });
    const res = await run.done;
    const first = Math.min(...[...res.calls.values()].filter((c) => c.answeredBy === 'backup' && c.answeredAt).map((c) => c.answeredAt as number));
    lat.push(first - faultAt);
    await sup.api('POST', '/api/sim/fault', { fault: 'power-restored' });
    await waitFor(async () => (await route()).route === 'local', { timeoutMs: 20_000, what: 'failback' });
  }
  const p = percentiles(lat);
  console.log(
    JSON.stringify({
      name: 'calls.sim_fault_to_first_call_at_backup.median',
      value: Math.round(p.median),
      unit: 'ms',
      goal: 2000,
      better: 'lower',
      p95: Math.round(p.p95),
      n: lat.length,
      peer: { name: 'upsmon default POLLFREQ 5 s alone (before any rerouting)', expected_median_ms: 2500 },
    }),
  );
} finally {
  for (const fn of teardowns.reverse()) await fn();
}
