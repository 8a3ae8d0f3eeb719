/**
 * SignalTable.apply(signal, receivedAt): expiry and changedAt run on receivedAt (the
 * supervisor's steady time), not on the monitor's wall-clock observedAt; without
 * receivedAt (replay) the table uses observedAt.
 */
import t from 'tap';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { SignalTable } from '../../../supervisor/src/core/signalTable.js';

const WALL = 1_700_000_000_000;
const sig = (over: Partial<Signal> = {}): Signal => ({
  subsystem: 'power',
  source: 'test',
  key: 'power.ups1.mains',
  status: 'ok',
  value: 'line',
  observedAt: WALL,
  ttlMs: 1000,
  ...over,
});

t.test('expiry uses receivedAt, not observedAt', async (t) => {
  const table = new SignalTable();
  // The monitor's wall clock says an hour ahead (a clock step); steady time says 50.
  table.apply(sig({ observedAt: WALL + 3_600_000 }), 50);
  const tracked = table.get('power.ups1.mains');
  t.equal(tracked?.receivedAt, 50);
  t.equal(tracked?.observedAt, WALL + 3_600_000, 'observedAt is kept for records');
  t.equal(table.effective(1050)[0]?.stale, false, 'still fresh at receivedAt + ttl');
  t.equal(table.effective(1050)[0]?.status, 'ok');
  const late = table.effective(1051)[0];
  t.equal(late?.stale, true, 'stale just past receivedAt + ttl');
  t.equal(late?.status, 'unknown');
  t.match(late?.detail, /no update for 1 s \(ttl 1 s\)/);

  // An observedAt an hour in the past (clock stepped back) does not expire a live signal.
  const t2 = new SignalTable();
  t2.apply(sig({ observedAt: WALL - 3_600_000 }), 10_000);
  t.equal(t2.effective(10_500)[0]?.stale, false);
  t.same(t2.staleTransitions(10_500, 11_001), ['power.ups1.mains'], 'staleTransitions on receivedAt too');
  t.same(t2.staleTransitions(10_000, 10_999), []);
});

t.test('changedAt is the receivedAt of the change; a repeat keeps it and refreshes receivedAt', async (t) => {
  const table = new SignalTable();
  t.equal(table.apply(sig({ value: 'line', observedAt: WALL }), 100), true, 'first sight is a change');
  t.equal(table.get('power.ups1.mains')?.changedAt, 100);
  t.equal(table.apply(sig({ value: 'battery', status: 'warn', observedAt: WALL + 999_999 }), 200), true);
  t.equal(table.get('power.ups1.mains')?.changedAt, 200, 'changedAt = receivedAt, not observedAt');
  t.equal(table.apply(sig({ value: 'battery', status: 'warn', observedAt: WALL - 999_999 }), 900), false, 'a repeat is no change');
  const s = table.get('power.ups1.mains');
  t.equal(s?.changedAt, 200, 'changedAt kept');
  t.equal(s?.receivedAt, 900, 'receivedAt refreshed');
  t.equal(table.effective(1800)[0]?.stale, false, 'fresh from the repeat');
  t.equal(table.apply(sig({ value: 'battery', status: 'fail', observedAt: WALL }), 1000), true, 'a status change alone is a change');
  t.equal(table.get('power.ups1.mains')?.changedAt, 1000);
});

t.test('without receivedAt (replay), observedAt is the time base', async (t) => {
  const table = new SignalTable();
  table.apply(sig({ observedAt: WALL }));
  const s = table.get('power.ups1.mains');
  t.equal(s?.receivedAt, WALL);
  t.equal(s?.changedAt, WALL);
  t.equal(table.effective(WALL + 1000)[0]?.stale, false);
  t.equal(table.effective(WALL + 1001)[0]?.stale, true);
  table.apply(sig({ observedAt: WALL + 500 }));
  t.equal(table.get('power.ups1.mains')?.changedAt, WALL, 'unchanged value keeps changedAt');
  t.equal(table.get('power.ups1.mains')?.receivedAt, WALL + 500);
});
