/**
 * Flows figures, with a real Node-RED child and the real Supervisor in this process:
 *
 * 1. Signal → flow proposal → route decision (ms, median/p95): both WAN links are cut
 *    and restored `--trials` times; the time from the signal to the supervisor's route
 *    decision is measured with the default flow deciding (every decision waits for the
 *    flow's answer), side by side with the built-in policy alone (peer).
 * 2. The flows' answer alone (IPC round trip + flow), as the advisor measured it.
 * 3. RSS of the Node-RED child (from its heartbeat), after the trials.
 * 4. Dry-run of a recorded day (1 sample/min for 8 signals, wan1 down for two hours)
 *    through a template (two differing periods expected).
 *
 * Usage: npx tsx test/bench/flows.bench.ts [--trials N]
 * One JSON line per figure on stdout; progress on stderr.
 */
import path from 'node:path';
import { defaultHealthRules } from '../../supervisor/src/core/health.js';
import type { Signal, SignalStatus, Subsystem } from '../../supervisor/src/core/signal.js';
import { silentLogger } from '../../supervisor/src/log.js';
import { openDb } from '../../supervisor/src/store/db.js';
import { Store } from '../../supervisor/src/store/store.js';
import { type LiveMessage, Supervisor } from '../../supervisor/src/supervisor.js';
import { healthyBox, type Harness, startHarness, TestClock, TestMonitor, testPolicy } from '../integration/flows/harness.js';
import { percentiles, scratchDir } from '../helpers/util.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const TRIALS = Number(arg('--trials') ?? 60);
const log = (msg: string) => process.stderr.write(`[flows.bench] ${msg}\n`);
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Cuts and restores both WAN links; returns ms from signal to route decision, per change. */
async function toggleTrials(sup: Supervisor, monitor: TestMonitor, trials: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < trials; i++) {
    for (const [status, value, route] of [
      ['fail', 'down', 'backup'],
      ['ok', 'up', 'local'],
    ] as const) {
      const got = new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no route change to ${route} within 5 s`)), 5000);
        const on = (m: LiveMessage) => {
          if (m.type === 'decision' && m.decision.routeChanged && m.decision.route === route) {
            clearTimeout(timer);
            sup.off('live', on);
            resolve(performance.now());
          }
        };
        sup.on('live', on);
      });
      const t0 = performance.now();
      monitor.set('wan.wan1.state', status, value);
      monitor.set('wan.wan2.state', status, value);
      out.push((await got) - t0);
    }
  }
  return out;
}

async function builtinOnly(trials: number): Promise<number[]> {
  const { dir, cleanup } = await scratchDir('flows-bench');
  const clock = new TestClock();
  const store = new Store(openDb(path.join(dir, 'v.db')));
  const monitor = new TestMonitor(clock);
  healthyBox(monitor);
  const sup = new Supervisor({
    box: 'bench',
    store,
    clock,
    log: silentLogger(),
    monitors: [monitor],
    reconcilers: [],
    policy: { ...testPolicy, monitored: testPolicy.monitored.filter((s) => s !== 'flows'), failbackHoldMs: 0 },
    rules: defaultHealthRules,
    tickMs: 100,
  });
  await sup.start();
  try {
    return await toggleTrials(sup, monitor, trials);
  } finally {
    await sup.stop();
    store.close();
    await cleanup();
  }
}

function recordedDay(now: number): Signal[] {
  const out: Signal[] = [];
  for (let t = now - 24 * 3600_000; t < now - 120_000; t += 60_000) {
    const hour = Math.floor((t - (now - 24 * 3600_000)) / 3600_000);
    const wan1Down = hour === 4 || hour === 13;
    const s = (key: string, status: SignalStatus, value: Signal['value']) =>
      out.push({ subsystem: key.split('.')[0] as Subsystem, source: 'recorded', key, status, value, observedAt: t, ttlMs: 90_000 });
    s('power.ups1.mains', 'ok', 'line');
    s('wan.wan1.state', wan1Down ? 'fail' : 'ok', wan1Down ? 'down' : 'up');
    s('wan.wan2.state', 'ok', 'up');
    s('centres.local.lan', 'ok', true);
    s('centres.local.wan1', wan1Down ? 'fail' : 'ok', !wan1Down);
    s('centres.backup.wan1', wan1Down ? 'fail' : 'ok', !wan1Down);
    s('recording.rtpengine', 'ok', true);
    s('system.shutdown', 'ok', false);
  }
  return out;
}

async function main(): Promise<void> {
  log(`built-in policy alone: ${TRIALS} × (cut, restore)`);
  const peer = percentiles(await builtinOnly(TRIALS));

  log('starting the Node-RED child with the default flow');
  let h: Harness | null = null;
  try {
    h = await startHarness({
      policy: { failbackHoldMs: 0 },
      flows: { dryRun: { sampleTtlS: 90, tickS: 60, windowHours: 24, proposalTimeoutMs: 2000, maxDurationS: 300 } },
    });
    await h.waitForRoute('local', { decidedBy: /^flows:v1$/, timeoutMs: 10_000 });
    // The dry-run first: the trials below are recorded too and would show up in its window.
    h.store.insertSamples(recordedDay(h.clock.now()));
    log('dry-run of small-municipality-any-wan over a recorded day');
    const t0 = performance.now();
    const res = await h.http('POST', '/api/flows/dry-run', { body: { template: 'small-municipality-any-wan' } });
    if (res.status !== 200) throw new Error(`dry-run failed: ${res.text}`);
    const report = (res.json as { report: { evaluations: number; differences: unknown[] } }).report;
    log(`dry-run: ${report.evaluations} evaluations per side, ${report.differences.length} differing periods`);
    emit({ name: 'flows.dry_run_24h', value: Math.round(performance.now() - t0), unit: 'ms', goal: 60_000, better: 'lower' });
    log(`default flow: ${TRIALS} × (cut, restore)`);
    const ms = await toggleTrials(h.supervisor, h.monitor, TRIALS);
    const wrong = h.live.filter((m) => m.type === 'decision' && m.decision.routeChanged && !m.decision.decidedBy.startsWith('flows:')).length;
    if (wrong > 0) throw new Error(`${wrong} route changes were not decided by the flow — the measurement would not include it`);
    const ours = percentiles(ms);
    for (const q of ['median', 'p95'] as const) {
      emit({
        name: `flows.signal_to_decision_${q}`,
        value: r2(ours[q]),
        unit: 'ms',
        goal: q === 'median' ? 20 : 100,
        better: 'lower',
        peer: { name: 'built-in policy alone', value: r2(peer[q]), ratio: r2(ours[q] / peer[q]) },
      });
    }
    const st = h.flows.status();
    emit({ name: 'flows.answer_median', value: r2(st.answerMs.median ?? Number.NaN), unit: 'ms', goal: 20, better: 'lower' });
    emit({ name: 'flows.answer_p95', value: r2(st.answerMs.p95 ?? Number.NaN), unit: 'ms', goal: 100, better: 'lower' });
    emit({ name: 'flows.child_rss', value: r2((st.runtime.rssBytes ?? Number.NaN) / 1048576), unit: 'MB', goal: 200, better: 'lower' });
  } finally {
    await h?.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`[flows.bench] failed: ${err.message}\n`);
  process.exit(1);
});
