/**
 * The failover drill through the real supervisor process on the simulated box:
 * passes and records every step; fails loudly when the backup does not answer;
 * is skipped (with the reason recorded) while the box is failed over.
 */
import { spawnSync } from 'node:child_process';
import t from 'tap';
import { startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

interface DrillResult {
  outcome: string;
  reason?: string;
  steps: Array<{ step: string; ok: boolean; detail: string }>;
}

t.test('drill on demand: pass, fail loudly, skip', async (t) => {
  const { dir, cleanup } = await scratchDir('drill');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  await waitFor(async () => (await sup.api<{ mode: string }>('GET', '/api/status')).json.mode === 'normal', { timeoutMs: 30_000, what: 'normal mode' });

  const pass = await sup.api<DrillResult>('POST', '/api/drill', {});
  t.equal(pass.status, 200);
  t.equal(pass.json.outcome, 'passed', JSON.stringify(pass.json.steps));
  const names = pass.json.steps.map((s) => s.step);
  t.ok(names.includes('switch-to-backup') && names.includes('switch-to-local'), 'both switches recorded');
  t.ok(names.some((n) => n.startsWith('verify-backup:sim-router')) && names.some((n) => n.startsWith('verify-local:sim-router')), 'both paths verified');
  t.ok(names.indexOf('switch-to-backup') < names.indexOf('switch-to-local'), 'backup first, then back');
  const after = await sup.api<{ route: string; mode: string; override: unknown }>('GET', '/api/status');
  t.equal(after.json.route, 'local', 'calls back on local after the drill');
  t.equal(after.json.override, null, 'no override left behind');
  const events = await sup.api<{ events: Array<{ kind: string }> }>('GET', '/api/events?limit=200');
  const kinds = events.json.events.map((e) => e.kind);
  t.ok(kinds.includes('drill.start') && kinds.includes('drill.passed'), 'start and result recorded');
  t.ok(kinds.filter((k) => k === 'drill.step').length >= 4, 'each step recorded');

  await sup.api('POST', '/api/sim/fault', { fault: 'backup-centre-down' });
  const cli = spawnSync(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'drill', '-c', file], { encoding: 'utf8' });
  t.equal(cli.status, 3, '`vaktpost drill` exits 3 on a failed drill');
  t.match(cli.stdout, /drill: failed/);
  t.match(cli.stdout, /FAIL verify-backup:sim-router: .*no answer/, 'names the step and why');
  const alarm = await sup.api<{ events: Array<{ kind: string; severity: string; en: string }> }>('GET', '/api/events?kind=drill.failed');
  t.equal(alarm.json.events[0]?.severity, 'alarm', 'a failed drill is an alarm');
  t.equal((await sup.api<{ route: string }>('GET', '/api/status')).json.route, 'local', 'returned to local even after a failed drill');

  await sup.api('POST', '/api/sim/fault', { fault: 'centres-restored' });
  await sup.api('POST', '/api/sim/fault', { fault: 'wan-down' });
  await waitFor(async () => (await sup.api<{ route: string }>('GET', '/api/status')).json.route === 'backup', { timeoutMs: 30_000, what: 'failover' });
  const skipped = await sup.api<DrillResult>('POST', '/api/drill', {});
  t.equal(skipped.json.outcome, 'skipped');
  t.match(skipped.json.reason ?? '', /failover/, 'the reason is recorded');
});
