/**
 * Chaos (acceptance 5): an exception thrown inside a monitor, a reconciler and an API
 * handler — injected through the test hooks of the real supervisor process — is an
 * alarm and a log line each, the process stays up and the loop keeps deciding.
 * Without VAKTPOST_TEST_HOOKS the hook route does not exist.
 */
import t from 'tap';
import { liveClient, startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

type Live = { type: string; [k: string]: unknown };
const internalAlarm = (where: RegExp) => (m: Live) => {
  if (m.type !== 'event') return false;
  const e = m.event as { kind: string; severity: string; data?: { where?: string } };
  return e.kind === 'internal.error' && e.severity === 'alarm' && where.test(e.data?.where ?? '');
};

t.test('a fault in a monitor, a reconciler and an API handler: alarm + log line each, and the loop goes on', async (t) => {
  const { dir, cleanup } = await scratchDir('chaos-faults');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir, '', { holdDownS: 1 });
  const sup = await startSupervisor(file, port, { VAKTPOST_TEST_HOOKS: '1' });
  t.teardown(() => sup.kill('SIGKILL'));
  const live = await liveClient(sup.url, sup.token());
  t.teardown(() => live.close());
  await live.next((m) => m.type === 'snapshot', 15_000);

  for (const [place, where, logged] of [
    ['monitor', /^monitor sim: poll$/, 'internal fault in monitor sim: poll'],
    ['reconciler', /^reconciler .*: drift check$/, 'drift check: test hook: fault injected in the reconciler'],
  ] as const) {
    const r = await sup.api('POST', '/api/test/fault', { place });
    t.equal(r.status, 200, `${place} fault armed`);
    const m = await live.next(internalAlarm(where), 30_000);
    t.ok(m, `an internal.error alarm from the ${place}`);
    await waitFor(() => sup.output().includes(logged), { timeoutMs: 10_000, what: `the ${place} fault in the log` });
    t.pass(`a log line names the ${place} and the cause`);
    t.equal(sup.child.exitCode, null, 'the process is still up');
  }

  const r = await sup.api<{ error: string }>('POST', '/api/test/fault', { place: 'api' });
  t.equal(r.status, 500, 'the API handler fault answers 500');
  t.notMatch(r.json.error, /test hook|at .*\.ts/, 'with a generic message, no cause or stack for the client');
  await live.next(internalAlarm(/^API POST \/api\/test\/fault$/), 30_000);
  t.pass('an internal.error alarm names the API route');
  await waitFor(() => /"msg":"request failed"/.test(sup.output()) && sup.output().includes('test hook: fault injected in the api'), {
    timeoutMs: 10_000,
    what: 'the API fault in the log',
  });
  t.pass('and a log line with the cause');

  // The loop keeps deciding: a fault still moves the route.
  const sinceMsg = live.messages.length;
  await sup.api('POST', '/api/sim/fault', { fault: 'power-low-battery' });
  const change = await live.next(
    (m) => live.messages.indexOf(m) >= sinceMsg && m.type === 'decision' && (m.decision as { routeChanged: boolean }).routeChanged,
    30_000,
  );
  t.equal((change.decision as { route: string }).route, 'backup', 'the route still moves after the faults');
  const st = await sup.api<{ signals: Array<{ key: string; status: string }> }>('GET', '/api/status');
  t.equal(st.json.signals.find((s) => s.key === 'system.internal')?.status, 'warn', 'system.internal shows the recent fault');
  t.equal(sup.child.exitCode, null, 'the process is still up');
});

t.test('without VAKTPOST_TEST_HOOKS there is no fault route', async (t) => {
  const { dir, cleanup } = await scratchDir('chaos-nohooks');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port, { VAKTPOST_TEST_HOOKS: '' });
  t.teardown(() => sup.kill('SIGKILL'));
  const r = await sup.api('POST', '/api/test/fault', { place: 'api' });
  t.equal(r.status, 404, 'not found');
});
