/**
 * Issue 16 #2 with the real supervisor process and a real Kamailio: a route change
 * decided while a test-call verification is in flight pre-empts it. The local centre
 * rings without answering, so the verification of `local` (a real SIPp test call
 * through Kamailio) stays in flight for ~20 s (until Kamailio's ring-no-answer moves
 * it on). A fault then decides `backup`: Kamailio must disable local at once — not
 * after the test call — and the backup path is verified after.
 *
 * No wall-clock assertion: the records prove the pre-emption (the verification of
 * local abandoned for backup, before backup was applied); the delay decision →
 * local disabled is printed, and its goal (1 s) lives in test/bench/preempt.bench.ts.
 */
import t from 'tap';
import { startCallLab } from '../../helpers/kamailio.js';
import { writeCallsConfig } from '../../helpers/supervisorCallLab.js';
import { startSupervisor } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

interface Status {
  actuators: Array<{ actuator: string; converged: boolean; target: string; observed: string; lastVerify: { ok: boolean; target: string } | null }>;
}
interface Action {
  id: number;
  at: number;
  decisionId: number | null;
  actuator: string;
  kind: string;
  target: string | null;
  ok: boolean;
  detail: string;
}
interface DecisionRow {
  id: number;
  at: number;
  route: string;
  routeChanged: boolean;
}

t.test('a fault during a test-call verification: Kamailio disables local at once, backup verified after', async (t) => {
  const lab = await startCallLab(t, { local: 'ringNoAnswer' });
  const { dir, cleanup } = await scratchDir('preempt');
  t.teardown(cleanup);
  const { file, port } = await writeCallsConfig(dir, {
    name: 'preempt',
    kam: lab.kam,
    centres: { local: lab.local.uri, backup: lab.backup.uri, announcement: lab.announcement.uri },
    policy: { holdDownS: 0 },
    // Longer than Kamailio's 20 s ring-no-answer: the verification of local stays in flight that long.
    calls: ['  verify: { optionsTimeoutMs: 1000, testCall: { enabled: true, number: vaktpost-test, timeoutMs: 30000 } }'],
  });
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const kamailio = async () => (await sup.api<Status>('GET', '/api/status')).json.actuators.find((a) => a.actuator === 'kamailio');
  const actions = async () => (await sup.api<{ actions: Action[] }>('GET', '/api/actions?limit=200')).json.actions.filter((a) => a.actuator === 'kamailio');

  // Applied local, the test call to the (ringing) local centre under way, no verification finished.
  await waitFor(
    async () => {
      const k = await kamailio();
      return k?.converged === true && k.target === 'local' && k.lastVerify === null;
    },
    { timeoutMs: 60_000, what: 'local applied, its verification in flight' },
  );
  t.equal((await actions()).filter((a) => a.kind === 'verify').length, 0, 'no verification finished yet: the test call rings');

  const localState = async () => (await lab.kam.rpc.dispatcherList()).find((d) => d.uri === lab.local.uri)?.state;
  await sup.api('POST', '/api/sim/fault', { fault: 'power-low-battery' });
  await waitFor(async () => (await localState()) === 'disabled', { timeoutMs: 60_000, intervalMs: 10, what: 'Kamailio to disable local' });
  const disabledAt = Date.now();

  // Records go through the journal (written on the next tick): await them.
  const failover = await waitFor(
    async () =>
      (await sup.api<{ decisions: DecisionRow[] }>('GET', '/api/decisions?limit=50')).json.decisions.find((d) => d.routeChanged && d.route === 'backup'),
    { timeoutMs: 30_000, what: 'the failover decision on record' },
  );
  const applyBackup = await waitFor(async () => (await actions()).find((a) => a.kind === 'apply' && a.target === 'backup' && a.ok), {
    timeoutMs: 30_000,
    what: 'the apply of backup on record',
  });
  const acts = (await actions()).sort((a, b) => a.id - b.id);
  t.comment(`kamailio records: ${acts.map((a) => `${a.kind}:${a.target}#${a.decisionId}:${a.ok}`).join(', ')}`);
  // Decisions that only refine the reasons (same route) may follow within milliseconds; the
  // attempt carries the latest one at its start — a backup decision, never a local one.
  const backupIds = new Set(
    (await sup.api<{ decisions: DecisionRow[] }>('GET', '/api/decisions?limit=50')).json.decisions
      .filter((d) => d.route === 'backup' && d.id >= failover.id)
      .map((d) => d.id),
  );
  t.ok(backupIds.has(applyBackup.decisionId ?? -1), `the apply carries a backup decision (#${applyBackup.decisionId}; failover #${failover.id})`);
  const localVerifies = acts.filter((a) => a.kind === 'verify' && a.target === 'local');
  t.same(
    localVerifies.map((a) => [a.ok, /abandoned: superseded: the target is now backup/.test(a.detail), a.id < applyBackup.id]),
    [[false, true, true]],
    `the verification of local was abandoned for backup before backup was applied, not finished (${localVerifies.map((a) => a.detail).join('; ')})`,
  );
  t.comment(`decision → Kamailio disabled local: ${disabledAt - failover.at} ms (detected by polling dispatcher.list every 10 ms)`);

  // Then the new route is verified (the backup answers the test call).
  const v = await waitFor(async () => (await kamailio())?.lastVerify ?? null, { timeoutMs: 60_000, what: 'the backup verification' });
  await waitFor(async () => (await actions()).some((a) => a.kind === 'verify' && a.target === 'backup'), { timeoutMs: 30_000, what: 'its record' });
  t.equal(v.target, 'backup', 'the verification on record is the new route’s');
  t.equal(v.ok, true, 'backup verified');
  const verifies = (await actions()).filter((a) => a.kind === 'verify' && a.ok);
  t.ok(
    verifies.length > 0 && verifies.every((a) => a.target === 'backup' && backupIds.has(a.decisionId ?? -1)),
    `every successful verification on record is backup's, under a backup decision (${verifies.map((a) => `${a.target}#${a.decisionId}`).join(', ')})`,
  );
});
