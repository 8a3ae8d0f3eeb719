/**
 * The real supervisor process with the upstream webhook and heartbeat configured,
 * against a real HTTP server on loopback: a failover reaches the carrier's API with
 * its reason, heartbeats flow while the box lives and stop when it is killed.
 */
import t from 'tap';
import { startRecorder } from '../upstream/fixtures/upstreamServer.js';
import { liveClient, startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

t.test('failover calls the reroute webhook with the reason; heartbeat stops with the box', async (t) => {
  const upstream = await startRecorder();
  t.teardown(() => upstream.stop());
  upstream.answer = () => ({ status: 200, body: '{}', contentType: 'application/json' });
  const { dir, cleanup } = await scratchDir('sup-up');
  t.teardown(cleanup);
  const extra =
    `upstream:\n  webhook:\n    url: ${upstream.url}/reroute\n    headers: { Authorization: "Bearer \${env:VP_TEST_TOKEN}" }\n` +
    `    bodyTemplate: '{"to":"{{route}}","why":"{{reason}}","box":"{{box}}"}'\n` +
    `  heartbeat:\n    url: ${upstream.url}/alive\n    intervalS: 0.2\n    bodyTemplate: '{"seq":{{seq}},"route":"{{route}}"}'\n`;
  const { file, port } = await writeSimConfig(dir, extra);
  const sup = await startSupervisor(file, port, { VP_TEST_TOKEN: 'sekret-123' });
  t.teardown(() => sup.kill('SIGKILL'));

  await waitFor(() => upstream.requests.filter((r) => r.path === '/alive').length >= 3, { timeoutMs: 30_000, what: 'three heartbeats' });
  const live = await liveClient(sup.url, sup.token());
  t.teardown(() => live.close());
  await live.next((m) => m.type === 'snapshot', 30_000);
  await sup.api('POST', '/api/sim/fault', { fault: 'power-low-battery' });
  const hook = await waitFor(() => upstream.requests.find((r) => r.path === '/reroute' && r.body.includes('"to":"backup"')), {
    timeoutMs: 30_000,
    what: 'reroute webhook for backup',
  });
  t.equal(hook.headers.authorization, 'Bearer sekret-123', 'secret taken from the environment');
  const body = JSON.parse(hook.body) as { why: string; box: string };
  t.match(body.why, /low battery/i, `reason carried to the upstream: ${body.why}`);
  t.equal(body.box, 'test-box');
  const actions = await sup.api<{ actions: Array<{ actuator: string; target: string; ok: boolean }> }>('GET', '/api/actions?limit=50');
  t.ok(
    actions.json.actions.some((a) => a.actuator === 'upstream-webhook' && a.target === 'backup' && a.ok),
    'recorded as an action',
  );
  const status = await sup.api<{ signals: Array<{ key: string; status: string }> }>('GET', '/api/status');
  t.equal(status.json.signals.find((s) => s.key === 'telephony.upstream.heartbeat')?.status, 'ok', 'heartbeat signal ok');

  await sup.kill('SIGKILL');
  const n = upstream.requests.filter((r) => r.path === '/alive').length;
  // Over 1 s (5 intervals) a live box would send ~5 more; a dead one sends none.
  await new Promise((r) => setTimeout(r, 1000));
  t.equal(upstream.requests.filter((r) => r.path === '/alive').length, n, 'no heartbeat after the box died');
});
