/**
 * The upstream heartbeat against a real HTTP server on loopback: timing,
 * no overlap with a slow server, failure counting, recovery, stop.
 */
import t from 'tap';
import { UpstreamHeartbeatSchema } from '../../../supervisor/src/config/upstream.js';
import type { RouteTarget } from '../../../supervisor/src/reconcilers/actuator.js';
import { type BeatResult, Heartbeat } from '../../../supervisor/src/reconcilers/upstream/heartbeat.js';
import { heartbeatSignal } from '../../../supervisor/src/reconcilers/upstream/heartbeatSignal.js';
import { waitFor } from '../../helpers/util.js';
import { type Recorded, startRecorder } from './fixtures/upstreamServer.js';

const BODY = '{"box":"{{box}}","route":"{{route}}","seq":{{seq}},"at":"{{at}}"}';

/** Resolves once the server has received `n` requests for `path` in total. */
function nthRequest(srv: { requests: Recorded[]; onRequest(fn: (r: Recorded) => void): void }, path: string, n: number) {
  return new Promise<void>((resolve) => {
    const check = () => {
      if (srv.requests.filter((r) => r.path === path).length >= n) resolve();
    };
    srv.onRequest(check);
    check();
  });
}

t.test('beats at the interval, drift-free even when each answer takes a while', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  // Each answer takes 100 ms: a "sleep after each beat" loop would drift to a 350 ms period.
  srv.answer = () => ({ status: 200, delayMs: 100 });
  let route: RouteTarget | 'unknown' = 'local';
  const cfg = UpstreamHeartbeatSchema.parse({ url: `${srv.url}/hb`, bodyTemplate: BODY, intervalS: 0.25 });
  t.equal(UpstreamHeartbeatSchema.parse({ url: srv.url }).intervalS, 10, 'default interval is 10 s');
  const hb = new Heartbeat(cfg, { box: 'lv-1', route: () => route });
  t.teardown(() => hb.stop());

  const n = 9;
  const started = performance.now();
  hb.start();
  t.equal(hb.status().seq, 1, 'the first beat goes out at start (sent by start() itself, not after an interval)');
  hb.start(); // idempotent: must not start a second schedule
  await nthRequest(srv, '/hb', 4);
  route = 'backup';
  await waitFor(() => hb.status().okCount >= n, { timeoutMs: 30_000, what: `${n} answered beats` });
  await hb.stop();

  const hbs = srv.requests.filter((r) => r.path === '/hb');
  // Beat k (k = 0, 1, …) is due at start + k·250 ms at the earliest: never early, never a
  // burst. (How late a busy machine makes it is not this test's business: no upper bound.)
  const offsets = hbs.map((r, k) => r.at - started - k * 250);
  t.ok(
    offsets.every((o) => o >= -2),
    `no beat before its slot (offsets from start + k·250 ms: ${offsets.map((o) => o.toFixed(0)).join(',')})`,
  );
  // Drift: a loop that sleeps an interval after each answer sends the next beat at least
  // 100 (answer) + 250 (interval) ms after the previous one, every time. The schedule sends it
  // 250 ms after the previous *slot*, so consecutive gaps are 250 ms ± the change in timer lag:
  // only a drifting loop can fail to produce a single gap under 340 ms.
  const gaps = hbs.slice(1).map((r, i) => r.at - (hbs[i]?.at ?? 0));
  t.ok(
    gaps.some((g) => g < 340),
    `beats keep to the slots, not to "answer + interval" (gaps ${gaps.map((g) => g.toFixed(0)).join(',')} ms; a drifting loop: all ≥ 350)`,
  );

  const bodies = hbs.map((r) => JSON.parse(r.body) as { box: string; route: string; seq: number; at: string });
  t.same(
    bodies.map((b) => b.seq),
    bodies.map((_b, i) => i + 1),
    'seq counts 1, 2, 3, … with no gaps',
  );
  t.equal(bodies[0]?.box, 'lv-1');
  t.equal(bodies[0]?.route, 'local');
  t.equal(bodies.at(-1)?.route, 'backup', '{{route}} follows the route in force');
  t.ok(!Number.isNaN(Date.parse(bodies[0]?.at ?? '')), '{{at}} is an ISO time');
  const st = hb.status();
  t.equal(st.running, false);
  t.ok(st.okCount === hbs.length || st.okCount === hbs.length - 1, 'every beat answered (but one aborted by stop)');
  t.equal(st.failCount, 0);
  t.equal(st.consecutiveFailures, 0);
  t.equal(srv.maxConcurrent, 1, 'never two beats at once');
});

