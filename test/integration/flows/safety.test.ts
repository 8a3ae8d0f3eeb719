/**
 * Acceptance (flows, 2): the flows can fail in every way and calls still get a policy.
 *  - a deploy with an unknown node type (Node-RED answers 200 and stops every flow)
 *    → alarm + built-in policy within 1 s; rollback brings the flows back;
 *  - the child killed → built-in policy at once, child restarted, flows decide again;
 *  - an endless loop in a Function node → proposal timeout → built-in policy, the
 *    supervisor's API keeps answering; a loop that escapes the function timeout →
 *    heartbeat lost → child killed and restarted.
 * The flow under test keeps calls local during a WAN loss (where the built-in policy
 * would fail over), so who decides is visible in the route.
 */
import t from 'tap';
import { waitFor } from '../../helpers/util.js';
import { type Harness, startHarness } from './harness.js';

const wanDown = (h: Harness) => {
  h.monitor.set('wan.wan1.state', 'fail', 'down');
  h.monitor.set('wan.wan2.state', 'fail', 'down');
};
const wanUp = (h: Harness) => {
  h.monitor.set('wan.wan1.state', 'ok', 'up');
  h.monitor.set('wan.wan2.state', 'ok', 'up');
};

function loopFlow(functionTimeoutS: number): Array<Record<string, unknown>> {
  return [
    { id: 'loop_tab', type: 'tab', label: 'Loop' },
    { id: 'loop_sig', type: 'vaktpost signal', z: 'loop_tab', filter: 'health.*', trigger: 'change', wires: [['loop_fn']] },
    {
      id: 'loop_fn',
      type: 'function',
      z: 'loop_tab',
      name: 'loops when WAN fails',
      func: "if (msg.payload.health.wan === 'fail') { while (true) {} }\nreturn msg;",
      outputs: 1,
      timeout: functionTimeoutS,
      wires: [['loop_route']],
    },
    { id: 'loop_route', type: 'vaktpost route', z: 'loop_tab', route: 'local', reason: 'loop flow', wires: [[]] },
  ];
}

