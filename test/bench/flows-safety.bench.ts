/**
 * The flows fail, the built-in policy takes over — how fast (a real Node-RED child and the
 * real Supervisor in this process, the harness of test/integration/flows/safety.test.ts,
 * which no longer asserts these times). The flow under test keeps calls local during a WAN
 * loss, where the built-in policy fails over, so who decides shows in the route.
 *
 *  - flows.child_killed_to_builtin.p95: the Node-RED child SIGKILLed → the built-in policy's
 *    route decision. Goal 1 s.
 *  - flows.broken_deploy_to_builtin.p95: a deploy with an unknown node type (Node-RED answers
 *    200 and stops every flow) → the built-in policy's decision. Goal 1 s.
 *  - flows.loop_to_builtin.p95: a Function node loops forever → the proposal times out
 *    (500 ms) → the built-in policy's decision. Goal 900 ms (the timeout + 400 ms).
 *  - flows.api_while_loop.p95: GET /api/status round trip while that flow loops. Goal 250 ms.
 *
 * Times run from the fault to the `decision` live message (the supervisor's own event), not
 * to a poll of it. No peer: without the flows there is nothing to fall back from.
 *
 *   node --import tsx test/bench/flows-safety.bench.ts     (FLOWS_SAFETY_TRIALS=4; ~1–2 min)
 */
import type { LiveMessage } from '../../supervisor/src/supervisor.js';
import { percentiles } from '../helpers/util.js';
import { type Harness, startHarness } from '../integration/flows/harness.js';

const TRIALS = Number(process.env.FLOWS_SAFETY_TRIALS ?? 4);
const API_PROBES = 5;
const r1 = (x: number) => Math.round(x * 10) / 10;
const log = (msg: string) => process.stderr.write(`[flows-safety.bench] ${msg}\n`);

const wan = (h: Harness, up: boolean) => {
  for (const l of ['wan1', 'wan2']) h.monitor.set(`wan.${l}.state`, up ? 'ok' : 'fail', up ? 'up' : 'down');
};

