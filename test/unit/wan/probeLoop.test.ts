import t from 'tap';
import { type Prober, ProbeLoop, type Round } from '../../../hardware/net/probeLoop.js';
import type { ProbeResult } from '../../../hardware/net/prober.js';
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
  await waitFor(() => got.length >= 4, { timeoutMs: 2000, what: 'four rounds' });
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
  await waitFor(() => sent.length >= 10, { timeoutMs: 3000, what: 'ten rounds' });
  loop.stop();
  const gaps = sent.slice(1).map((s, i) => s - (sent[i] as number));
  t.ok(
    gaps.every((g) => g > 20),
    `no two rounds closer than half an interval (gaps ${gaps.map((g) => g.toFixed(0)).join(', ')})`,
  );
  const mean = ((sent[sent.length - 1] as number) - (sent[0] as number)) / (sent.length - 1);
  t.ok(mean > 35 && mean < 60, `mean interval ${mean.toFixed(1)} ms`);
});