t.test('a slow upstream never gets overlapping beats; late ticks are skipped and counted', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  srv.answer = () => ({ status: 200, delayMs: 700 });
  const cfg = UpstreamHeartbeatSchema.parse({ url: `${srv.url}/hb`, bodyTemplate: BODY, intervalS: 0.2, timeoutMs: 3000 });
  const hb = new Heartbeat(cfg, { box: 'b', route: () => 'local' });
  t.teardown(() => hb.stop());
  hb.start();
  await nthRequest(srv, '/hb', 4);
  await hb.stop();

  t.equal(srv.maxConcurrent, 1, 'at most one heartbeat request open at any time');
  const ats = srv.requests.map((r) => r.at);
  const gaps = ats.slice(1).map((a, i) => a - (ats[i] ?? 0));
  t.ok(
    gaps.every((g) => g >= 680),
    `each beat starts only after the previous one was answered (gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms ≥ 700 ms answer time)`,
  );
  // Loose sanity bound (10 intervals): only a loop that stopped taking its ticks would break it.
  t.ok(
    gaps.every((g) => g < 700 + 10 * 200),
    `and at a tick soon after that (gaps < 700 ms + 10 intervals)`,
  );
  const st = hb.status();
  t.ok(st.skippedTicks >= 6, `ticks that found a beat in flight were skipped (${st.skippedTicks})`);
  t.equal(st.failCount, 0, 'slow is not failed while within timeoutMs');
});

t.test('failures are counted while the upstream errs or is down, and clear when it returns', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  const cfg = UpstreamHeartbeatSchema.parse({ url: `${srv.url}/hb`, intervalS: 0.15, timeoutMs: 1000, method: 'GET' });
  const hb = new Heartbeat(cfg, { box: 'b', route: () => 'local' });
  t.teardown(() => hb.stop());
  const results: BeatResult[] = [];
  hb.onBeat((r) => results.push(r));
  hb.onBeat(() => {
    throw new Error('a broken listener');
  });

  hb.start();
  await waitFor(() => hb.status().okCount >= 2, { timeoutMs: 30_000, what: 'two good beats' });
  t.equal(heartbeatSignal(hb.status(), Date.now()).status, 'ok', 'signal ok while beats are answered');
  t.equal(srv.requests[0]?.method, 'GET');

  // The upstream answers 500.
  srv.answer = () => ({ status: 500, body: 'internal error' });
  await waitFor(() => hb.status().consecutiveFailures >= 1, { timeoutMs: 30_000, what: 'a failed beat' });
  t.match(hb.status().lastError, /HTTP 500 \(expected 2xx\).*internal error/);
  t.equal(heartbeatSignal(hb.status(), Date.now()).status, 'warn', 'one failure is a warning');
  t.equal(results.find((r) => !r.ok)?.httpStatus, 500, 'the beat result carries the HTTP status');

  // The upstream goes away entirely.
  await srv.stop();
  const lastOkBefore = hb.status().lastOkAt;
  const down = await waitFor(() => (hb.status().consecutiveFailures >= 4 ? hb.status() : undefined), {
    timeoutMs: 30_000,
    what: 'four failures in a row',
  });
  t.match(down.lastError, /refused the connection/);
  t.ok(down.running, 'keeps beating while the upstream is down');
  const sig = heartbeatSignal(down, Date.now());
  t.equal(sig.status, 'fail');
  t.equal(sig.key, 'telephony.upstream.heartbeat');
  t.match(sig.detail, /heartbeats in a row failed — the upstream may treat this box as dead/);

  // It comes back.
  srv.answer = () => ({ status: 200 });
  await srv.restart();
  const back = await waitFor(() => (hb.status().consecutiveFailures === 0 ? hb.status() : undefined), {
    timeoutMs: 30_000,
    what: 'recovery after the upstream returns',
  });
  t.ok((back.lastOkAt ?? 0) > (lastOkBefore ?? 0), 'lastOkAt moves on');
  t.equal(back.lastError, null);
  t.ok(back.failCount >= down.consecutiveFailures, `failures stay counted in total (${back.failCount})`);
  t.equal(heartbeatSignal(back, Date.now()).status, 'ok');
  t.ok(results.length >= back.okCount + back.failCount - 1, 'listeners keep being called despite one that throws');
});

