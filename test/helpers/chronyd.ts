/**
 * Starts a real client chronyd for tests that never touches the system clock
 * (`-x`), syncs only from a test NTP server on 127.0.0.1, serves no NTP
 * (`port 0`) and answers chronyc only on its own Unix socket. Every path
 * (pid, drift, socket) lives in a scratch dir that `stop()` removes.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { scratchDir, waitFor } from './util.js';

const execFileP = promisify(execFile);

export const CHRONYD = process.env.CHRONYD ?? '/usr/sbin/chronyd';
export const CHRONYC = process.env.CHRONYC ?? '/usr/bin/chronyc';

export interface ChronydOptions {
  serverPort: number;
  serverHost?: string;
  /** log2 seconds; -2 = 0.25 s, the fastest chronyd allows for a server. */
  minpoll?: number;
  maxpoll?: number;
  /** NTP port chronyd serves on 127.0.0.1 (default 0 = serves no NTP). */
  ntpPort?: number;
  /** UDP command port on 127.0.0.1 (default 0 = Unix socket only). */
  cmdPort?: number;
  /** Directives placed first (e.g. a production chrony.conf with its paths stripped). */
  baseConf?: string[];
  /** Extra lines for chrony.conf, placed last. */
  extraConf?: string[];
  /** Resolve only once chronyd has selected the server (default true). */
  waitForSync?: boolean;
}

export interface ChronydHandle {
  readonly dir: string;
  readonly socketPath: string;
  readonly confPath: string;
  readonly pid: number;
  /** chronyd's stderr so far (for failure messages). */
  log(): string;
  /** Run `chronyc -n -h <socket> <args>` and return stdout. */
  chronyc(...args: string[]): Promise<string>;
  /** SIGTERM, wait for exit (SIGKILL after 3 s); idempotent. Keeps the scratch dir. */
  kill(): Promise<void>;
  /** kill() and remove the scratch dir; idempotent. */
  stop(): Promise<void>;
}

async function chronyUser(): Promise<{ uid: number; gid: number }> {
  // chronyd drops root to _chrony and refuses a socket dir it does not own ("Wrong permissions").
  const { stdout: uid } = await execFileP('id', ['-u', '_chrony']);
  const { stdout: gid } = await execFileP('id', ['-g', '_chrony']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

async function killAndWait(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

export async function startChronyd(opts: ChronydOptions): Promise<ChronydHandle> {
  if (userInfo().uid !== 0) throw new Error('startChronyd needs root (chronyd drops privileges to _chrony)');
  const scratch = await scratchDir('chronyd');
  const { dir } = scratch;
  // _chrony must traverse the scratch dir to reach its run dir.
  await chmod(dir, 0o755);
  const runDir = path.join(dir, 'run');
  await mkdir(runDir);
  const { uid, gid } = await chronyUser();
  await chown(runDir, uid, gid);
  await chmod(runDir, 0o770);

  const socketPath = path.join(runDir, 'chronyd.sock');
  const confPath = path.join(dir, 'chrony.conf');
  const conf = [
    ...(opts.baseConf ?? []),
    `server ${opts.serverHost ?? '127.0.0.1'} port ${opts.serverPort} minpoll ${opts.minpoll ?? -2} maxpoll ${opts.maxpoll ?? 0} iburst`,
    ...(opts.ntpPort ? [`port ${opts.ntpPort}`, 'bindaddress 127.0.0.1'] : ['port 0']),
    // Default no UDP command port: several test chronyds may run at once.
    `cmdport ${opts.cmdPort ?? 0}`,
    ...(opts.cmdPort ? ['bindcmdaddress 127.0.0.1'] : []),
    `bindcmdaddress ${socketPath}`,
    // chronyd removes its pidfile after dropping to _chrony: keep it in the _chrony-owned dir.
    `pidfile ${path.join(runDir, 'chronyd.pid')}`,
    `driftfile ${path.join(runDir, 'drift')}`,
    ...(opts.extraConf ?? []),
    '',
  ].join('\n');
  await writeFile(confPath, conf);

  const child = spawn(CHRONYD, ['-x', '-d', '-f', confPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  // If the test process ends without its teardown (crash, process.exit), take chronyd along.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  let stopped = false;
  const handle: ChronydHandle = {
    dir,
    socketPath,
    confPath,
    get pid() {
      // Never hand out a placeholder: process.kill(-1, …) would signal every process.
      if (child.pid === undefined) throw new Error('chronyd has no pid (it failed to spawn)');
      return child.pid;
    },
    log: () => stderr,
    chronyc: async (...args: string[]) => {
      const { stdout } = await execFileP(CHRONYC, ['-n', '-h', socketPath, ...args], { timeout: 5000 });
      return stdout;
    },
    kill: () => killAndWait(child),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await killAndWait(child);
      await scratch.cleanup();
    },
  };

  try {
    await Promise.race([
      waitFor(() => existsSync(socketPath) || child.exitCode !== null, { timeoutMs: 30_000, what: 'chronyd command socket' }),
      spawnError.then((e) => Promise.reject(e)),
    ]);
    if (child.exitCode !== null) throw new Error(`chronyd exited with ${child.exitCode}: ${stderr.trim()}`);
    if (opts.waitForSync ?? true) {
      await waitFor(async () => (await handle.chronyc('-c', 'sources')).split('\n').some((l) => l.split(',')[1] === '*'), {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'chronyd to select the test NTP server',
      });
    }
  } catch (err) {
    await handle.stop();
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`${why}\nchronyd log:\n${stderr}`);
  }
  return handle;
}
