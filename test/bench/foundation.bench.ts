/**
 * Foundation figures: core decision latency (µs), sim fault → route change seen
 * on the WebSocket (ms), idle RSS (MB) and idle CPU (%) of the real supervisor process.
 */
import { readFileSync } from 'node:fs';
import { evaluateHealth } from '../../supervisor/src/core/health.js';
import { initialPolicyState, type PolicyConfig, step } from '../../supervisor/src/core/policy.js';
import type { Signal } from '../../supervisor/src/core/signal.js';
import { SignalTable } from '../../supervisor/src/core/signalTable.js';
import { simSignals } from '../../supervisor/src/monitors/simMonitor.js';
import { defaultSimState } from '../../hardware/sim/simBox.js';
import { liveClient, startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { percentiles, scratchDir } from '../helpers/util.js';

const emit = (name: string, value: number, unit: string, goal: number, extra: Record<string, unknown> = {}) =>
  console.log(JSON.stringify({ name, value: Math.round(value * 1000) / 1000, unit, goal, ...extra }));

// 1. signal → target-route decision in the pure core
{
  const cfg: PolicyConfig = {
    monitored: ['power', 'time', 'wan', 'centres', 'recording', 'telephony', 'system'],
    failoverOn: ['power', 'wan', 'centres'],
    failbackHoldMs: 120_000,
    holdDownMs: 30_000,
  };
  const table = new SignalTable();
  let now = Date.now();
  for (const s of simSignals(defaultSimState(['ups1'], ['wan1', 'wan2']), now, 60_000)) table.apply(s);
  let state = initialPolicyState(now);
  const samples: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    now += 10;
    const sig: Signal = {
      subsystem: 'wan',
      source: 'bench',
      key: 'wan.wan1.state',
      status: i % 2 ? 'fail' : 'ok',
      value: i % 2 ? 'down' : 'up',
      observedAt: now,
      ttlMs: 60_000,
    };
    const t0 = process.hrtime.bigint();
    table.apply(sig);
    const h = evaluateHealth(table.effective(now), now);
    state = step(state, h, now, cfg).state;
    samples.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  const p = percentiles(samples.slice(2000));
  emit('core.signal_to_decision.median', p.median, 'us', 1000, { p95: p.p95, signals: table.effective(now).length });
}

// 2–4. the real process
{
  const { dir, cleanup } = await scratchDir('bench');
  // The make-run timings, with failback hold and hold-down at 0 so every fault flips the route.
  const { file, port } = await writeSimConfig(dir, '', { failbackHoldS: 0, holdDownS: 0, tickMs: 250, reportMs: 500 });
  const sup = await startSupervisor(file, port);
  try {
    const live = await liveClient(sup.url, sup.token());
    await live.next((m) => m.type === 'snapshot', 5000);
    const lat: number[] = [];
    for (let i = 0; i < 20; i++) {
      const target = i % 2 === 0 ? 'backup' : 'local';
      const t0 = performance.now();
      // Alternate a simulated power fault and its repair: each is a real route change through the whole loop.
      const wait = live.next(
        (m) =>
          m.type === 'decision' && (m.decision as { route: string; routeChanged: boolean }).routeChanged && (m.decision as { route: string }).route === target,
        5000,
      );
      await sup.api('POST', '/api/sim/fault', { fault: target === 'backup' ? 'power-low-battery' : 'power-restored' });
      await wait;
      lat.push(performance.now() - t0);
      live.messages.length = 0;
    }
    const p = percentiles(lat);
    emit('sim_fault_to_route_change_on_websocket.median', p.median, 'ms', 250, { p95: p.p95, n: lat.length });
    live.close();
    // idle: let it settle, then measure RSS and CPU over 10 s from /proc
    await new Promise((r) => setTimeout(r, 3000));
    const pid = sup.child.pid as number;
    const ticks = () => {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return Number(f[11]) + Number(f[12]);
    };
    const c0 = ticks();
    const w0 = performance.now();
    await new Promise((r) => setTimeout(r, 10_000));
    const cpuPct = ((ticks() - c0) / 100 / ((performance.now() - w0) / 1000)) * 100;
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    emit('idle_rss', rssKb / 1024, 'MB', 150);
    emit('idle_cpu', cpuPct, '%', 2);
  } finally {
    await sup.kill('SIGTERM');
    await cleanup();
  }
}