t.test('stop() stops the beats; a beat in flight is aborted, not counted as a failure', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  const mk = (path: string) =>
    new Heartbeat(UpstreamHeartbeatSchema.parse({ url: `${srv.url}${path}`, intervalS: 0.15, timeoutMs: 5000 }), {
      box: 'b',
      route: () => 'local',
    });
  const stopped = mk('/a');
  const control = mk('/b');
  t.teardown(() => stopped.stop());
  t.teardown(() => control.stop());
  stopped.start();
  control.start();
  await nthRequest(srv, '/a', 2);
  await stopped.stop();
  const count = () => srv.requests.filter((r) => r.path === '/a').length;
  const atStop = count();
  const controlAtStop = srv.requests.filter((r) => r.path === '/b').length;
  // Let the control heartbeat (same interval) send 4 more beats: ~4 intervals of silence for /a.
  await nthRequest(srv, '/b', controlAtStop + 4);
  t.equal(count(), atStop, 'no beat after stop()');
  t.equal(stopped.status().running, false);
  t.equal(heartbeatSignal(stopped.status(), Date.now()).status, 'unknown', 'a stopped heartbeat is unknown, not ok');
  await control.stop();

  // A beat in flight when stop() is called.
  srv.answer = () => ({ status: 200, delayMs: 4000 });
  const slow = mk('/c');
  t.teardown(() => slow.stop());
  slow.start();
  await nthRequest(srv, '/c', 1);
  await slow.stop();
  const st = slow.status();
  // Had stop() waited for the 4 s answer instead of aborting, that beat would be answered (ok).
  t.equal(st.okCount, 0, 'stop() aborted the beat in flight rather than waiting for its answer');
  t.equal(st.inFlight, false);
  t.equal(st.failCount, 0, 'the aborted beat is not a failure');
  t.equal(st.consecutiveFailures, 0);

  // And it can be started again, continuing the sequence.
  srv.answer = () => ({ status: 200 });
  slow.start();
  await waitFor(() => slow.status().okCount >= 1, { timeoutMs: 30_000, what: 'a beat after restart' });
  t.equal(slow.status().seq >= 2, true, 'seq continues across stop/start');
  await slow.stop();
});

t.test('a beat that times out is a failure naming the timeout', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  srv.answer = () => ({ status: 200, delayMs: 3000 });
  const cfg = UpstreamHeartbeatSchema.parse({ url: `${srv.url}/hb`, intervalS: 0.2, timeoutMs: 250 });
  const hb = new Heartbeat(cfg, { box: 'b', route: () => 'local' });
  t.teardown(() => hb.stop());
  hb.start();
  const st = await waitFor(() => (hb.status().consecutiveFailures >= 2 ? hb.status() : undefined), {
    timeoutMs: 30_000,
    what: 'two timed-out beats',
  });
  t.match(st.lastError, /no complete answer within 250 ms \(timeoutMs\)/);
  t.ok(
    (st.lastLatencyMs ?? 0) >= 240 && (st.lastLatencyMs ?? 0) < 2500,
    `gave up at the 250 ms timeout (${st.lastLatencyMs?.toFixed(0)} ms; < 10× as a sanity bound)`,
  );
});
