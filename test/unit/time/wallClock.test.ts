/**
 * Wall-clock step detection. The system clock of this machine must not be
 * touched by tests (and Linux time namespaces cannot shift CLOCK_REALTIME),
 * so the step is made on an injected clock; the comparison logic is the same.
 */
import t from 'tap';
import { waitFor } from '../../helpers/util.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import type { Clock } from '../../../supervisor/src/monitors/monitor.js';
import { type WallClockStep, WallClockMonitor } from '../../../supervisor/src/monitors/timeWallClock.js';

function fakeClock() {
  let wall = 1_795_310_000_000;
  let mono = 1000;
  const clock: Clock = { now: () => wall, monotonic: () => mono };
  return {
    clock,
    tick(ms: number) {
      wall += ms;
      mono += ms;
    },
    step(ms: number) {
      wall += ms;
    },
  };
}

t.test('a step of the wall clock is reported once, warn for a while, then ok', async (t) => {
  const fc = fakeClock();
  const steps: WallClockStep[] = [];
  const signals: Signal[] = [];
  const m = new WallClockMonitor({ clock: fc.clock, checkMs: 60_000, thresholdS: 0.1, warnForS: 10, onStep: (s) => steps.push(s) });
  await m.start((s) => signals.push(s));
  t.teardown(() => m.stop());
  t.equal(signals.at(-1)?.status, 'ok');

  fc.tick(1000);
  fc.step(50); // below threshold: slewing/noise
  m.check();
  t.equal(steps.length, 0);

  fc.tick(1000);
  fc.step(-2000);
  m.check();
  t.equal(steps.length, 1);
  t.equal(steps[0]?.stepMs, -2000);
  const sig = signals.at(-1);
  t.equal(sig?.key, 'time.wallClockStep');
  t.equal(sig?.status, 'warn');
  t.equal(sig?.value, -2);
  t.match(sig?.detail, /stepped back by 2\.000 s/);

  fc.tick(5000);
  m.check();
  t.equal(steps.length, 1, 'reported once');
  t.equal(signals.at(-1)?.status, 'warn', 'still within warnForS');

  fc.tick(6000);
  m.check();
  t.equal(signals.at(-1)?.status, 'ok');
  t.equal(signals.at(-1)?.value, 0);

  fc.tick(1000);
  fc.step(3_600_000);
  m.check();
  t.equal(steps.at(-1)?.stepMs, 3_600_000, 'forward step of an hour');
  t.equal(signals.at(-1)?.value, 3600);
});

t.test('the real clocks show no step while nothing steps them', async (t) => {
  const steps: WallClockStep[] = [];
  const m = new WallClockMonitor({ checkMs: 20, thresholdS: 0.1, onStep: (s) => steps.push(s) });
  const signals: Signal[] = [];
  await m.start((s) => signals.push(s));
  t.teardown(() => m.stop());
  const busyUntil = performance.now() + 200;
  while (performance.now() < busyUntil) {
    /* a stalled event loop is not a step: both clocks advance together */
  }
  const before = signals.length;
  await waitFor(() => signals.length >= before + 3, { timeoutMs: 30_000, what: 'three more clock checks' });
  await m.stop();
  t.ok(signals.length >= 2, `${signals.length} checks`);
  t.same(steps, []);
});
