/**
 * Calls ringing at a centre that dies → answered at the backup (ms after the
 * kill, p95 over every ringing call). Real Kamailio rendered from Vaktpost's
 * config, SIPp centres (local rings and never answers, then is SIGKILLed) and a
 * SIPp caller; no supervisor: Kamailio's keepalives call the centre down and the
 * ring watch moves the calls (ops/kamailio/README.md). Two settings: keepalives
 * every 1 s with a 1 s no-reply timer (the goal: the 3 s), and the shipped
 * defaults (2 s + 2 s: the keepalives alone need 2–4 s; information only). Before
 * the ring watch a ringing call waited out the 20 s ring-no-answer timer.
 */
import { startCallLab } from '../helpers/kamailio.js';
import { startCaller } from '../helpers/sipp.js';
import { percentiles, waitFor } from '../helpers/util.js';

const TRIALS = Number(process.env.BENCH_RINGING_TRIALS ?? 4);
const CALLS = 5;

async function trial(timers: { keepaliveIntervalS: number; noReplyMs: number } | undefined): Promise<number[]> {
  const teardowns: Array<() => unknown> = [];
  const host = { teardown: (fn: () => unknown) => teardowns.push(fn) };
  try {
    const lab = await startCallLab(host, { local: 'ringNoAnswer', ...(timers ? { timers } : {}) });
    const run = await startCaller(host, { kamailioPort: lab.kam.sipPort, calls: CALLS, rate: 10, holdMs: 100, timeoutS: 40 });
    await waitFor(async () => ((await lab.local.proc.currentStats())?.created ?? 0) >= CALLS, { timeoutMs: 20_000, what: 'the calls ringing at local' });
    // Kill at a random point of the keepalive cycle.
    await new Promise((r) => setTimeout(r, Math.random() * 2000));
    const killAt = Date.now();
    await lab.local.kill();
    const r = await run.done;
    return [...r.calls.values()].map((c) => (c.answeredBy === 'backup' && c.answeredAt ? c.answeredAt - killAt : Number.POSITIVE_INFINITY));
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}

for (const [name, timers, goal] of [
  ['calls.ringing_at_dying_centre_to_backup.keepalive_1s.p95', { keepaliveIntervalS: 1, noReplyMs: 1000 }, 3000],
  ['calls.ringing_at_dying_centre_to_backup.defaults.p95', undefined, undefined],
] as const) {
  const all: number[] = [];
  for (let i = 0; i < TRIALS; i++) all.push(...(await trial(timers)));
  const p = percentiles(all);
  console.log(
    JSON.stringify({
      name,
      value: Math.round(p.p95),
      unit: 'ms',
      ...(goal !== undefined ? { goal, better: 'lower' } : {}),
      median: Math.round(p.median),
      n: all.length,
      peer: { name: 'before the ring watch: fr_inv_timer (ring-no-answer)', expected_ms: 20_000 },
    }),
  );
}
