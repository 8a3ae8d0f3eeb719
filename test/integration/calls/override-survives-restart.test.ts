/**
 * Issue 16 #1: a technician's manual failover survives Kamailio restarts with the
 * supervisor not running. Real supervisor process, real Kamailio rendered from
 * Vaktpost's config, SIPp as caller and centres. The supervisor persists the target
 * into the dispatcher list file Kamailio starts from (calls.configDir/dispatcher.list),
 * so a restarted Kamailio comes back on backup by itself. Counts are SIPp's own.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { describeCaller, runCaller, startCaller } from '../../helpers/sipp.js';
import { startSupervisorCallLab as lab } from '../../helpers/supervisorCallLab.js';
import { waitFor } from '../../helpers/util.js';

interface Status {
  route: string;
  actuators: Array<{ actuator: string; converged: boolean; target: string; observed: string; lastVerify: { ok: boolean; target: string } | null }>;
}

t.test('override to backup, supervisor stopped, Kamailio killed and restarted twice → no call answered by local', async (t) => {
  // Three missed keepalives before a centre counts as down, not one: beside CPU hogs the
  // starved backup SIPp once missed an OPTIONS, was marked down and 51 calls went to the
  // announcement. What this test guards is that none reaches local.
  const L = await lab(t, { kamailioTimers: { probingThreshold: 3 } });
  const sup = await L.start();
  t.teardown(() => sup.kill('SIGKILL'));
  const kamailio = async () => (await sup.api<Status>('GET', '/api/status')).json.actuators.find((a) => a.actuator === 'kamailio');
  await waitFor(async () => (await kamailio())?.lastVerify?.ok === true, { timeoutMs: 60_000, what: 'kamailio actuator verified local' });

  const o = await sup.api('POST', '/api/route/override', { route: 'backup', minutes: 60, reason: 'technician: local PBX maintenance' });
  t.equal(o.status, 200, 'override accepted');
  await waitFor(
    async () => {
      const k = await kamailio();
      return k?.converged === true && k.observed === 'backup';
    },
    { timeoutMs: 60_000, what: 'Kamailio on backup' },
  );
  const list = await readFile(L.kam.listPath, 'utf8');
  t.match(list, new RegExp(`^1 ${L.local.uri} 4 `, 'm'), 'the list file Kamailio starts from has local disabled (flag 4)');

  // The supervisor is frozen: from here on nothing of Vaktpost runs.
  const pid = sup.child.pid;
  t.ok(pid !== undefined && pid > 1, `supervisor pid ${pid}`);
  if (pid === undefined || pid <= 1) return;
  process.kill(pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {}
  });

  const TOTAL = 120;
  const run = await startCaller(t, { kamailioPort: L.kam.sipPort, calls: TOTAL, rate: 10, holdMs: 100, timeoutS: 180, recvTimeoutMs: 10_000 });
  const completed = async () => (await run.proc.currentStats())?.successful ?? 0;
  const restarts: string[] = [];
  for (const after of [15, 50]) {
    await waitFor(async () => (await completed()) >= after, { timeoutMs: 90_000, what: `${after} calls completed` });
    const kamPid = L.kam.pid;
    if (kamPid === undefined || kamPid <= 1) throw new Error(`no Kamailio pid (${kamPid})`);
    process.kill(-kamPid, 'SIGKILL'); // Kamailio's own process group (spawned detached): a crash
    await L.kam.restart(); // reaps it and starts again from its files
    const state = (await L.kam.rpc.dispatcherList()).find((d) => d.uri === L.local.uri)?.state;
    restarts.push(`after ${after} calls: pid ${L.kam.pid}, local ${state}`);
    t.equal(state, 'disabled', `Kamailio restarted with the supervisor frozen comes back with local disabled (${restarts.at(-1)})`);
  }
  const r = await run.done;
  t.comment(`SIPp caller: ${describeCaller(r)}; restarts: ${restarts.join('; ')}`);
  t.equal(r.answersPerRole.local ?? 0, 0, `0 of ${TOTAL} calls answered by local`);
  t.ok(
    (r.answersPerRole.backup ?? 0) >= TOTAL - 20,
    `calls answered by backup: ${r.answersPerRole.backup ?? 0} (the few lost were in flight while Kamailio was down)`,
  );
  const localStats = await L.local.proc.currentStats();
  t.comment(`local centre SIPp statistics: ${JSON.stringify(localStats)}`);

  // Thawed, the supervisor finds nothing to correct and calls still go to backup.
  process.kill(pid, 'SIGCONT');
  await waitFor(
    async () => {
      const k = await kamailio();
      return k?.converged === true && k.observed === 'backup';
    },
    { timeoutMs: 60_000, what: 'the supervisor, thawed, sees backup' },
  );
  const after = await runCaller(t, { kamailioPort: L.kam.sipPort, calls: 5, rate: 10, holdMs: 100 });
  t.same(after.answersPerRole, { backup: 5 }, `after thawing: ${describeCaller(after)}`);
});
