/**
 * Kamailio forgets the failover (real Kamailio on loopback, test/helpers/kamailio.ts):
 * a restart — or a `dispatcher.reload` — resets the dispatcher states to the list file,
 * so calls would go to the local centre again. The reconciler, with its default 1 s drift
 * check, must put `backup` back. Time limits the functional test
 * (test/integration/calls/kamailio-restart.test.ts) no longer asserts:
 *
 *  - calls.kamailio_restart_to_backup_restored.p95: Kamailio is back (restart returned) →
 *    `dispatcher.list` shows local disabled again. Goal 2 s.
 *  - calls.dispatcher_reload_to_backup_restored.p95: `dispatcher.reload` → the actuator
 *    reads `backup` again. Goal 2 s.
 *
 * Each trial lands at a random phase of the 1 s drift check (else the trials phase-lock
 * with it). No peer: stock Kamailio never restores a runtime state by itself.
 *
 *   node --import tsx test/bench/kamailio-drift.bench.ts     (KAMAILIO_DRIFT_TRIALS=6; ~1 min)
 */
import { Reconciler } from '../../supervisor/src/reconcilers/reconciler.js';
import { KamailioActuator } from '../../supervisor/src/reconcilers/kamailio/kamailioActuator.js';
import { startCallLab } from '../helpers/kamailio.js';
import { percentiles, waitFor } from '../helpers/util.js';

const TRIALS = Number(process.env.KAMAILIO_DRIFT_TRIALS ?? 6);
const DRIFT_CHECK_MS = 1000; // the reconciler's default (config reconcile.driftCheckMs)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const r1 = (x: number) => Math.round(x * 10) / 10;

const teardowns: Array<() => unknown> = [];
const host = { teardown: (fn: () => unknown) => teardowns.push(fn) };
try {
  const lab = await startCallLab(host);
  const actuator = new KamailioActuator({ rpc: lab.kam.rpc, centres: { local: [lab.local.uri], backup: [lab.backup.uri] } });
  const rec = new Reconciler(actuator, { retryInitialMs: 200, retryMaxMs: 2000, driftCheckMs: DRIFT_CHECK_MS, now: Date.now, record: () => {} });
  teardowns.push(() => rec.stop());
  rec.start();
  rec.setTarget('backup', null);
  if (!(await rec.waitConverged(5000))) throw new Error('the reconciler did not converge on backup');
  const localState = async () => (await lab.kam.rpc.dispatcherList()).find((d) => d.uri === lab.local.uri)?.state;

  const restart: number[] = [];
  const reload: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    await waitFor(async () => (await actuator.observe()) === 'backup', { timeoutMs: 10_000, what: 'backup before the trial' });
    await sleep(Math.random() * DRIFT_CHECK_MS);
    await lab.kam.restart();
    const upAt = performance.now();
    await waitFor(async () => (await localState()) === 'disabled', { timeoutMs: 10_000, intervalMs: 20, what: 'the reconciler to disable local again' });
    restart.push(performance.now() - upAt);

    await waitFor(async () => (await actuator.observe()) === 'backup', { timeoutMs: 10_000, what: 'backup before the reload' });
    await sleep(Math.random() * DRIFT_CHECK_MS);
    await lab.kam.rpc.dispatcherReload();
    const reloadAt = performance.now();
    await waitFor(async () => (await actuator.observe()) === 'backup', { timeoutMs: 10_000, intervalMs: 20, what: 'backup after the reload' });
    reload.push(performance.now() - reloadAt);
    process.stderr.write(`trial ${i + 1}/${TRIALS}: restart → restored ${restart.at(-1)?.toFixed(0)} ms, reload → restored ${reload.at(-1)?.toFixed(0)} ms\n`);
    // Kamailio refuses a dispatcher.reload < 5 s after the previous one ("Ongoing reload");
    // the next trial's restart resets that, but keep the reloads apart regardless.
    await sleep(5100 - Math.min(5100, performance.now() - reloadAt));
  }
  const fig = (name: string, xs: number[], detail: string) => {
    const p = percentiles(xs);
    console.log(
      JSON.stringify({ name, value: r1(p.p95), unit: 'ms', goal: 2000, better: 'lower', median: r1(p.median), max: r1(p.max), n: xs.length, detail }),
    );
  };
  fig(
    'calls.kamailio_restart_to_backup_restored.p95',
    restart,
    `Kamailio restarted while failed over → local disabled again (drift check every ${DRIFT_CHECK_MS} ms)`,
  );
  fig('calls.dispatcher_reload_to_backup_restored.p95', reload, `dispatcher.reload while failed over → backup again (drift check every ${DRIFT_CHECK_MS} ms)`);
} finally {
  for (const fn of teardowns.reverse()) {
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`teardown: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}
