/**
 * Acceptance 2: the local centre dies (SIGKILL) during a 20 calls/s run and the
 * supervisor does nothing. Kamailio alone (failure_route + keepalives) must
 * complete every new call at the backup; only calls already connected to the
 * dead centre may drop. Per-call facts come from the caller's SIPp log, totals
 * from SIPp's own statistics.
 */
import t from 'tap';
import { describeCaller, startCaller } from '../../helpers/sipp.js';
import { waitFor } from '../../helpers/util.js';
import { startCallLab } from '../../helpers/kamailio.js';

const RATE = 20;
const CALLS = 100;
const HOLD_MS = 300;

// Each subtest has its own Kamailio and SIPps on their own ports.
t.jobs = 2;

t.test('local centre killed mid-run, no supervisor: every new call completes at the backup', async (t) => {
  // A call that was ringing (180) at local when it died waits for the ring-no-answer
  // timer before moving on: 5 s here instead of 20 s to keep the test short.
  const lab = await startCallLab(t, { timers: { ringNoAnswerMs: 5000 } });
  const run = await startCaller(t, { kamailioPort: lab.kam.sipPort, calls: CALLS, rate: RATE, holdMs: HOLD_MS, timeoutS: 40 });
  await waitFor(async () => ((await run.proc.currentStats())?.successful ?? 0) >= 20, {
    timeoutMs: 30_000,
    what: 'the caller to complete 20 calls at the local centre',
  });
  const killAt = Date.now();
  await lab.local.kill();
  const r = await run.done;
  const calls = [...r.calls.values()];

  t.equal(r.stats?.created, CALLS, `SIPp placed ${CALLS} calls (${describeCaller(r)})`);
  t.equal((r.stats?.successful ?? 0) + (r.stats?.failed ?? 0), CALLS, 'every call ended as success or failure');

  // A call may fail only if it was already connected to the local centre when it died.
  // Answered by local = connected to it before it died (a dead centre answers nothing); no
  // clock comparison, which a busy machine skews.
  const connectedToDead = (c: (typeof calls)[number]) => c.answeredBy === 'local';
  const failed = calls.filter((c) => c.doneAt === undefined);
  const wronglyFailed = failed.filter((c) => !connectedToDead(c));
  t.same(
    wronglyFailed.map((c) => ({ n: c.n, sentAt: c.sentAt, answeredBy: c.answeredBy })),
    [],
    'no call failed except ones already connected to the dead centre',
  );
  t.equal(failed.length, r.stats?.failed, `SIPp's failed count (${r.stats?.failed}) matches the calls that never completed`);
  const maxConnected = Math.ceil((RATE * HOLD_MS) / 1000) + 2;
  t.ok(failed.length <= maxConnected, `${failed.length} dropped calls ≤ ${maxConnected} (20 calls/s × ${HOLD_MS} ms hold)`);

  const afterKill = calls.filter((c) => (c.sentAt ?? 0) > killAt);
  t.ok(afterKill.length >= 40, `${afterKill.length} calls were placed after the kill`);
  const notAtBackup = afterKill.filter((c) => c.answeredBy !== 'backup' || c.doneAt === undefined);
  t.same(
    notAtBackup.map((c) => c.n),
    [],
    'every call placed after the kill completed at the backup',
  );
  t.equal(r.unexpectedCodes[486] ?? 0, 0, 'the caller saw no 486');

  // How long callers waited: the first calls after the kill pay fr_timer (2 s) once,
  // then ds_mark_dst/keepalives take local out of rotation and calls go straight through.
  const waits = afterKill.map((c) => ({ n: c.n, since: (c.sentAt as number) - killAt, wait: (c.answeredAt ?? 0) - (c.sentAt ?? 0) }));
  const slow = waits.filter((w) => w.wait > 1000);
  // Which calls paid the dead centre's fr_timer, from Kamailio's own failure_route line
  // ("local … answered 408 for <Call-ID> - next destination"; SIPp's Call-IDs start with the
  // call number), not from a wait threshold: on a busy machine Kamailio's timers fire in
  // batches, and a call that paid can show a wait a little under 2 s. Once Kamailio has
  // taken local out of rotation (ds_mark_dst, keepalives), no later call pays it: the calls
  // that paid come first, before the first call that went straight through. (Ordering, not
  // a stopwatch: on a busy machine the marking takes longer, the order does not change.)
  const paidIds = new Set([...lab.kam.log().matchAll(/vaktpost: local \S+ answered 408 for (\d+)-/g)].map((m) => Number(m[1])));
  const paid = (w: (typeof waits)[number]) => paidIds.has(w.n);
  const firstStraight = waits.findIndex((w) => !paid(w));
  const lateSlow = firstStraight < 0 ? [] : waits.slice(firstStraight).filter(paid);
  if (!t.same(lateSlow, [], "once a call went straight to the backup, no later call paid the dead centre's fr_timer")) {
    t.comment(JSON.stringify(waits.map((w) => ({ ...w, paid: paid(w) }))));
    t.comment(
      lab.kam
        .log()
        .split('\n')
        .filter((l) => /vaktpost|dispatcher/.test(l))
        .slice(-40)
        .join('\n'),
    );
  }
  t.ok(paidIds.size > 0 && waits.some(paid), `the first calls after the kill paid the fr_timer once (${paidIds.size} 408 lines)`);
  t.comment(
    `after kill: ${afterKill.length} calls, ${slow.length} waited > 1 s (max ${Math.max(...waits.map((w) => w.wait))} ms), dropped ${failed.length} connected calls; caller ran ${r.durationMs.toFixed(0)} ms, last done ${Math.max(...calls.map((c) => c.doneAt ?? 0)) - killAt} ms after kill`,
  );
  const list = await lab.kam.rpc.dispatcherList();
  const local = list.find((d) => d.uri === lab.local.uri);
  t.equal(local?.state, 'inactive', `Kamailio took the dead centre out of rotation by itself (FLAGS ${local?.flags})`);
});

t.test('a call timing out at a centre the supervisor just disabled does not re-enable it', async (t) => {
  const lab = await startCallLab(t);
  await lab.local.kill();
  // One call goes to the (silently dead) local centre and waits out fr_timer there...
  const run = await startCaller(t, { kamailioPort: lab.kam.sipPort, calls: 1, rate: 1, holdMs: 50, timeoutS: 20 });
  await waitFor(async () => ((await run.proc.currentStats())?.created ?? 0) >= 1, { timeoutMs: 30_000, what: 'the call to start' });
  // ...while the supervisor fails over.
  await lab.actuator.apply('backup');
  const r = await run.done;
  t.same(r.answersPerRole, { backup: 1 }, `the call still completed at the backup (${describeCaller(r)})`);
  const local = (await lab.kam.rpc.dispatcherList()).find((d) => d.uri === lab.local.uri);
  t.equal(local?.state, 'disabled', `failure_route left the disabled centre disabled (FLAGS ${local?.flags}), so keepalives cannot undo the failover`);
  t.equal(await lab.actuator.observe(), 'backup', 'observe() still reads backup');
});
