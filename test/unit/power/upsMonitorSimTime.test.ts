/**
 * UpsMonitor's per-UPS loops (PollingLoop) on simulated time, reading the simulated
 * box's UPS (the same reader `box.hardware: simulated` uses): each UPS keeps its own
 * pollMs to the millisecond, a UPS whose driver fails reports `unknown` at the same
 * pace (the fault is a signal, not a stopped loop), and nothing is polled after stop.
 * No real waiting: a minute of polling runs on test/helpers/simClock.ts.
 */
import t from 'tap';
import { SimBox, defaultSimState } from '../../../hardware/sim/simBox.js';
import { SimUpsReader } from '../../../hardware/sim/simUps.js';
import { UpsConfigSchema } from '../../../supervisor/src/config/power.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { UpsMonitor } from '../../../supervisor/src/monitors/upsMonitor.js';
import { assertStopsQuietly, SimClock } from '../../helpers/simClock.js';

t.test('each UPS is polled at its own pollMs on the injected clock; a driver fault keeps the pace; nothing after stop', async (t) => {
  const clock = new SimClock();
  const box = new SimBox(defaultSimState(['fast', 'slow'], []));
  const m = new UpsMonitor({
    ups: [UpsConfigSchema.parse({ name: 'fast', pollMs: 1000 }), UpsConfigSchema.parse({ name: 'slow', pollMs: 5000 })],
    reader: new SimUpsReader(box),
    clock,
  });
  const got: Signal[] = [];
  await m.start((s) => got.push(s));
  t.teardown(() => m.stop());
  const mains = (ups: string) => got.filter((s) => s.key === `power.${ups}.mains`);

  await clock.advance(60_000);
  t.equal(mains('fast').length, 61, 'fast: at 0 s and every second for a minute');
  t.equal(mains('slow').length, 13, 'slow: at 0 s and every 5 s for a minute');
  t.same(
    mains('slow')
      .slice(0, 3)
      .map((s) => s.observedAt - clock.now() + 60_000),
    [0, 5000, 10_000],
    'observed at the simulated instants',
  );
  t.equal(mains('fast').at(-1)?.status, 'ok');

  box.injectFault('ups-monitoring-fault');
  const before = mains('fast').length;
  await clock.advance(3000);
  const faulted = mains('fast').slice(before);
  t.equal(faulted.length, 3, 'the pace holds while the driver fails');
  t.ok(
    faulted.every((s) => s.status === 'unknown'),
    'unknown with the cause, never ok',
  );

  await assertStopsQuietly(
    t,
    clock,
    () => m.stop(),
    () => got.length,
  );
});
