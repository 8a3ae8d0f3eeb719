import t from 'tap';
import { RttEstimator } from '../../../hardware/net/rtt.js';

const params = { floorMs: 250, capMs: 2000, initialMs: 1000, marginMs: 150 };

t.test('initial timeout before any sample', async (t) => {
  t.equal(new RttEstimator(params).timeoutMs(), 1000);
  t.equal(new RttEstimator({ ...params, initialMs: 5000 }).timeoutMs(), 2000, 'capped');
});

t.test('a fast, steady link sits on the floor', async (t) => {
  const e = new RttEstimator(params);
  for (let i = 0; i < 50; i++) e.sample(20);
  t.equal(e.timeoutMs(), 250);
  t.ok(Math.abs((e.srttMs ?? 0) - 20) < 0.01);
});

t.test('a steady 300 ms link gets a timeout above 300 ms (a fixed 200 ms one declared it dead)', async (t) => {
  const e = new RttEstimator(params);
  e.sample(300);
  t.equal(e.timeoutMs(), 300 + 4 * 150, 'first sample: srtt + 4·(R/2)');
  for (let i = 0; i < 200; i++) e.sample(300 + (i % 2 ? 15 : -15));
  const to = e.timeoutMs();
  t.ok(to >= 449 && to < 460, `timeout ${to.toFixed(0)} ms: srtt 300 + the 150 ms margin (4·rttvar is only ~60)`);
  for (let i = 0; i < 200; i++) e.sample(300 + (i % 2 ? 60 : -60));
  t.ok(e.timeoutMs() > 500, `jittery ±60: 4·rttvar (${(4 * e.rttvarMs).toFixed(0)}) takes over from the margin`);
});

t.test('one late answer after a sudden +300 ms step lifts the timeout above the new RTT', async (t) => {
  const e = new RttEstimator(params);
  for (let i = 0; i < 100; i++) e.sample(1);
  t.equal(e.timeoutMs(), 250);
  e.sample(301);
  t.ok(e.timeoutMs() > 301, `timeout ${e.timeoutMs().toFixed(0)} ms after one late sample`);
});

t.test('cap bounds a runaway RTT; bad samples are ignored', async (t) => {
  const e = new RttEstimator(params);
  for (let i = 0; i < 20; i++) e.sample(5000);
  t.equal(e.timeoutMs(), 2000);
  e.sample(Number.NaN);
  e.sample(-1);
  t.equal(e.timeoutMs(), 2000);
});

t.test('inconsistent bounds are refused with the cause', async (t) => {
  t.throws(() => new RttEstimator({ floorMs: 500, capMs: 100, initialMs: 100 }), /floor 500 ms, cap 100 ms/);
});
