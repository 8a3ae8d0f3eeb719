/**
 * Acceptance (calls #1, #5, #6) with everything real but the hardware: the
 * supervisor PROCESS (simulated UPS/WAN), a real Kamailio rendered from
 * Vaktpost's config, SIPp as caller and as both centres. Counts are SIPp's own.
 */
import t from 'tap';
import { runCaller, startCaller } from '../../helpers/sipp.js';
import { startSupervisorCallLab as lab } from '../../helpers/supervisorCallLab.js';
import { waitFor } from '../../helpers/util.js';

interface Status {
  route: string;
  mode: string;
  actuators: Array<{ actuator: string; converged: boolean; target: string; observed: string; lastVerify: { ok: boolean; target: string } | null }>;
}

t.test('fault → calls at backup; supervisor SIGKILLed mid-run → calls keep flowing; restart without a flap', async (t) => {
  const L = await lab(t);
  let sup = await L.start();
  t.teardown(() => sup.kill('SIGKILL'));
  const status = async () => (await sup.api<Status>('GET', '/api/status')).json;
  await waitFor(async () => (await status()).actuators.find((a) => a.actuator === 'kamailio')?.lastVerify?.ok === true, {
    timeoutMs: 30_000,
    what: 'kamailio actuator verified local',
  });

  const normal = await runCaller(t, { kamailioPort: L.kam.sipPort, calls: 10, rate: 10, holdMs: 100 });
  t.same(normal.answersPerRole, { local: 10 }, 'normal: every call answered by the local centre');
  t.equal(normal.stats?.failed, 0);

  // 20 calls/s for 15 s. The fault comes once SIPp reports its first completed calls, the
  // supervisor is SIGKILLed once calls have completed on backup — steps taken on events, not
  // on a clock, so a slow machine only stretches the run; the caller still has calls left.
  const TOTAL = 300;
  const run = await startCaller(t, { kamailioPort: L.kam.sipPort, calls: TOTAL, rate: 20, holdMs: 300, timeoutS: 120 });
  const completed = async () => (await run.proc.currentStats())?.successful ?? 0;
  await waitFor(async () => (await completed()) >= 10, { timeoutMs: 30_000, what: 'the caller to complete its first calls' });
  const faultAt = Date.now();
  await sup.api('POST', '/api/sim/fault', { fault: 'power-low-battery' });
  await waitFor(async () => (await status()).actuators.find((a) => a.actuator === 'kamailio')?.observed === 'backup', {
    timeoutMs: 30_000,
    what: 'Kamailio on backup',
  });
  // Kamailio was seen routing to backup at this moment: every call sent from now on must go there.
  const onBackupAt = Date.now();
  const doneOnBackup = (await completed()) + 20;
  await waitFor(async () => (await completed()) >= doneOnBackup, { timeoutMs: 30_000, what: '20 more calls completed with the supervisor alive' });
  await sup.kill('SIGKILL');
  const killedAt = Date.now();
  const result = await run.done;

  t.equal(result.stats?.failed, 0, `no failed calls (SIPp: ${JSON.stringify(result.stats)})`);
  t.equal(result.unexpectedCodes[486] ?? 0, 0, 'never busy');
  t.equal(result.completed, TOTAL, 'every call completed');
  const firstBackup = Math.min(...[...result.calls.values()].filter((c) => c.answeredBy === 'backup' && c.answeredAt).map((c) => c.answeredAt as number));
  const faultToBackupMs = firstBackup - faultAt;
  // Causality only (speed: calls.sim_fault_to_first_call_at_backup.median in test/bench).
  t.ok(faultToBackupMs > 0, `no call reached the backup before the fault; the first one ${faultToBackupMs} ms after it`);
  const afterKill = [...result.calls.values()].filter((c) => (c.sentAt ?? 0) > killedAt + 100);
  t.ok(afterKill.length > 20, `calls placed after the supervisor died: ${afterKill.length}`);
  t.ok(
    afterKill.every((c) => c.answeredBy === 'backup'),
    'all of them answered by backup (Kamailio keeps the state alone)',
  );
  const lateLocal = [...result.calls.values()].filter((c) => (c.sentAt ?? 0) > onBackupAt && c.answeredBy === 'local');
  t.equal(lateLocal.length, 0, 'no call sent after Kamailio was seen on backup went to local');

  sup = await L.start();
  await waitFor(async () => (await status()).actuators.find((a) => a.actuator === 'kamailio')?.converged === true, {
    timeoutMs: 30_000,
    what: 'reconciled after restart',
  });
  const s = await status();
  t.equal(s.route, 'backup', 'restart resumes backup');
  const changes = await sup.api<{ decisions: Array<{ routeChanged: boolean }> }>('GET', '/api/decisions?limit=200');
  t.equal(changes.json.decisions.filter((d) => d.routeChanged).length, 1, 'exactly one route change on record: no flap');
  const after = await runCaller(t, { kamailioPort: L.kam.sipPort, calls: 5, rate: 10, holdMs: 100 });
  t.same(after.answersPerRole, { backup: 5 }, 'calls after the restart still go to backup');
});

t.test('drill through the real call path: passes with a test call; fails loudly when the backup is dead', async (t) => {
  const L = await lab(t);
  const sup = await L.start();
  t.teardown(() => sup.kill('SIGKILL'));
  await waitFor(async () => (await sup.api<{ mode: string }>('GET', '/api/status')).json.mode === 'normal', { timeoutMs: 15_000, what: 'normal' });
  const pass = await sup.api<{ outcome: string; steps: Array<{ step: string; ok: boolean; detail: string }> }>('POST', '/api/drill', {});
  t.equal(pass.json.outcome, 'passed', JSON.stringify(pass.json.steps));
  const kamBackup = pass.json.steps.find((s) => s.step === 'verify-backup:kamailio');
  t.match(kamBackup?.detail ?? '', /backup/, `backup verified through Kamailio: ${kamBackup?.detail}`);

  await L.backup.kill();
  const fail = await sup.api<{ outcome: string; steps: Array<{ step: string; ok: boolean; detail: string }> }>('POST', '/api/drill', {});
  t.equal(fail.json.outcome, 'failed', 'a dead backup fails the drill');
  t.ok(
    fail.json.steps.some((s) => s.step === 'verify-backup:kamailio' && !s.ok),
    'the failing step is the backup verification',
  );
  const ev = await sup.api<{ events: Array<{ severity: string; en: string }> }>('GET', '/api/events?kind=drill.failed');
  t.equal(ev.json.events[0]?.severity, 'alarm');
  t.equal((await sup.api<{ route: string }>('GET', '/api/status')).json.route, 'local', 'back on local after the failed drill');
});
