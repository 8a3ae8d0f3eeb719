/**
 * Acceptance (WAN #1, route level): the real supervisor process runs inside the
 * test-bed's box namespace with its WAN and centre probes; faults are injected on
 * the ISP side; the route is read from the supervisor's own store (SQLite on disk).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { NsProcess } from '../../helpers/netns/nsProcess.js';
import { REPO_ROOT } from '../../helpers/netns/monitorProcess.js';
import { Testbed } from '../../helpers/netns/testbed.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

t.test('route follows the WAN and the centres: one link lost stays local; both lost or local centre dead → backup', async (t) => {
  const bed = await Testbed.create();
  t.teardown(() => bed.teardown());
  const { dir, cleanup } = await scratchDir('wan-route');
  t.teardown(cleanup);
  const dataDir = path.join(dir, 'data');
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    `box: { name: netns-box, dataDir: ${dataDir}, hardware: real }\n` +
      `api: { listen: 127.0.0.1, port: 18080 }\n` +
      `policy: { failbackHoldS: 2, holdDownS: 1, tickMs: 100 }\n` +
      `time: { chronyc: { socket: /nonexistent/chronyd.sock } }\n` +
      `wan: ${JSON.stringify(bed.wanConfig())}\n`,
  );
  const sup = await NsProcess.start({
    ns: bed.ns.box,
    cmd: process.execPath,
    args: ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'run', '-c', file],
    cwd: REPO_ROOT,
    ready: /Vaktpost is running/,
    readyTimeoutMs: 30_000,
    label: 'supervisor',
  });
  t.teardown(() => sup.stop());

  const db = () => new Database(path.join(dataDir, 'vaktpost.db'), { readonly: true, fileMustExist: true });
  const last = () => {
    const d = db();
    try {
      return d.prepare('SELECT route, mode, reasons_json FROM decisions ORDER BY id DESC LIMIT 1').get() as {
        route: string;
        mode: string;
        reasons_json: string;
      };
    } finally {
      d.close();
    }
  };
  const routeChanges = () => {
    const d = db();
    try {
      return (d.prepare('SELECT count(*) AS n FROM decisions WHERE route_changed = 1').get() as { n: number }).n;
    } finally {
      d.close();
    }
  };
  const waitMode = (mode: string, timeoutMs = 30_000) => waitFor(() => last()?.mode === mode, { timeoutMs, intervalMs: 50, what: `mode ${mode}` });
  const waitRoute = (route: string, timeoutMs = 30_000) => waitFor(() => last()?.route === route, { timeoutMs, intervalMs: 50, what: `route ${route}` });

  // Time is unknown (no chronyd here): degraded, but not a failover trigger.
  await waitFor(() => last()?.mode === 'degraded' && !last()?.reasons_json.includes('"wan') && !last()?.reasons_json.includes('"centres'), {
    timeoutMs: 30_000,
    intervalMs: 100,
    what: 'WAN and centres known good',
  });
  t.equal(last()?.route, 'local', 'starts on local');

  // 1. Silent blackhole on wan1: wan2 carries on, calls stay local.
  const f1 = await bed.blackhole('wan1');
  await waitFor(() => last()?.reasons_json.includes('wan.wan1.state'), { timeoutMs: 30_000, intervalMs: 50, what: 'wan1 down in the decision reasons' });
  t.comment(`wan1 blackhole → in the supervisor's reasons after ${Date.now() - f1.at} ms`);
  t.equal(last()?.route, 'local', 'one link down: route stays local');
  t.equal(routeChanges(), 0);

  // 2. Both links blackholed: site WAN down → backup.
  const f2 = await bed.blackhole('wan2');
  await waitRoute('backup', 30_000);
  t.comment(`both links blackholed → route backup after ${Date.now() - f2.at} ms`);
  t.match(last()?.reasons_json ?? '', /wan\.allLinksDown|centres\.localUnreachable/, 'reason: WAN or local centre unreachable on every path');
  t.equal(routeChanges(), 1);

  await bed.restore('wan1');
  await bed.restore('wan2');
  await waitRoute('local', 30_000);
  t.equal(routeChanges(), 2, 'failed back once after the hold');

  // 3. The local centre dies while the WAN is fine: local unreachable on every path → backup.
  const f3 = await bed.stopCentre('local');
  await waitRoute('backup', 30_000);
  t.comment(`local centre dead → route backup after ${Date.now() - f3.at} ms`);
  t.match(last()?.reasons_json ?? '', /centres\.localUnreachable/, 'reason: local centre unreachable on every path');
  t.notMatch(last()?.reasons_json ?? '', /wan\.allLinksDown/, 'while the WAN itself is fine');
  await waitMode('failover');
});
