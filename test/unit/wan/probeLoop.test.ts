import t from 'tap';
import { type Prober, ProbeLoop, type Round } from '../../../hardware/net/probeLoop.js';
import type { ProbeResult } from '../../../hardware/net/prober.js';
import { assertStopsQuietly, SimClock } from '../../helpers/simClock.js';
import { waitFor } from '../../helpers/util.js';

/** A prober whose n-th probe answers after delays[n] ms. */
function fakeProber(delays: number[]): Prober & { calls: number } {
  const p = {
    calls: 0,
    probe(): Promise<ProbeResult> {
      const n = p.calls++;
      const d = delays[n] ?? 1;
      return new Promise((r) => setTimeout(() => r({ answered: true, serviceAnswered: true, rttMs: d, timeoutMs: 250, detail: `#${n}` }), d));
    },
    close() {},
  };
  return p;
}

t.test('rounds are delivered in send order even when a later one finishes first', async (t) => {
  // Round 0 takes 120 ms; rounds 1 and 2 answer at once.
  const prober = fakeProber([120, 1, 1, 1, 1]);
  const got: Round[] = [];
  const loop = new ProbeLoop({ intervalMs: 30, probers: [prober], onRound: (r) => got.push(r) });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => got.length >= 4, { timeoutMs: 30_000, what: 'four rounds' });
  loop.stop();
  t.same(
    got.slice(0, 4).map((r) => r.seq),
    [0, 1, 2, 3],
  );
  t.equal(got[0]?.results[0]?.detail, '#0');
});

t.test('ticks keep to the interval and do not burst', async (t) => {
  const prober = fakeProber([]);
  const sent: number[] = [];
  const loop = new ProbeLoop({ intervalMs: 40, probers: [prober], onRound: (r) => sent.push(r.sentAt) });
  t.teardown(() => loop.stop());
  loop.start();
  await waitFor(() => sent.length >= 10, { timeoutMs: 30_000, what: 'ten rounds' });
  loop.stop();
  const gaps = sent.slice(1).map((s, i) => s - (sent[i] as number));
  t.ok(
    gaps.every((g) => g > 20),
    `no two rounds closer than half an interval (gaps ${gaps.map((g) => g.toFixed(0)).join(', ')})`,
  );
  const mean = ((sent[sent.length - 1] as number) - (sent[0] as number)) / (sent.length - 1);
  // Never faster than the interval; how much slower a busy machine makes it is checked below
  // with a clock the test controls, not with a stopwatch.
  t.ok(mean > 35, `mean interval ${mean.toFixed(1)} ms ≥ the 40 ms interval (no bursts)`);
});

t.test('the schedule is anchored at the start: late timers neither drift nor burst', async (t) => {
  // The loop's own clock and its timers are the test's: each timer fires exactly when the test
  // says, as late as the test says. Tick k must be sent in slot k (or a later slot, skipping the
  // ones a stall swallowed), whatever the lag of the previous ticks.
  let now = 1000;
  const pendingTimers: { fn: () => void; delay: number }[] = [];
  const timers = {
    setTimeout: (fn: () => void, delay: number) => {
      const h = {};
      pendingTimers.push({ fn, delay });
      return h;
    },
    clearTimeout: () => {},
  };
  const prober: Prober = { probe: () => Promise.resolve({ answered: true, serviceAnswered: true, rttMs: 1, timeoutMs: 250, detail: '' }), close() {} };
  const sent: number[] = [];
  const loop = new ProbeLoop({ intervalMs: 100, probers: [prober], onRound: (r) => sent.push(r.sentAt), monotonic: () => now, timers });
  loop.start();
  // Lag of each timer beyond its due time: steady, growing, one long stall (2.5 intervals), early by 1 ms.
  const lags = [7, 7, 7, 20, 40, 60, 250, 0, -1, 3];
  for (const lag of lags) {
    const timer = pendingTimers.shift();
    if (!timer) throw new Error('the loop scheduled no next tick');
    t.equal(pendingTimers.length, 0, 'one timer at a time');
    now += timer.delay + lag;
    timer.fn();
  }
  await new Promise((r) => setImmediate(r)); // let the (resolved) probes deliver their rounds
  loop.stop();
  // A timer may fire a ms or two early: that round still belongs to the slot it was set for.
  const slots = sent.map((s) => Math.floor((s - 1000 + 2) / 100));
  t.same(
    slots,
    [0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 12],
    `each round in its own slot, a stall skips slots instead of bursting (sent at ${sent.map((s) => s - 1000).join(', ')})`,
  );
  const lagInSlot = sent.map((s) => ((s - 1000 + 2) % 100) - 2);
  t.ok(
    lagInSlot.every((l) => l >= -1 && l <= 60),
    `lag never accumulates: each round is at most its own timer's lag into its slot (${lagInSlot.join(', ')})`,
  );
});

t.test('on simulated time: one round per interval, and nothing after stop', async (t) => {
  const clock = new SimClock();
  let probes = 0;
  const prober: Prober = {
    probe: () => {
      probes++;
      return Promise.resolve({ answered: true, serviceAnswered: true, rttMs: 1, timeoutMs: 250, detail: '' });
    },
    close() {},
  };
  const rounds: Round[] = [];
  const loop = new ProbeLoop({ intervalMs: 1000, probers: [prober], onRound: (r) => rounds.push(r), monotonic: () => clock.monotonic(), timers: clock });
  loop.start();
  await clock.advance(3_600_000);
  t.equal(rounds.length, 3601, 'an hour at 1 s: round 0 at the start and one per second after it');
  t.same(
    rounds.slice(0, 4).map((r) => r.sentAt),
    [0, 1000, 2000, 3000],
    'each round sent exactly in its slot',
  );
  await assertStopsQuietly(
    t,
    clock,
    async () => loop.stop(),
    () => probes,
  );
});
