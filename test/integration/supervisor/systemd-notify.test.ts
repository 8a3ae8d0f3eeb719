/**
 * The real supervisor process under a notify socket, as vaktpost.service (Type=notify,
 * WatchdogSec=) runs it: READY=1 once it is up with the route in STATUS=, WATCHDOG=1
 * while its decision loop runs, none while the process is stopped (SIGSTOP: what the
 * systemd watchdog must notice), pings again after SIGCONT. And with stdout being "the
 * journal" (JOURNAL_STREAM), the first admin password is not printed — only where it is.
 */
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { startNotifySocket } from '../../helpers/notifySocket.js';
import { startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { waitFor } from '../../helpers/util.js';

const repo = path.resolve(import.meta.dirname, '../../..');

/** The pids of the live children of `pid` (here: systemd-notify in flight). A finished one stays a zombie until its stopped parent reaps it: not counted. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') out.push(Number(e));
    } catch {}
  }
  return out;
}

t.test('READY=1 after start, WATCHDOG=1 while the loop runs, none while it is stopped', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-notify-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const sock = await startNotifySocket();
  t.teardown(() => sock.close());
  const { file, port } = await writeSimConfig(dir);
  // WatchdogSec=0.6 s → a ping at most every 200 ms; ticks every 100 ms.
  const sup = await startSupervisor(file, port, { NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '600000' });
  t.teardown(() => sup.kill('SIGKILL'));
  const pid = sup.child.pid;
  if (pid === undefined || pid <= 1 || pid === process.pid) {
    t.fail(`no usable supervisor pid (${pid})`);
    return;
  }
  t.teardown(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {}
  });

  const ready = await sock.next((m) => m.has('READY=1'), { what: 'READY=1' });
  t.match(ready.get('STATUS'), /^route local, mode \w+, call path \w+ \(rute lokal, modus \w+\)$/, `STATUS= says where calls go: ${ready.get('STATUS')}`);
  const first = await sock.next((m) => m.has('WATCHDOG=1'), { what: 'a first WATCHDOG=1' });
  await sock.next((m) => m.has('WATCHDOG=1'), { from: first.n + 1, what: 'a second WATCHDOG=1' });
  t.pass('WATCHDOG=1 repeats while the decision loop runs');

  process.kill(pid, 'SIGSTOP');
  // A systemd-notify started just before the stop may still deliver: let those finish first.
  await waitFor(() => childrenOf(pid).length === 0, { timeoutMs: 10_000, what: 'in-flight systemd-notify to finish' });
  await sock.sync();
  const before = sock.messages.length;
  // Five watchdog intervals with the process stopped: systemd would have killed it by now.
  // (An absence can only be observed over a span of time.)
  await new Promise((r) => setTimeout(r, 1000));
  await sock.sync();
  t.same(
    sock.messages.slice(before).filter((m) => m.has('WATCHDOG=1')),
    [],
    'no WATCHDOG=1 while the process is stopped',
  );
  process.kill(pid, 'SIGCONT');
  await sock.next((m) => m.has('WATCHDOG=1'), { from: before, what: 'WATCHDOG=1 after SIGCONT' });
  t.pass('pings resume when the loop runs again');

  await sup.kill('SIGTERM');
  await sock.sync();
  t.ok(
    sock.messages.some((m) => m.has('STOPPING=1')),
    'STOPPING=1 on SIGTERM',
  );
});

t.test('with stdout as the journal (JOURNAL_STREAM) the first admin password is not printed, only where it is', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-journal-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { file } = await writeSimConfig(dir);
  const outFile = path.join(dir, 'journal.txt');
  const fd = openSync(outFile, 'w');
  const st = fstatSync(fd);
  const child = spawn(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'run', '-c', file], {
    cwd: repo,
    env: { ...process.env, JOURNAL_STREAM: `${st.dev}:${st.ino}` },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise((r) => child.once('exit', r));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const out = await waitFor(
    () => {
      const s = readFileSync(outFile, 'utf8');
      if (child.exitCode !== null) throw new Error(`supervisor exited ${child.exitCode}: ${s}`);
      return s.includes('Vaktpost is running') ? s : null;
    },
    { timeoutMs: 60_000, what: 'the supervisor to start' },
  );
  const passwordFile = path.join(dir, 'data', 'initial-admin-password');
  const password = readFileSync(passwordFile, 'utf8').trim();
  t.ok(password.length >= 12, 'a password was generated and written to its file');
  t.notOk(out.includes(password), 'the password is nowhere in the journal');
  t.match(out, `its password is in ${passwordFile}`, 'the journal says where it is');
});