/** Resolves (performance.now()) at the next route change to `route` decided by `decidedBy`. */
function nextDecision(h: Harness, route: 'local' | 'backup', decidedBy: RegExp, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      h.supervisor.off('live', on);
      reject(new Error(`no route change to ${route} by ${decidedBy} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (m: LiveMessage) => {
      if (m.type === 'decision' && m.decision.routeChanged && m.decision.route === route && decidedBy.test(m.decision.decidedBy)) {
        clearTimeout(timer);
        h.supervisor.off('live', on);
        resolve(performance.now());
      }
    };
    h.supervisor.on('live', on);
  });
}

function loopFlow(): Array<Record<string, unknown>> {
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
      timeout: 0, // the runtime's functionTimeoutS (1 s) ends each loop: the child lives on
      wires: [['loop_route']],
    },
    { id: 'loop_route', type: 'vaktpost route', z: 'loop_tab', route: 'local', reason: 'loop flow', wires: [[]] },
  ];
}

function figure(name: string, xs: number[], goal: number, detail: string): void {
  const p = percentiles(xs);
  console.log(JSON.stringify({ name, value: r1(p.p95), unit: 'ms', goal, better: 'lower', median: r1(p.median), max: r1(p.max), n: xs.length, detail }));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let h: Harness | null = null;
try {
  // The safety test's settings: function timeout 1 s, heartbeat lost after 2.5 s, recover after 0.5 s.
  h = await startHarness({ flows: { functionTimeoutS: 1, hungAfterMs: 2500, recoverAfterMs: 500 } });
  const analog = h.template('analog-backup-lines');
  if ((await h.deployAndWait(analog)).status !== 200) throw new Error('deploy of analog-backup-lines failed');
  const analogVersion = h.flows.status().version?.id as number;
  wan(h, false);
  await h.waitForRoute('local', { decidedBy: /^flows:/, timeoutMs: 10_000, what: 'the flow keeping calls local on WAN loss' });

  // 1. The child killed.
  const killed: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    await h.waitForRoute('local', { decidedBy: /^flows:/, timeoutMs: 20_000, what: 'the (restarted) child deciding' });
    await sleep(200 + Math.random() * 300);
    const pid = h.flows.runtime.pid as number;
    const took = nextDecision(h, 'backup', /^builtin$/);
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL'); // the Node-RED child this harness started
    killed.push((await took) - t0);
    log(`child killed ${i + 1}/${TRIALS}: built-in policy after ${killed.at(-1)?.toFixed(0)} ms`);
  }

  // 2. A deploy with an unknown node type; rolled back after each trial.
  const broken: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    await h.waitForRoute('local', { decidedBy: /^flows:/, timeoutMs: 20_000, what: 'the flows deciding before the broken deploy' });
    await sleep(200 + Math.random() * 300);
    const took = nextDecision(h, 'backup', /^builtin$/);
    const t0 = performance.now();
    const dep = await h.deployViaEditor([...analog, { id: 'bogus', type: 'no-such-node-type', z: 'vp_analog_tab', wires: [] }]);
    if (dep.status !== 200) throw new Error(`broken deploy answered ${dep.status}, not 200: ${dep.text.slice(0, 200)}`);
    broken.push((await took) - t0);
    log(`broken deploy ${i + 1}/${TRIALS}: built-in policy after ${broken.at(-1)?.toFixed(0)} ms`);
    const rb = await h.http('POST', '/api/flows/rollback', { body: { version: analogVersion, comment: 'bench: broken deploy' } });
    if (rb.status !== 200) throw new Error(`rollback failed: ${rb.text.slice(0, 200)}`);
  }

  // 3. A Function node that loops whenever the WAN fails; the API probed meanwhile.
  await h.waitForRoute('local', { decidedBy: /^flows:/, timeoutMs: 20_000, what: 'the flows deciding before the loop flow' });
  wan(h, true);
  await h.waitForRoute('local', { timeoutMs: 10_000 });
  if ((await h.deployAndWait(loopFlow())).status !== 200) throw new Error('deploy of the loop flow failed');
  const loop: number[] = [];
  const api: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    await h.waitForRoute('local', { decidedBy: /^flows:/, timeoutMs: 20_000, what: 'the loop flow answering while WAN is up' });
    await sleep(200 + Math.random() * 300);
    const took = nextDecision(h, 'backup', /^builtin$/);
    const t0 = performance.now();
    wan(h, false);
    loop.push((await took) - t0);
    // The child is busy looping (each loop lasts the 1 s function timeout); the supervisor is not.
    for (let k = 0; k < API_PROBES; k++) {
      const a0 = performance.now();
      const st = await h.http('GET', '/api/status');
      if (st.status !== 200) throw new Error(`GET /api/status answered ${st.status}`);
      api.push(performance.now() - a0);
      await sleep(50); // all probes inside the ~1 s the loop lasts
    }
    log(
      `loop ${i + 1}/${TRIALS}: built-in policy after ${loop.at(-1)?.toFixed(0)} ms; API ${api
        .slice(-API_PROBES)
        .map((x) => x.toFixed(0))
        .join('/')} ms`,
    );
    wan(h, true);
  }

  figure('flows.child_killed_to_builtin.p95', killed, 1000, 'Node-RED child SIGKILLed → route decision by the built-in policy');
  figure('flows.broken_deploy_to_builtin.p95', broken, 1000, 'deploy with an unknown node type (Node-RED answers 200, stops every flow) → built-in policy');
  figure('flows.loop_to_builtin.p95', loop, 900, 'Function node loops → proposal timeout (500 ms) → built-in policy');
  figure('flows.api_while_loop.p95', api, 250, `GET /api/status round trip while the flow loops (${API_PROBES} per trial)`);
} finally {
  await h?.close();
}