t.test('flows stopped, killed or stuck → the built-in policy decides, with an alarm', async (t) => {
  const h = await startHarness({ flows: { functionTimeoutS: 1, hungAfterMs: 2500, recoverAfterMs: 500 } });
  t.teardown(() => h.close());
  const analog = h.template('analog-backup-lines');
  t.equal((await h.deployAndWait(analog)).status, 200);
  const analogVersion = h.flows.status().version?.id as number;
  wanDown(h);
  await h.waitForRoute('local', { decidedBy: /^flows:/, what: 'the flow keeping calls local on WAN loss' });

  await t.test('unknown node type: Node-RED answers 200 and stops every flow', async (t) => {
    const broken = [...analog, { id: 'bogus', type: 'no-such-node-type', z: 'vp_analog_tab', wires: [] }];
    const t0 = performance.now();
    const dep = await h.deployViaEditor(broken);
    t.equal(dep.status, 200, 'the deploy itself "succeeds" (Node-RED 4.1)');
    const d = await h.waitForRoute('backup', { decidedBy: /^builtin$/, timeoutMs: 30_000 });
    t.comment(`built-in policy ${Math.round(performance.now() - t0)} ms after the deploy`);
    // "At once" as causality: decided on the stop report, not when the heartbeat (2.5 s) ran out.
    t.equal(h.events('flows.hung').length, 0, 'decided on the flows.stopped report, not by the heartbeat timeout');
    t.equal(d.mode, 'failover');
    const alarm = h.events('flows.stopped')[0];
    t.equal(alarm?.severity, 'alarm', 'alarm raised');
    t.match(alarm?.en ?? '', /unknown node types .*no-such-node-type/, alarm?.en);
    t.ok(
      h.supervisor.snapshot().reasons.some((r) => r.code === 'flows.stopped'),
      'the decision says the flows are stopped',
    );
    t.equal(h.flows.status().version?.id, analogVersion + 1, 'the broken deploy is still recorded (who/when/diff)');

    const rb = await h.http('POST', '/api/flows/rollback', { body: { version: analogVersion, comment: 'broken deploy' } });
    t.equal(rb.status, 200, rb.text);
    t.equal((rb.json as { kind: string; restoredFrom: number }).kind, 'rollback');
    await h.waitForRoute('local', { decidedBy: /^flows:/, what: 'the rolled-back flow deciding again' });
    t.equal(h.events('flows.rolledBack').length, 1, 'rollback recorded as an event');
  });

  await t.test('the child is killed: built-in policy at once, restarted with backoff', async (t) => {
    const pid = h.flows.runtime.pid as number;
    t.ok(pid > 0, `child pid ${pid}`);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    await h.waitForRoute('backup', { decidedBy: /^builtin$/, timeoutMs: 30_000 });
    t.comment(`built-in policy ${Math.round(performance.now() - t0)} ms after the kill`);
    t.equal(h.events('flows.crashed')[0]?.severity, 'alarm', 'alarm raised');
    t.equal(h.events('flows.hung').length, 0, 'decided on the child exit, not by the heartbeat timeout');
    await h.waitForRoute('local', { decidedBy: /^flows:/, timeoutMs: 30_000, what: 'the restarted child deciding again' });
    const st = h.flows.status().runtime;
    t.not(st.pid, pid, `a new child (pid ${st.pid})`);
    t.equal(st.restarts, 1);
    t.equal(h.events('flows.restarted').length, 1, 'restart recorded');
  });

  await t.test('endless loop in a Function node: proposal timeout, built-in policy, API answers', async (t) => {
    wanUp(h);
    await h.waitForRoute('local');
    t.equal((await h.deployAndWait(loopFlow(0))).status, 200);
    const pid = h.flows.runtime.pid;
    const t0 = performance.now();
    wanDown(h);
    await h.waitForRoute('backup', { decidedBy: /^builtin$/, timeoutMs: 30_000 });
    const took = performance.now() - t0;
    // The supervisor waited for the flow's answer up to the 500 ms proposal timeout (lower bound:
    // correctness); that it was the proposal timeout and not the heartbeat that decided is
    // shown by the flows.late alarm and the absence of flows.hung.
    t.ok(took >= 490, `built-in policy only after the 500 ms proposal timeout (${Math.round(took)} ms)`);
    t.ok(
      h.events('flows.late').some((e) => e.severity === 'alarm'),
      'alarm: flows late',
    );
    t.equal(h.events('flows.hung').length, 0, 'decided at the proposal timeout, not by the heartbeat timeout');
    // The child is busy looping; the supervisor is not: its API answers (how fast is not asserted).
    const a0 = performance.now();
    const st = await h.http('GET', '/api/status');
    t.comment(`the supervisor's API answered in ${Math.round(performance.now() - a0)} ms while the flow loops`);
    t.equal(st.status, 200, "the supervisor's API answers while the flow loops");
    t.equal((st.json as { route: string }).route, 'backup');
    // Node-RED's function timeout (1 s) interrupts the loop: the child lives on.
    await new Promise((r) => setTimeout(r, 1500));
    t.equal(h.flows.runtime.pid, pid, 'the child was not killed (the function timeout ended the loop)');
    t.equal(h.supervisor.snapshot().route, 'backup', 'still the built-in policy: the flow keeps missing its timeout');
  });

  await t.test('a loop that escapes the function timeout: heartbeat lost → killed and restarted', async (t) => {
    wanUp(h);
    await h.waitForRoute('local', { timeoutMs: 30_000 });
    t.equal((await h.deployAndWait(loopFlow(60))).status, 200);
    const pid = h.flows.runtime.pid;
    wanDown(h);
    await h.waitForRoute('backup', { decidedBy: /^builtin$/, timeoutMs: 30_000 });
    const hung = await waitFor(() => h.events('flows.hung').length > 0, { timeoutMs: 30_000, what: 'the flows.hung alarm' });
    t.ok(hung, 'flows.hung alarm after the heartbeat was lost');
    t.equal(h.supervisor.snapshot().route, 'backup', 'the built-in policy decided meanwhile');
    // The restarted child would load the looping flow again; a rollback is recorded even
    // while the child is down or busy, and the restart loads the rolled-back version.
    const rb = await h.http('POST', '/api/flows/rollback', { body: { version: analogVersion, comment: 'endless loop' } });
    t.equal(rb.status, 200, `rollback accepted while the child is in trouble: ${rb.text.slice(0, 200)}`);
    await waitFor(
      () => {
        const r = h.flows.status().runtime;
        return r.pid !== null && r.pid !== pid && r.state === 'running';
      },
      { timeoutMs: 30_000, what: 'a restarted child' },
    );
    t.pass('a new child runs');
    await h.waitForRoute('local', {
      decidedBy: /^flows:/,
      timeoutMs: 30_000,
      what: 'the rolled-back flow keeping calls local (WAN is still down)',
    });
  });
});
