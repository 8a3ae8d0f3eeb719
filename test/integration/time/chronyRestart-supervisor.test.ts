/**
 * Acceptance (issue #15, time edge at supervisor level): a chronyd restart with a
 * good clock is not a time failure for the real daemon. The real supervisor
 * (`vaktpost run`, box.hardware: real, policy.failoverOn: [time]) asks a real
 * chronyd (-x) that follows the test NTP server; chronyd is stopped for ~3 s and
 * started again in place (same config, socket and drift file). The route is read
 * from the supervisor's store (decisions) and the alarms from its events.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import t from 'tap';
import { ChronycClient } from '../../../hardware/chrony/index.js';
import { CHRONYC, startChronyd } from '../../helpers/chronyd.js';
import { startNtpServer } from '../../helpers/ntpServer.js';
import { startSupervisor } from '../../helpers/supervisorProcess.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';
import { respawnChronyd } from './restart.js';

/** A settled chronyd (as on a box that has run a while): 1000 ppm × 3 s = 3 ms of holdover growth. */
const SETTLED_SKEW_PPM = 1000;
const STOPPED_MS = 3000;
/** Awaited states: generous, for a busy 2-core machine (longer = "never", not "slow"). */
const WAIT_MS = 90_000;

interface Status {
  route: string;
  mode: string;
  health: Record<string, { status: string }>;
  signals: Array<{ key: string; status: string; detail?: string }>;
}

t.test('supervisor: chronyd restarted (stopped ~3 s) with a good clock — no route change, no time alarm', async (t) => {
  const server = await startNtpServer({ leap: 0 });
  t.teardown(() => server.close());
  const chronyd = await startChronyd({ serverPort: server.port, waitForSync: true });
  t.teardown(() => chronyd.stop());
  const client = new ChronycClient({ chronycPath: CHRONYC, host: chronyd.socketPath, timeoutMs: 2000 });

  const { dir, cleanup } = await scratchDir('time-sup');
  t.teardown(cleanup);
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    [
      'box:',
      '  name: time-test',
      `  dataDir: ${path.join(dir, 'data')}`,
      '  hardware: real',
      'api:',
      '  listen: 127.0.0.1',
      `  port: ${port}`,
      'policy:',
      '  failbackHoldS: 600',
      '  holdDownS: 5',
      '  tickMs: 100',
      '  failoverOn: [time]',
      'time:',
      `  chronyc: { path: ${CHRONYC}, socket: ${chronyd.socketPath}, timeoutMs: 2000 }`,
      '  pollMs: 250',
      // The test thresholds of the time rig: spec limits, short hold / loss / grace.
      '  warnS: 0.5',
      '  failS: 1.0',
      '  clearHoldS: 4',
      '  maxSourceLossS: 30',
      '  holdoverDriftPpm: 50',
      '  startupGraceS: 20',
      '',
    ].join('\n'),
  );
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const status = async () => (await sup.api<Status>('GET', '/api/status')).json;
  const timeStatus = async () => (await status()).health.time?.status;

  await waitFor(async () => ((await timeStatus()) === 'ok' ? true : null), { timeoutMs: WAIT_MS, intervalMs: 200, what: 'time ok in /api/status' });
  t.equal((await status()).route, 'local', 'starts on local with time ok');
  const settled = await waitFor(
    async () => {
      const tr = await client.tracking();
      return tr.skewPpm < SETTLED_SKEW_PPM ? tr : null;
    },
    { timeoutMs: WAIT_MS, intervalMs: 250, what: `chronyd's skew estimate below ${SETTLED_SKEW_PPM} ppm` },
  );
  t.comment(`chronyd settled: skew ${settled.skewPpm} ppm, root dispersion ${settled.rootDispersionS} s`);
  // Let the supervisor take at least one good reading of the settled chronyd.
  await waitFor(async () => ((await timeStatus()) === 'ok' ? true : null), { timeoutMs: WAIT_MS, intervalMs: 200, what: 'time still ok' });

  const db = new Database(path.join(sup.dataDir, 'vaktpost.db'), { readonly: true, fileMustExist: true });
  t.teardown(() => db.close());
  const lastEventId = () => (db.prepare('SELECT coalesce(max(id), 0) AS n FROM events').get() as { n: number }).n;
  const eventsBefore = lastEventId();

  // Restart: stop chronyd; the supervisor must see it gone before it comes back.
  const at = performance.now();
  await chronyd.kill();
  const seenDown = await waitFor(
    async () => {
      const s = await status();
      return s.health.time?.status !== 'ok' ? s : null;
    },
    { timeoutMs: WAIT_MS, intervalMs: 100, what: 'the supervisor to notice chronyd is down' },
  );
  t.not(seenDown.health.time?.status, 'fail', 'chronyd down: time is not a failure');
  const offset = seenDown.signals.find((s) => s.key === 'time.offset');
  t.comment(`chronyd down → time ${seenDown.health.time?.status}; time.offset ${offset?.status}: ${offset?.detail}`);
  const bound = seenDown.signals.find((s) => s.key === 'time.errorBound');
  t.comment(`time.errorBound ${bound?.status}: ${bound?.detail}`);
  // "Stopped ~3 s" is the scenario length (at least; a busy machine only adds).
  await waitFor(() => performance.now() - at >= STOPPED_MS, { timeoutMs: WAIT_MS, intervalMs: 50, what: `${STOPPED_MS} ms stopped` });
  respawnChronyd(t, chronyd);

  await waitFor(async () => ((await timeStatus()) === 'ok' ? true : null), {
    timeoutMs: WAIT_MS,
    intervalMs: 200,
    what: 'time ok again after chronyd restarted',
  });
  t.comment(`chronyd restart → time ok again ${(performance.now() - at).toFixed(0)} ms after it was stopped`);
  t.equal((await status()).route, 'local', 'still on local');

  const changes = db.prepare('SELECT id, route, previous_route, reasons_json FROM decisions WHERE route_changed = 1').all();
  t.same(changes, [], 'the store has no route change: calls never moved');
  t.ok((db.prepare('SELECT count(*) AS n FROM decisions').get() as { n: number }).n > 0, 'the supervisor did record decisions');
  const alarms = db.prepare(`SELECT kind, severity, subsystem, message_en FROM events WHERE severity = 'alarm' AND subsystem = 'time'`).all();
  t.same(alarms, [], 'the store has no time alarm');
  const during = db.prepare('SELECT kind, severity, subsystem, message_en FROM events WHERE id > ? ORDER BY id').all(eventsBefore) as Array<{
    kind: string;
    severity: string;
    subsystem: string | null;
    message_en: string;
  }>;
  for (const e of during) t.comment(`event ${e.severity} ${e.subsystem ?? '-'} ${e.kind}: ${e.message_en}`);
  const timeSamples = db.prepare(`SELECT DISTINCT key, status FROM signal_samples WHERE subsystem = 'time' AND status = 'fail'`).all() as Array<{
    key: string;
    status: string;
  }>;
  t.same(timeSamples, [], 'no time signal sample was ever fail');
});
