/**
 * Heartbeat status → `telephony.upstream.heartbeat` signal.
 */
import t from 'tap';
import type { HeartbeatStatus } from '../../../supervisor/src/reconcilers/upstream/heartbeat.js';
import { heartbeatSignal } from '../../../supervisor/src/reconcilers/upstream/heartbeatSignal.js';

const NOW = 1_700_000_000_000;
const base: HeartbeatStatus = {
  running: true,
  intervalMs: 10_000,
  timeoutMs: 5000,
  seq: 12,
  inFlight: false,
  okCount: 12,
  failCount: 0,
  skippedTicks: 0,
  lastAttemptAt: NOW - 2000,
  lastOkAt: NOW - 2000,
  consecutiveFailures: 0,
  lastError: null,
  lastLatencyMs: 31.4,
};

t.test('ok while beats are answered', async (t) => {
  const s = heartbeatSignal(base, NOW);
  t.equal(s.status, 'ok');
  t.equal(s.key, 'telephony.upstream.heartbeat');
  t.equal(s.subsystem, 'telephony');
  t.equal(s.value, 2);
  t.equal(s.unit, 's');
  t.equal(s.ttlMs, 25_000);
  t.match(s.detail, /answered in 31 ms/);
});

t.test('unknown is never healthy: not running, or nothing answered yet', async (t) => {
  t.equal(heartbeatSignal({ ...base, running: false }, NOW).status, 'unknown');
  const fresh = heartbeatSignal({ ...base, seq: 1, okCount: 0, lastOkAt: null, inFlight: true }, NOW);
  t.equal(fresh.status, 'unknown');
  t.equal(fresh.value, null);
});

t.test('failures: warn below failAfter, fail at it', async (t) => {
  const failing = (n: number) => ({ ...base, consecutiveFailures: n, lastError: 'refused' });
  t.equal(heartbeatSignal(failing(1), NOW).status, 'warn');
  t.equal(heartbeatSignal(failing(2), NOW).status, 'warn');
  t.equal(heartbeatSignal(failing(3), NOW).status, 'fail');
  t.match(heartbeatSignal(failing(3), NOW).detail, /3 heartbeats in a row failed .* last error: refused/);
  t.equal(heartbeatSignal(failing(1), NOW, { failAfter: 1 }).status, 'fail');
  t.equal(heartbeatSignal({ ...failing(5), lastOkAt: null }, NOW).status, 'fail', 'never answered and failing');
});

t.test('stale: no answer for longer than two intervals plus a timeout is a failure', async (t) => {
  t.equal(heartbeatSignal({ ...base, lastOkAt: NOW - 24_000 }, NOW).status, 'ok');
  const s = heartbeatSignal({ ...base, lastOkAt: NOW - 26_000, inFlight: true }, NOW);
  t.equal(s.status, 'fail');
  t.match(s.detail, /last heartbeat answered 26 s ago/);
});
