/**
 * A real NUT stack for tests: `upsd` plus one `dummy-ups` driver per UPS,
 * in a scratch dir on a free 127.0.0.1 port (dummy-ups driver, upsd and upsmon as real daemons).
 *
 * NUT drops root to user `nut`: the config dir is 755 (readable by nut), the
 * state dir (driver sockets) is owned by nut, upsd.users is root:nut 640.
 * dummy-ups in its default `dummy-once` mode re-reads its `.dev` file only
 * when the file's mtime second changes, so `setVars` writes atomically and
 * moves the mtime forward by at least a second every time.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { access, chmod, chown, mkdir, readFile, rename, utimes, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { freePort, scratchDir, waitFor } from './util.js';

const NUT_LIB = '/lib/nut';

export interface NutRigOptions {
  /** UPS names (ups.conf sections). Default `['ups1']`. */
  ups?: string[];
  /** upsd MAXAGE: seconds without driver updates before DATA-STALE. NUT default 15; lower speeds up stale tests. */
  maxAgeS?: number;
  /** Driver pollinterval (s, ≥ 1). */
  pollIntervalS?: number;
  /** Variables every UPS starts with. */
  initial?: Record<string, string | number>;
  /** A upsd.users account with `upsmon secondary`. The password deliberately needs quoting on the wire. */
  user?: { name: string; password: string };
}

export interface NutRig {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  readonly user: { name: string; password: string };
  /** Write a UPS's complete variable set (atomically; the driver picks it up within ~1 s). */
  setVars(ups: string, vars: Record<string, string | number>): Promise<void>;
  /** `setVars` with the initial set plus the given overrides. */
  setStatus(ups: string, status: string, extra?: Record<string, string | number>): Promise<void>;
  /** One raw request/reply exchange with upsd (independent of the client under test). */
  query(line: string): Promise<string>;
  /** Wait until upsd reports `ups.status` equal to `status`. */
  waitForUpsdStatus(ups: string, status: string, timeoutMs?: number): Promise<void>;
  killDriver(ups: string): Promise<void>;
  pauseDriver(ups: string): void;
  resumeDriver(ups: string): void;
  startDriver(ups: string): Promise<void>;
  stopUpsd(): Promise<void>;
  startUpsd(): Promise<void>;
  /** SIGSTOP / SIGCONT upsd: it keeps its sockets but answers nothing (a hung daemon). */
  pauseUpsd(): void;
  resumeUpsd(): void;
  /**
   * Start upsmon (the peer) monitoring `ups`: its notifications (ONBATT, ONLINE, FSD, SHUTDOWN…)
   * go to `notifyFile` as `<epoch ns> <TYPE>` lines; as primary its SHUTDOWNCMD only appends
   * `<epoch ns> SHUTDOWNCMD` there (harmless).
   */
  startUpsmon(ups: string, opts: UpsmonOptions): Promise<void>;
  /** `upsmon -c fsd`: ask the running upsmon (primary) to force a shutdown. */
  upsmonFsd(): Promise<void>;
  /** Stop upsmon and wait until upsd no longer counts its login. */
  stopUpsmon(ups: string): Promise<void>;
  close(): Promise<void>;
}

export interface UpsmonOptions {
  pollFreqS: number;
  notifyFile: string;
  role?: 'primary' | 'secondary';
  /** How long a primary waits for secondaries to log out after setting FSD (NUT default 15). */
  hostSyncS?: number;
  /** Pause before SHUTDOWNCMD (NUT default 5). */
  finalDelayS?: number;
}

export const DEFAULT_VARS: Record<string, string | number> = {
  'ups.status': 'OL',
  'battery.charge': 100,
  'battery.charge.low': 20,
  'battery.runtime': 1800,
  'input.voltage': '230.0',
  'ups.load': 23,
};

