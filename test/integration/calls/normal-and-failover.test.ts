/**
 * Acceptance 1 (Kamailio part): in normal operation every call reaches the
 * local centre; after the actuator switches to `backup`, new calls reach the
 * backup. Measures RPC → effect. Real Kamailio + SIPp on loopback; assertions
 * use SIPp's own counts.
 */
import t from 'tap';
import { describeCaller, runCaller, startCaller } from '../../helpers/sipp.js';
import { startCallLab } from '../../helpers/kamailio.js';
import { KamailioActuator } from '../../../supervisor/src/reconcilers/kamailio/kamailioActuator.js';
import { waitFor } from '../../helpers/util.js';

t.test('normal: all calls to local; apply(backup): new calls to backup', async (t) => {
  const lab = await startCallLab(t);
  const { actuator } = lab;

  t.equal(await actuator.observe(), 'local', 'fresh Kamailio routes to local');

  const normal = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 20, rate: 20, holdMs: 100, timeoutS: 20 });
  t.equal(normal.stats?.successful, 20, `20 calls succeeded (${describeCaller(normal)})`);
  t.equal(normal.stats?.failed, 0, 'no call failed');
  t.same(normal.answersPerRole, { local: 20 }, 'every call answered by the local centre');
  t.same(normal.unexpectedCodes, {}, 'the caller saw no error reply');

  // A steady 20 calls/s stream; switch to backup in the middle of it.
  const run = await startCaller(t, { kamailioPort: lab.kam.sipPort, calls: 60, rate: 20, holdMs: 100, timeoutS: 30 });
  // Switch once SIPp itself reports calls completing (its stats file, written every second).
  await waitFor(async () => ((await run.proc.currentStats())?.successful ?? 0) >= 5, {
    timeoutMs: 30_000,
    what: 'the caller to complete its first calls',
  });
  const rpcStart = Date.now();
  await actuator.apply('backup');
  const rpcConfirmed = Date.now();
  const r = await run.done;

  t.equal(await actuator.observe(), 'backup', 'observe() reads backup back');
  t.equal(r.stats?.successful, 60, `all 60 calls succeeded across the switch (${describeCaller(r)})`);
  t.equal(r.stats?.failed, 0, 'no call failed during the switch');
  const calls = [...r.calls.values()];
  const afterConfirm = calls.filter((c) => (c.sentAt ?? 0) > rpcConfirmed);
  const wrong = afterConfirm.filter((c) => c.answeredBy !== 'backup');
  t.same(wrong, [], `every call of the stream sent after the RPC was confirmed reached the backup (${afterConfirm.length} such calls)`);
  // On a starved machine the stream can end before the switch is confirmed: new calls after it, placed for sure.
  const after = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 10, rate: 20, holdMs: 100, timeoutS: 30 });
  t.same(after.answersPerRole, { backup: 10 }, `10 new calls after the switch all reached the backup (${describeCaller(after)})`);
  const firstBackup = calls.filter((c) => c.answeredBy === 'backup' && c.sentAt !== undefined).sort((a, b) => (a.sentAt as number) - (b.sentAt as number))[0];
  // How fast is calls.rpc_to_effect_median in test/bench/calls.bench.ts; printed here only.
  const confirmMs = rpcConfirmed - rpcStart;
  t.comment(
    `RPC → effect: confirmed ${confirmMs} ms after the first RPC; first call INVITEd ${
      (firstBackup?.sentAt ?? 0) - rpcStart
    } ms after the RPC started went to backup; actuator measured ${actuator.lastApply?.confirmedMs.toFixed(1)} ms`,
  );

  // Idempotent: applying again changes nothing.
  await actuator.apply('backup');
  t.equal(actuator.lastApply?.changes, 0, 'a second apply(backup) sends no RPC');

  // And back.
  await actuator.apply('local');
  t.equal(await actuator.observe(), 'local', 'apply(local) restores local');
  const back = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 10, rate: 20, holdMs: 50, timeoutS: 20 });
  t.same(back.answersPerRole, { local: 10 }, `after failback every call reaches local (${describeCaller(back)})`);

  // verify() checks the path the target points at.
  const v = await actuator.verify('local');
  t.ok(v.ok, `verify(local): ${v.detail}`);
  const vb = await actuator.verify('backup');
  t.notOk(vb.ok, `verify(backup) while routing to local is not ok: ${vb.detail}`);

  // With a real test call through Kamailio: it must be answered by the target.
  const withCall = new KamailioActuator({
    rpc: lab.kam.rpc,
    centres: { local: [lab.local.uri], backup: [lab.backup.uri] },
    verify: {
      optionsTimeoutMs: 1000,
      acceptCodes: [],
      testCall: { kamailioHost: '127.0.0.1', kamailioPort: lab.kam.sipPort, number: 'vaktpost-test', timeoutMs: 5000 },
    },
  });
  const vc = await withCall.verify('local');
  t.ok(vc.ok, `verify(local) with a test call: ${vc.detail}`);
  t.match(vc.detail, /answered by local/, 'Kamailio named the route that answered (X-Vaktpost-Route)');
  await withCall.apply('backup');
  const vcb = await withCall.verify('backup');
  t.ok(vcb.ok, `verify(backup) with a test call after the switch: ${vcb.detail}`);
  await lab.backup.kill();
  const dead = await withCall.verify('backup');
  t.notOk(dead.ok, `a dead backup fails verification loudly: ${dead.detail}`);
});
