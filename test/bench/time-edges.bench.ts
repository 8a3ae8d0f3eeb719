/**
 * Bench (issue #4, time edges), through a real chronyd (-x) and the
 * TimeMonitor at its default poll (1 s):
 *  - time.unsync_upstream_to_fail: the only upstream starts answering
 *    stratum 16 / leap 3 → `time.source` fails. Goal 10 s. chronyd's own
 *    peer: nothing in tracking (it stays "Normal"); the source would only be
 *    reported lost after maxSourceLossS (120 s).
 *  - time.chronyd_restart.fail_s: seconds any time signal spent in `fail`
 *    while chronyd was stopped 3 s and started again with a good clock.
 *    Goal 0 (before holdover: ~65 s).
 * The rig's chronyd polls every 0.25–1 s; on the box (maxpoll 6) the first
 * unsynchronised reply can take up to one poll interval (64 s) to arrive.
 *
 *   npx tsx test/bench/time-edges.bench.ts        (TRIALS=5 by default)
 */
import { ChronycClient } from '../../hardware/chrony/index.js';
import type { Signal } from '../../supervisor/src/core/signal.js';
import { TimeMonitor } from '../../supervisor/src/monitors/timeMonitor.js';
import { CHRONYC, CHRONYD, startChronyd } from '../helpers/chronyd.js';
import { startNtpServer } from '../helpers/ntpServer.js';
import { percentiles, waitFor } from '../helpers/util.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

const TRIALS = Number(process.env.TRIALS ?? 5);
const THRESHOLDS = { warnS: 0.5, failS: 1.0, clearHoldS: 60, maxSourceLossS: 120, holdoverDriftPpm: 50, startupGraceS: 60 };
const POLL_MS = 1000;
const KEYS = ['time.offset', 'time.errorBound', 'time.leap', 'time.source', 'time.refAge'];

interface Seen {
  key: string;
  status: string;
  mono: number;
}

async function main(): Promise<void> {
  const server = await startNtpServer();
  const chronyd = await startChronyd({ serverPort: server.port });
  const client = new ChronycClient({ chronycPath: CHRONYC, host: chronyd.socketPath });
  const seen: Seen[] = [];
  const monitor = new TimeMonitor({ source: client, thresholds: THRESHOLDS, pollMs: POLL_MS });
  const latest = new Map<string, string>();
  await monitor.start((s: Signal) => {
    seen.push({ key: s.key, status: s.status, mono: performance.now() });
    latest.set(s.key, s.status);
  });
  const allOk = () => KEYS.every((k) => latest.get(k) === 'ok');
  let restarted: ReturnType<typeof spawn> | null = null;
  try {
    await waitFor(allOk, { timeoutMs: 120_000, intervalMs: 50, what: 'every time signal ok' });
    await waitFor(async () => (await client.tracking()).skewPpm < 1000, { timeoutMs: 60_000, intervalMs: 250, what: 'chronyd settled' });

    const latencies: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      await waitFor(allOk, { timeoutMs: 60_000, intervalMs: 20, what: 'every time signal ok before the trial' });
      await new Promise((r) => setTimeout(r, Math.random() * POLL_MS)); // random phase against the poll
      const at = server.setUnsynchronised(true);
      const fail = await waitFor(() => seen.find((s) => s.mono >= at && s.key === 'time.source' && s.status === 'fail'), {
        timeoutMs: 30_000,
        intervalMs: 5,
        what: 'time.source fail',
      });
      latencies.push((fail.mono - at) / 1000);
      server.setUnsynchronised(false);
    }
    const q = percentiles(latencies);
    for (const [stat, value] of [
      ['median', q.median],
      ['p95', q.p95],
    ] as const) {
      console.log(
        JSON.stringify({
          name: `time.unsync_upstream_to_fail.poll${POLL_MS}ms.${stat}`,
          value: Number(value.toFixed(2)),
          unit: 's',
          goal: 10,
          better: 'lower',
          trials: latencies.length,
          peer: { name: 'lost-source rule alone (maxSourceLossS)', value: THRESHOLDS.maxSourceLossS },
        }),
      );
    }

    // chronyd restart with a good clock: time in fail.
    await waitFor(allOk, { timeoutMs: 60_000, intervalMs: 20, what: 'every time signal ok before the restart' });
    const at = performance.now();
    await chronyd.kill();
    await new Promise((r) => setTimeout(r, 3000));
    restarted = spawn(CHRONYD, ['-x', '-d', '-f', chronyd.confPath], { stdio: 'ignore' });
    await waitFor(() => seen.some((s) => s.mono >= at && s.status !== 'ok') && allOk(), {
      timeoutMs: 120_000,
      intervalMs: 20,
      what: 'every time signal ok after the restart',
    });
    const end = performance.now();
    // Seconds during which at least one time signal was `fail`.
    let failMs = 0;
    const status = new Map<string, string>();
    let prev = at;
    for (const s of seen.filter((x) => x.mono >= at)) {
      if ([...status.values()].includes('fail')) failMs += s.mono - prev;
      status.set(s.key, s.status);
      prev = s.mono;
    }
    if ([...status.values()].includes('fail')) failMs += end - prev;
    console.log(
      JSON.stringify({
        name: 'time.chronyd_restart.fail_s',
        value: Number((failMs / 1000).toFixed(2)),
        unit: 's',
        goal: 0,
        better: 'lower',
        stoppedS: 3,
        backToOkS: Number(((end - at) / 1000).toFixed(2)),
      }),
    );
  } finally {
    await monitor.stop();
    if (restarted && restarted.exitCode === null) {
      const exited = once(restarted, 'exit');
      restarted.kill('SIGTERM');
      await exited;
    }
    await chronyd.stop();
    await server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
