/**
 * EventLoopMonitor (monitors/eventLoopMonitor.ts): reports `system.eventLoop`; a loop
 * blocked by a synchronous busy-wait makes the next report warn or fail — with a short
 * window, and with the production defaults (a 5 s window, where one stall is a single
 * sample among hundreds and a plain p99 used to read a multi-second freeze as ok).
 */
import t, { type Test } from 'tap';
import { systemSchema } from '../../../supervisor/src/config/system.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { EventLoopMonitor, type EventLoopThresholds } from '../../../supervisor/src/monitors/eventLoopMonitor.js';
import type { Clock } from '../../../supervisor/src/monitors/monitor.js';
import { waitFor } from '../../helpers/util.js';

const clock: Clock = { now: () => 1_700_000_000_000, monotonic: () => performance.now() };

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // blocking the loop on purpose
  }
}

async function blockedReport(t: Test, cfg: EventLoopThresholds, blockMs: number): Promise<Signal> {
  const got: Signal[] = [];
  const m = new EventLoopMonitor(cfg, clock);
  await m.start((s) => got.push(s));
  t.teardown(() => m.stop());
  // One report first, so the blocked one is a fresh window.
  await waitFor(() => got.length >= 1, { timeoutMs: cfg.reportMs * 10, what: 'a first report' });
  const first = got[0] as Signal;
  t.equal(first.key, 'system.eventLoop');
  t.equal(first.subsystem, 'system');
  t.equal(first.unit, 'ms');
  t.equal(first.ttlMs, cfg.reportMs * 3);
  t.equal(first.observedAt, clock.now(), 'observedAt from the injected clock');
  const n = got.length;
  // Not in the same loop turn as the report: the histogram drops the first sample after
  // each reset, so a stall that starts right at a report boundary is not seen (a known
  // limit of perf_hooks' IntervalHistogram; see the report of this suite).
  await new Promise((r) => setTimeout(r, 50));
  busyWait(blockMs);
  await waitFor(() => got.length > n, { timeoutMs: cfg.reportMs * 10, what: 'the report after the block' });
  await m.stop();
  return got[n] as Signal;
}

t.test('a blocked loop: the next report is warn or fail (short window)', async (t) => {
  const s = await blockedReport(t, { reportMs: 500, warnMs: 100, failMs: 5000 }, 300);
  t.ok(s.status === 'warn' || s.status === 'fail', `status ${s.status} (${s.detail})`);
  t.ok(typeof s.value === 'number' && s.value >= 100, `value ${s.value} ms ≥ warnMs`);
  t.match(s.detail, /event loop delay p99 \d+ ms, max \d+ ms/);
});

t.test('a blocked loop with the production defaults (5 s window): warn or fail, not ok', async (t) => {
  const cfg = systemSchema.parse({}).eventLoop;
  t.same(cfg, { reportMs: 5000, warnMs: 250, failMs: 2000 }, 'the defaults this test is about');
  const s = await blockedReport(t, cfg, 1000);
  t.ok(s.status === 'warn' || s.status === 'fail', `a 1 s freeze is visible: status ${s.status}, value ${s.value} ms`);
  t.ok(typeof s.value === 'number' && s.value >= cfg.warnMs);
});

t.test('stop ends the reports', async (t) => {
  const got: Signal[] = [];
  const m = new EventLoopMonitor({ reportMs: 500, warnMs: 100, failMs: 5000 }, clock);
  await m.start((s) => got.push(s));
  await waitFor(() => got.length >= 1, { timeoutMs: 10_000, what: 'a report' });
  await m.stop();
  const n = got.length;
  await new Promise((r) => setTimeout(r, 1200));
  t.equal(got.length, n, 'no report after stop');
});
