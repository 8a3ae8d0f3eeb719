/**
 * Issue 16 #3 with the real supervisor process: SIGSTOP for ~10 s, SIGCONT → a
 * `supervisor.stalled` event (warn) saying how long Vaktpost was not running, with the
 * gap in its data. (The in-process details — order, stale signals — : stall-inprocess.test.ts.)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { waitFor } from '../../helpers/util.js';

interface Ev {
  kind: string;
  severity: string;
  en: string;
  nb: string;
  data: { gapMs: number; limitMs: number } | null;
}

t.test('SIGSTOP ~10 s → supervisor.stalled with the gap', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-stall-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const pid = sup.child.pid;
  // Never signal pid 0/1 (or our own group): only the child we started.
  if (pid === undefined || pid <= 1 || pid === process.pid) {
    t.fail(`no usable supervisor pid (${pid})`);
    return;
  }
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {}
  });
  const stalled = async () => (await sup.api<{ events: Ev[] }>('GET', '/api/events?kind=supervisor.stalled')).json.events;
  await waitFor(async () => (await sup.api<{ mode: string }>('GET', '/api/status')).json.mode !== undefined, { timeoutMs: 60_000, what: 'status' });
  t.same(await stalled(), [], 'no stall recorded while it runs');

  process.kill(pid, 'SIGSTOP');
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, 10_000));
  process.kill(pid, 'SIGCONT');
  const stoppedMs = performance.now() - t0;
  const ev = await waitFor(async () => (await stalled())[0], { timeoutMs: 60_000, what: 'a supervisor.stalled event' });
  t.equal(ev.severity, 'warn');
  t.match(ev.en, /^Vaktpost was not running for \d+\.\d s/, ev.en);
  t.match(ev.nb, /^Vaktpost kjørte ikke på \d+\.\d s/);
  const gap = ev.data?.gapMs ?? 0;
  t.ok(gap >= 9000, `gap in data ${gap} ms (stopped for ${stoppedMs.toFixed(0)} ms)`);
  t.comment(`SIGSTOP ${stoppedMs.toFixed(0)} ms → recorded gap ${gap} ms`);
});