export async function startNutRig(options: NutRigOptions = {}): Promise<NutRig> {
  const upsNames = options.ups ?? ['ups1'];
  const maxAge = options.maxAgeS ?? 15;
  const pollInterval = options.pollIntervalS ?? 1;
  const initial = { ...DEFAULT_VARS, ...(options.initial ?? {}) };
  const user = options.user ?? { name: 'vakt', password: 's3cr"et pw' };
  const { dir, cleanup } = await scratchDir('nut');
  const stateDir = path.join(dir, 'state');
  const host = '127.0.0.1';
  const port = await freePort(host);
  const procs = new Map<string, ChildProcess>();
  const mtimes = new Map<string, number>();
  const nutEnv = { ...process.env, NUT_CONFPATH: dir, NUT_STATEPATH: stateDir, NUT_ALTPIDPATH: stateDir };

  await chmod(dir, 0o755);
  await mkdir(stateDir, { mode: 0o750 });
  const nut = await nutIds();
  await chown(stateDir, nut.uid, nut.gid);

  const upsConf = upsNames
    .map((u) => `[${u}]\n  driver = dummy-ups\n  port = ${u}.dev\n  pollinterval = ${pollInterval}\n  desc = "Test UPS ${u}"\n`)
    .join('\n');
  await writeFile(path.join(dir, 'ups.conf'), upsConf, { mode: 0o644 });
  await writeFile(path.join(dir, 'upsd.conf'), `LISTEN ${host} ${port}\nMAXAGE ${maxAge}\n`, { mode: 0o640 });
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  await writeFile(
    path.join(dir, 'upsd.users'),
    `[${user.name}]\n  password = ${q(user.password)}\n  upsmon secondary\n\n[monpeer]\n  password = peerpw\n  upsmon primary\n`,
    { mode: 0o640 },
  );
  await chown(path.join(dir, 'upsd.conf'), 0, nut.gid);
  await chown(path.join(dir, 'upsd.users'), 0, nut.gid);

  // Last resort if the test process exits without its teardown (crash, tap timeout): no orphaned daemons.
  const killAll = () => {
    for (const c of procs.values()) {
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    }
  };
  process.once('exit', killAll);

  const logFd = (name: string) => openSync(path.join(dir, `${name}.log`), 'a');
  const run = (key: string, cmd: string, args: string[]): ChildProcess => {
    const fd = logFd(key);
    const child = spawn(cmd, args, { env: nutEnv, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    procs.set(key, child);
    child.once('exit', () => {
      if (procs.get(key) === child) procs.delete(key);
    });
    return child;
  };

  const setVars = async (ups: string, vars: Record<string, string | number>): Promise<void> => {
    const file = path.join(dir, `${ups}.dev`);
    const tmp = `${file}.tmp`;
    const body = Object.entries(vars)
      .map(([k, v]) => `${k}: ${v}\n`)
      .join('');
    await writeFile(tmp, body, { mode: 0o644 });
    await rename(tmp, file);
    // dummy-once re-reads only when the mtime *second* changes: always move it forward.
    const sec = Math.max(Math.floor(Date.now() / 1000), (mtimes.get(ups) ?? 0) + 1);
    mtimes.set(ups, sec);
    await utimes(file, sec, sec);
  };

  const query = (line: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const sock = net.connect(port, host);
      let buf = '';
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`upsd at ${host}:${port} did not answer "${line}" within 1000 ms`));
      }, 1000);
      sock.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      sock.on('connect', () => sock.write(`${line}\n`));
      sock.on('data', (d) => {
        buf += d.toString();
        const nl = buf.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          sock.destroy();
          resolve(buf.slice(0, nl));
        }
      });
    });

  const waitForUpsdStatus = async (ups: string, status: string, timeoutMs = 30_000): Promise<void> => {
    await waitFor(async () => (await query(`GET VAR ${ups} ups.status`)) === `VAR ${ups} ups.status "${status}"`, {
      timeoutMs,
      intervalMs: 10,
      what: `upsd to report ${ups} ups.status "${status}"`,
    });
  };

  const startDriver = async (ups: string): Promise<void> => {
    run(`driver-${ups}`, path.join(NUT_LIB, 'dummy-ups'), ['-a', ups, '-F']);
    await waitFor(() => exists(path.join(stateDir, `dummy-ups-${ups}`)), {
      timeoutMs: 30_000,
      what: `dummy-ups ${ups} to create its socket (log: ${dir}/driver-${ups}.log)`,
    });
  };

  const startUpsd = async (): Promise<void> => {
    run('upsd', path.join(NUT_LIB, 'upsd'), ['-F']);
    await waitFor(async () => (await query('VER')).startsWith('Network UPS Tools'), {
      timeoutMs: 30_000,
      what: `upsd to listen on ${host}:${port} (log: ${dir}/upsd.log)`,
    });
  };

  const signalProc = (key: string, sig: NodeJS.Signals): ChildProcess => {
    const child = procs.get(key);
    if (!child || child.pid === undefined) throw new Error(`${key} is not running`);
    process.kill(child.pid, sig);
    return child;
  };

  const stopProc = async (key: string): Promise<void> => {
    const child = procs.get(key);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(t);
  };

  const rig: NutRig = {
    host,
    port,
    dir,
    user,
    setVars,
    setStatus: (ups, status, extra = {}) => setVars(ups, { ...initial, ...extra, 'ups.status': status }),
    query,
    waitForUpsdStatus,
    killDriver: async (ups) => {
      const child = signalProc(`driver-${ups}`, 'SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once('exit', r));
    },
    pauseDriver: (ups) => void signalProc(`driver-${ups}`, 'SIGSTOP'),
    resumeDriver: (ups) => void signalProc(`driver-${ups}`, 'SIGCONT'),
    startDriver,
    stopUpsd: () => stopProc('upsd'),
    pauseUpsd: () => void signalProc('upsd', 'SIGSTOP'),
    resumeUpsd: () => void signalProc('upsd', 'SIGCONT'),
    startUpsd,
    startUpsmon: async (ups, { pollFreqS, notifyFile, role = 'secondary', hostSyncS = 15, finalDelayS = 5 }) => {
      const script = path.join(dir, 'notify.sh');
      const shutdown = path.join(dir, 'shutdown.sh');
      // upsmon runs NOTIFYCMD with the message as $1 and NOTIFYTYPE in the environment.
      await writeFile(script, `#!/bin/sh\necho "$(date +%s%N) $NOTIFYTYPE" >> ${notifyFile}\n`, { mode: 0o755 });
      await writeFile(shutdown, `#!/bin/sh\necho "$(date +%s%N) SHUTDOWNCMD" >> ${notifyFile}\n`, { mode: 0o755 });
      const flags = ['ONBATT', 'ONLINE', 'LOWBATT', 'FSD', 'SHUTDOWN'].map((f) => `NOTIFYFLAG ${f} EXEC`);
      await writeFile(
        path.join(dir, 'upsmon.conf'),
        [
          `MONITOR ${ups}@${host}:${port} 1 monpeer peerpw ${role}`,
          'MINSUPPLIES 1',
          `SHUTDOWNCMD "${shutdown}"`,
          `NOTIFYCMD ${script}`,
          ...flags,
          `POLLFREQ ${pollFreqS}`,
          `POLLFREQALERT ${pollFreqS}`,
          `HOSTSYNC ${hostSyncS}`,
          `FINALDELAY ${finalDelayS}`,
          `POWERDOWNFLAG ${path.join(dir, 'killpower')}`,
          '',
        ].join('\n'),
        { mode: 0o640 },
      );
      await chown(path.join(dir, 'upsmon.conf'), 0, nut.gid);
      // -p: one privileged process, so the pid we hold is the one that polls.
      run('upsmon', path.join(NUT_LIB, 'upsmon'), ['-F', '-p']);
      await waitFor(async () => (await query(`GET NUMLOGINS ${ups}`)) === `NUMLOGINS ${ups} 1`, {
        timeoutMs: 30_000,
        intervalMs: 50,
        what: `upsmon to log in to ${ups} (log: ${dir}/upsmon.log)`,
      });
    },
    upsmonFsd: async () => {
      const child = procs.get('upsmon');
      if (!child?.pid) throw new Error('upsmon is not running');
      await new Promise<void>((resolve, reject) => {
        const c = spawn(path.join(NUT_LIB, 'upsmon'), ['-c', 'fsd', '-P', String(child.pid)], { env: nutEnv, stdio: 'ignore' });
        c.once('error', reject);
        c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`upsmon -c fsd exited ${code}`))));
      });
    },
    stopUpsmon: async (ups) => {
      await stopProc('upsmon');
      await waitFor(async () => (await query(`GET NUMLOGINS ${ups}`)) === `NUMLOGINS ${ups} 0`, {
        timeoutMs: 30_000,
        intervalMs: 20,
        what: `upsd to drop upsmon's login on ${ups}`,
      });
    },
    close: async () => {
      process.removeListener('exit', killAll);
      await Promise.all([...procs.keys()].map((k) => stopProc(k)));
      await cleanup();
    },
  };

  try {
    for (const u of upsNames) await setVars(u, initial);
    for (const u of upsNames) await startDriver(u);
    await startUpsd();
    for (const u of upsNames) await waitForUpsdStatus(u, String(initial['ups.status']), 30_000);
  } catch (err) {
    await rig.close();
    throw err;
  }
  return rig;
}

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

/** uid/gid of the `nut` user the NUT daemons drop to. */
async function nutIds(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('nut:'));
  if (!line) throw new Error('no user "nut" — install nut-server (ops/install/debian-deps.sh)');
  const f = line.split(':');
  return { uid: Number(f[2]), gid: Number(f[3]) };
}
