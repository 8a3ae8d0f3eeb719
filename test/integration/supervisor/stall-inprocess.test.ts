/**
 * Issue 16 #3, in process with a hand-driven clock: a gap between two decision ticks
 * longer than max(5 × tickMs, 2 s) is recorded as `supervisor.stalled` (warn, with the
 * gap), before anything else is evaluated after it; a signal from before the gap is
 * judged stale on that first evaluation — never published as a fresh ok. The real
 * process under SIGSTOP: stall.test.ts.
 */
import t from 'tap';
import { defaultHealthRules } from '../../../supervisor/src/core/health.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import type { Clock, Monitor, SignalSink } from '../../../supervisor/src/monitors/monitor.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { Store } from '../../../supervisor/src/store/store.js';
import { type LiveMessage, Supervisor } from '../../../supervisor/src/supervisor.js';
import { waitFor } from '../../helpers/util.js';

class HandMonitor implements Monitor {
  readonly name = 'hand';
  emit: SignalSink | null = null;
  async start(emit: SignalSink) {
    this.emit = emit;
  }
  async stop() {
    this.emit = null;
  }
}

/** Real time plus a jump the test adds: what a SIGSTOP looks like from inside. */
function jumpClock() {
  let jump = 0;
  const clock: Clock = { now: () => Date.now() + jump, monotonic: () => performance.now() + jump };
  return { clock, freeze: (ms: number) => (jump += ms) };
}

async function setup(t: { teardown(fn: () => unknown): void }, tickMs: number) {
  const store = new Store(openDb(':memory:'));
  const { clock, freeze } = jumpClock();
  const monitor = new HandMonitor();
  const sup = new Supervisor({
    box: 'stall-box',
    store,
    clock,
    log: silentLogger(),
    monitors: [monitor],
    reconcilers: [],
    policy: { monitored: ['power'], failoverOn: ['power'], failbackHoldMs: 60_000, holdDownMs: 0 },
    rules: defaultHealthRules,
    tickMs,
  });
  const live: LiveMessage[] = [];
  sup.on('live', (m) => live.push(m));
  await sup.start();
  t.teardown(async () => {
    await sup.stop();
    store.close();
  });
  const signal = (status: Signal['status'], ttlMs: number): Signal => ({
    subsystem: 'power',
    source: 'ups1',
    key: 'power.ups1.status',
    status,
    value: 'OL',
    observedAt: clock.now(),
    ttlMs,
  });
  return { sup, live, monitor, freeze, signal, store };
}

const events = (live: LiveMessage[], kind: string) => live.flatMap((m) => (m.type === 'event' && m.event.kind === kind ? [m.event] : []));

t.test('a 62 s freeze is recorded with its gap, first; the signal from before it is stale, not ok', async (t) => {
  const { sup, live, monitor, freeze, signal } = await setup(t, 100);
  monitor.emit?.(signal('ok', 5000));
  await waitFor(() => sup.snapshot().health.power.status === 'ok', { timeoutMs: 10_000, what: 'power ok' });
  t.equal(events(live, 'supervisor.stalled').length, 0, 'no stall while ticking normally');

  const i0 = live.length;
  freeze(62_000);
  const ev = await waitFor(() => events(live.slice(i0), 'supervisor.stalled')[0], { timeoutMs: 10_000, what: 'supervisor.stalled' });
  t.equal(ev.severity, 'warn');
  t.equal(ev.subsystem, 'system');
  t.match(ev.en, /^Vaktpost was not running for 62\.\d s/);
  t.match(ev.nb, /^Vaktpost kjørte ikke på 62\.\d s/);
  const data = ev.data as { gapMs: number; limitMs: number; tickMs: number; from: number; to: number };
  t.ok(data.gapMs >= 62_000 && data.gapMs < 62_000 + 30_000, `gap in data: ${data.gapMs} ms`);
  t.equal(data.limitMs, 2000, 'limit = max(5 × 100 ms, 2 s)');
  t.ok(data.to - data.from >= 62_000, 'from/to wall times span the gap');

  const after = live.slice(i0);
  const stalledAt = after.findIndex((m) => m.type === 'event' && m.event.kind === 'supervisor.stalled');
  const firstPower = after.findIndex((m) => m.type === 'signal' && m.signal.key === 'power.ups1.status');
  t.ok(firstPower > stalledAt, 'the stall is on record before anything evaluated after it');
  const pub = after[firstPower];
  t.equal(pub?.type === 'signal' && pub.signal.stale, true, 'the first publication of the pre-gap signal says stale');
  t.notOk(
    after.some((m) => m.type === 'signal' && m.signal.key === 'power.ups1.status' && m.signal.status === 'ok' && !m.signal.stale),
    'never published as a fresh ok after the gap',
  );
  t.not(sup.snapshot().health.power.status, 'ok', `power is not ok on data from before the gap (${sup.snapshot().health.power.status})`);
  t.equal(events(after, 'supervisor.stalled').length, 1, 'one event per gap');

  // Ticking normally again: no more stall events.
  await new Promise((r) => setTimeout(r, 500));
  t.equal(events(live.slice(i0), 'supervisor.stalled').length, 1, 'no further stall events');
});

t.test('gaps under the limit are not stalls; the limit is 5 × tickMs when that exceeds 2 s', async (t) => {
  const { live, freeze } = await setup(t, 1000);
  await new Promise((r) => setTimeout(r, 50));
  freeze(2500); // + the 1 s tick = 3.5 s < 5 × 1000 ms: one slow tick, not a stall
  await new Promise((r) => setTimeout(r, 2200));
  t.equal(events(live, 'supervisor.stalled').length, 0, '~3.5 s gap with tickMs 1000: no event');
  freeze(6000);
  const ev = await waitFor(() => events(live, 'supervisor.stalled')[0], { timeoutMs: 10_000, what: 'supervisor.stalled' });
  t.equal((ev.data as { limitMs: number }).limitMs, 5000);
});
