/**
 * Acceptance (power #2): the real supervisor process, a real upsd + dummy-ups, and
 * the route path through the real upstream webhook (a real HTTP server). Low
 * battery with low runtime moves the route to backup, the backup path is confirmed,
 * and only then the shutdown command runs — the order is read from the store.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t, { type Test } from 'tap';
import { startRecorder } from '../upstream/fixtures/upstreamServer.js';
import { startNutRig } from '../../helpers/nut.js';
import { startSupervisor } from '../../helpers/supervisorProcess.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';

async function setup(t: Test) {
  const nut = await startNutRig({ ups: ['ups1'], pollIntervalS: 1 });
  t.teardown(() => nut.close());
  const upstream = await startRecorder();
  t.teardown(() => upstream.stop());
  upstream.answer = () => ({ status: 200, body: '{}', contentType: 'application/json' });
  const { dir, cleanup } = await scratchDir('shutdown');
  t.teardown(cleanup);
  const marker = path.join(dir, 'shutdown-ran');
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    [
      'box:',
      '  name: power-test',
      `  dataDir: ${path.join(dir, 'data')}`,
      '  hardware: real',
      'api:',
      '  listen: 127.0.0.1',
      `  port: ${port}`,
      'policy:',
      '  failbackHoldS: 600',
      '  holdDownS: 5',
      '  tickMs: 100',
      'power:',
      '  ups:',
      `    - { name: ups1, host: ${nut.host}, port: ${nut.port}, pollMs: 250 }`,
      '  policy:',
      '    minRuntimeS: 300',
      `    shutdownCommand: ["/usr/bin/touch", "${marker}"]`,
      'time:',
      '  chronyc: { socket: /nonexistent/chronyd.sock }',
      'upstream:',
      '  webhook:',
      `    url: ${upstream.url}/reroute`,
      `    bodyTemplate: '{"to":"{{route}}"}'`,
      '',
    ].join('\n'),
  );
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const status = async () => (await sup.api<{ route: string; health: Record<string, { status: string }> }>('GET', '/api/status')).json;
  await waitFor(async () => (await status()).health.power?.status === 'ok', { timeoutMs: 30_000, what: 'power ok from upsd' });
  t.equal((await status()).route, 'local');
  return { nut, upstream, sup, marker, status };
}

t.test('LB + low runtime: route to backup, confirm, record — then shutdown', async (t) => {
  const { nut, upstream, sup, marker, status } = await setup(t);

  await nut.setStatus('ups1', 'OB LB', { 'battery.runtime': 90, 'battery.charge': 9 });
  await waitFor(() => existsSync(marker), { timeoutMs: 30_000, what: 'shutdown command to run' });
  t.equal((await status()).route, 'backup', 'calls are on backup');

  const db = new Database(path.join(sup.dataDir, 'vaktpost.db'), { readonly: true });
  t.teardown(() => db.close());
  const change = db.prepare(`SELECT id, at, reasons_json FROM decisions WHERE route_changed = 1 AND route = 'backup' ORDER BY id LIMIT 1`).get() as {
    id: number;
    at: number;
    reasons_json: string;
  };
  const applied = db.prepare(`SELECT id, at FROM actions WHERE kind = 'apply' AND target = 'backup' AND ok = 1 ORDER BY id LIMIT 1`).get() as {
    id: number;
    at: number;
  };
  const start = db.prepare(`SELECT id, at, message_en FROM events WHERE kind = 'shutdown.start'`).get() as { id: number; at: number; message_en: string };
  const requested = db.prepare(`SELECT id, at, message_en FROM events WHERE kind = 'shutdown.requested'`).get() as {
    id: number;
    at: number;
    message_en: string;
  };
  const ran = db.prepare(`SELECT message_en FROM events WHERE kind = 'shutdown.command'`).get() as { message_en: string };
  t.ok(change && applied && start && requested && ran, 'every step is recorded');
  // The shutdown request comes with the failover: both follow from the same low battery.
  // Shown by cause, not by a time window: the failover names the power reason, and the
  // request names that same reason — or the failover names the shutdown's own safety
  // floor (system.shutdown, which only the request sets).
  const why = (JSON.parse(change.reasons_json) as Array<{ code: string; en: string }>).filter((r) =>
    ['power.lowBattery', 'power.lowRuntime', 'power.fsd', 'system.shutdown'].includes(r.code),
  );
  t.ok(why.length > 0, `the failover was for the power (${change.reasons_json})`);
  t.ok(
    why.some((r) => r.code === 'system.shutdown' || requested.message_en.includes(r.en)),
    `the shutdown request and the failover share a cause: ${requested.message_en}`,
  );
  t.comment(`failover decision → shutdown request: ${requested.at - change.at} ms`);
  t.ok(change.at <= applied.at, 'decision to backup is stored before the actuator acted');
  t.ok(applied.at <= start.at, 'the backup route was applied before the shutdown started');
  const route = db.prepare(`SELECT route FROM decisions WHERE at <= ? ORDER BY id DESC LIMIT 1`).get(start.at) as { route: string };
  t.equal(route.route, 'backup', 'at shutdown start the stored target is backup');
  t.match(start.message_en, /Calls confirmed on backup/);
  t.match(ran.message_en, /ran/);
  t.ok(
    upstream.requests.some((r) => r.body.includes('"to":"backup"')),
    'the upstream was told to route to backup',
  );
});

t.test('no shutdown while calls are not confirmed on backup', async (t) => {
  const { nut, upstream, sup, marker } = await setup(t);
  upstream.answer = () => ({ status: 503, body: 'maintenance' });
  await nut.setStatus('ups1', 'OB LB', { 'battery.runtime': 90, 'battery.charge': 9 });
  const waiting = await waitFor(
    async () => (await sup.api<{ events: Array<{ kind: string; en: string }> }>('GET', '/api/events?kind=shutdown.waiting')).json.events[0],
    { timeoutMs: 30_000, what: 'the shutdown.waiting alarm' },
  );
  t.match(waiting.en, /Shutdown held back/, 'an alarm says why the shutdown waits');
  t.notOk(existsSync(marker), 'the shutdown command has not run');
  upstream.answer = () => ({ status: 200, body: '{}', contentType: 'application/json' });
  await waitFor(() => existsSync(marker), { timeoutMs: 30_000, what: 'shutdown once the upstream accepts the reroute' });
  t.pass('shutdown ran once the backup route was confirmed');
});
