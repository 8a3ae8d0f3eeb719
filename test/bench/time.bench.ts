/**
 * Bench (issue #4, show 3): time from the upstream's shift (test NTP server
 * 0 → +2 s) to `time.errorBound` failing, through a real chronyd (-x) and the
 * TimeMonitor at its default poll (1 s) and at 250 ms, side by side on the
 * same chronyd. Peer: chronyd's own alarm — its "System clock wrong by … seconds"
 * log line (logchange, default 1 s), the only warning a stock install gives.
 *
 *   npx tsx test/bench/time.bench.ts        (TRIALS=10 by default)
 */
import { ChronycClient } from '../../hardware/chrony/index.js';
import type { Signal } from '../../supervisor/src/core/signal.js';
import { TimeMonitor } from '../../supervisor/src/monitors/timeMonitor.js';
import { CHRONYC, startChronyd } from '../helpers/chronyd.js';
import { startNtpServer } from '../helpers/ntpServer.js';
import { percentiles, waitFor } from '../helpers/util.js';

const TRIALS = Number(process.env.TRIALS ?? 10);
const THRESHOLDS = { warnS: 0.5, failS: 1.0, clearHoldS: 2, maxSourceLossS: 600 };
const POLLS = [1000, 250] as const;

interface Watch {
  pollMs: number;
  monitor: TimeMonitor;
  events: Array<{ status: string; mono: number }>;
  latencies: number[];
}

async function main(): Promise<void> {
  const server = await startNtpServer();
  const chronyd = await startChronyd({ serverPort: server.port });
  const watches: Watch[] = [];
  try {
    for (const pollMs of POLLS) {
      const events: Watch['events'] = [];
      const monitor = new TimeMonitor({
        source: new ChronycClient({ chronycPath: CHRONYC, host: chronyd.socketPath }),
        thresholds: THRESHOLDS,
        pollMs,
      });
      await monitor.start((s: Signal) => {
        if (s.key === 'time.errorBound') events.push({ status: s.status, mono: performance.now() });
      });
      watches.push({ pollMs, monitor, events, latencies: [] });
    }
    const peer: number[] = [];
    const allOk = () => watches.every((w) => w.events.at(-1)?.status === 'ok');

    for (let i = 0; i < TRIALS; i++) {
      await waitFor(allOk, { timeoutMs: 30_000, intervalMs: 20, what: 'every monitor ok before the shift' });
      // Random phase against the monitors' polls: without it the shift would always land
      // right after the poll that turned the last monitor ok, and bias the figure.
      await new Promise((r) => setTimeout(r, Math.random() * Math.max(...POLLS)));
      const logMark = chronyd.log().length;
      const at = server.setOffset(2.0);
      let peerAt = Number.NaN;
      await waitFor(
        () => {
          if (Number.isNaN(peerAt) && /System clock wrong by/.test(chronyd.log().slice(logMark))) peerAt = performance.now();
          return !Number.isNaN(peerAt) && watches.every((w) => w.events.some((e) => e.mono >= at && e.status === 'fail'));
        },
        { timeoutMs: 20_000, intervalMs: 5, what: 'every monitor to fail and chronyd to log the offset' },
      );
      for (const w of watches) {
        const fail = w.events.find((e) => e.mono >= at && e.status === 'fail');
        if (fail) w.latencies.push(fail.mono - at);
      }
      peer.push(peerAt - at);
      server.setOffset(0);
    }

    const p = percentiles(peer);
    for (const w of watches) {
      const q = percentiles(w.latencies);
      for (const [stat, value, peerValue] of [
        ['median', q.median, p.median],
        ['p95', q.p95, p.p95],
      ] as const) {
        console.log(
          JSON.stringify({
            name: `time.shift_to_fail.poll${w.pollMs}ms.${stat}`,
            value: Number(value.toFixed(1)),
            unit: 'ms',
            // Goal: chronyd's own notice plus one poll of the monitor.
            goal: w.pollMs + 1000,
            better: 'lower',
            trials: w.latencies.length,
            peer: {
              name: "chronyd 'System clock wrong by' log line (logchange 1 s)",
              value: Number(peerValue.toFixed(1)),
              ratio: Number((value / peerValue).toFixed(2)),
            },
          }),
        );
      }
    }
  } finally {
    for (const w of watches) await w.monitor.stop();
    await chronyd.stop();
    await server.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
