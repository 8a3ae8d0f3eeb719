/**
 * Who the Node-RED child runs as, and the one folder that user owns.
 *
 * A technician who can deploy flows can run code (a Function node reaches `process`), so
 * the child must not run as the supervisor: it could read the CLI token (and make an
 * admin), the store with its password hashes, and the audio archive. When the supervisor
 * may switch user — it is root, or it holds CAP_SETUID and CAP_SETGID (the packaged
 * vaktpost.service runs as user `vaktpost` with exactly these, as ambient capabilities) —
 * the child runs as `flows.user` (uid/gid given to fork; libuv drops the supplementary
 * groups), in its own home beside the data dir, with an environment that carries none of
 * the supervisor's. Decided by the effective capabilities in /proc/self/status, not by
 * uid 0. A supervisor that cannot switch user: the child runs as it is, and that is said
 * (log line, check-config, status).
 *
 * Capabilities and the child: a root parent that switches to a non-root uid loses every
 * capability (the kernel clears them). A non-root parent does not: its ambient
 * CAP_SETUID would survive setuid() and execve() into the child, which could then switch
 * back to the supervisor's user. So the child is started through setpriv(1) (util-linux,
 * essential in Debian), which clears the ambient and inheritable sets before it executes
 * node: the child holds no capability at all (test/unit/flows/identity.test.ts).
 */
import { execFileSync, spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { chmodSync, closeSync, constants, existsSync, fchmodSync, fchownSync, fstatSync, mkdirSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';

export type FlowsIdentity =
  /** `via`: root switches and loses its capabilities; `capabilities` switches through CAP_SETUID/CAP_SETGID (see the header). */
  | { isolated: true; user: string; uid: number; gid: number; via: 'root' | 'capabilities' }
  | { isolated: false; user: string; uid: number; gid: number; why: string };

/** A setup problem that keeps the flows from starting (the message names the fix). */
export class FlowsIsolationError extends Error {}

function idOf(flag: '-u' | '-g', user: string): number | null {
  try {
    const out = execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return /^\d+$/.test(out) ? Number(out) : null;
  } catch {
    return null;
  }
}

const CAP_SETGID = 6;
const CAP_SETUID = 7;

/** The effective capability set of this process (`CapEff` in /proc/self/status), or 0n where there is none to read. */
export function effectiveCapabilities(statusFile = '/proc/self/status'): bigint {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(statusFile, 'utf8'));
    return m ? BigInt(`0x${m[1]}`) : 0n;
  } catch {
    return 0n;
  }
}

/** Whether this process may start a child under another uid and gid: root, or CAP_SETUID and CAP_SETGID. */
export function canSwitchUser(caps = effectiveCapabilities(), uid = process.getuid?.() ?? 0): boolean {
  if (uid === 0) return true;
  const has = (bit: number) => (caps & (1n << BigInt(bit))) !== 0n;
  return has(CAP_SETUID) && has(CAP_SETGID);
}

/** setpriv (util-linux): how a non-root parent starts the child without passing its capabilities on. */
export const SETPRIV = '/usr/bin/setpriv';
export const DROP_CAPABILITIES_ARGS = ['--inh-caps=-all', '--ambient-caps=-all', '--'] as const;

export function resolveFlowsIdentity(user: string): FlowsIdentity {
  const myUid = process.getuid?.() ?? 0;
  const myGid = process.getgid?.() ?? 0;
  if (!canSwitchUser(effectiveCapabilities(), myUid)) {
    let me = String(myUid);
    try {
      me = userInfo().username;
    } catch {}
    return {
      isolated: false,
      user: me,
      uid: myUid,
      gid: myGid,
      why: `the supervisor runs as uid ${myUid}, not root and without CAP_SETUID/CAP_SETGID, so it cannot start the flows as "${user}": the flows run as the supervisor's own user and can read everything it can`,
    };
  }
  const uid = idOf('-u', user);
  const gid = idOf('-g', user);
  if (uid === null || gid === null) {
    throw new FlowsIsolationError(
      `the flows user "${user}" does not exist; the flows run only as their own user, never as root — create it: useradd --system --no-create-home --shell /usr/sbin/nologin ${user} ` +
        `(flytbrukeren "${user}" finnes ikke; flytene kjører aldri som root — opprett den med useradd)`,
    );
  }
  if (uid === 0 || gid === 0) {
    throw new FlowsIsolationError(
      `flows.user "${user}" is root (uid ${uid}, gid ${gid}); the flows must run as an unprivileged user of their own — set flows.user to a system user (flows.user er root; bruk en egen systembruker)`,
    );
  }
  if (myUid !== 0 && !existsSync(SETPRIV)) {
    throw new FlowsIsolationError(
      `${SETPRIV} is missing: without it the flows child would inherit the supervisor's CAP_SETUID — install util-linux ` +
        `(${SETPRIV} mangler: uten den arver flytene overvåkerens rettigheter; installer util-linux)`,
    );
  }
  return { isolated: true, user, uid, gid, via: myUid === 0 ? 'root' : 'capabilities' };
}

/**
 * Creates (or takes back) the flows user's home: a real directory, owned by that user,
 * 0700. Opened with O_NOFOLLOW and changed through the descriptor, so a symlink put in
 * its place cannot make root hand some other file to the flows user.
 */
export function prepareFlowsHome(dir: string, id: FlowsIdentity): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let fd: number;
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch (err) {
    throw new FlowsIsolationError(`flows.homeDir ${dir} is not a plain directory (${(err as NodeJS.ErrnoException).code}) — remove it or set flows.homeDir`);
  }
  try {
    const st = fstatSync(fd);
    if (id.isolated && (st.uid !== id.uid || st.gid !== id.gid)) {
      if (id.via !== 'root') {
        // Without CAP_CHOWN (vaktpost.service has none) the package makes this folder.
        throw new FlowsIsolationError(
          `flows.homeDir ${dir} is owned by uid ${st.uid}, not by the flows user ${id.user} (uid ${id.uid}) — chown ${id.user}: ${dir} ` +
            `(flytenes hjemmemappe eies ikke av ${id.user}; kjør chown ${id.user}: ${dir})`,
        );
      }
      fchownSync(fd, id.uid, id.gid);
    }
    // Only the owner (or root) may change the mode: leave a right one alone.
    if ((st.mode & 0o7777) !== 0o700) fchmodSync(fd, 0o700);
  } finally {
    closeSync(fd);
  }
}

/**
 * The data dir must give "others" nothing: the flows user reaches nothing inside it
 * whatever mode a file there was created with (the store, the CLI token, the archive).
 */
export function closeDataDirToOthers(dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const mode = statSync(dataDir).mode & 0o7777;
  if (mode & 0o007) chmodSync(dataDir, mode & ~0o007);
}

/** The command line that runs `file args` as the flows user holding no capability (see the header). */
export function withoutCapabilities(id: FlowsIdentity, file: string, args: readonly string[]): [string, string[]] {
  return id.isolated && id.via === 'capabilities' ? [SETPRIV, [...DROP_CAPABILITIES_ARGS, file, ...args]] : [file, [...args]];
}

/** What the child sees of the environment: none of the supervisor's secrets or loaders. */
export function childEnvironment(home: string, user: string): NodeJS.ProcessEnv {
  const keep = ['PATH', 'LANG', 'LC_ALL', 'TZ', 'NODE_ENV'];
  const env: NodeJS.ProcessEnv = { HOME: home, USER: user, LOGNAME: user };
  for (const k of keep) if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

/**
 * Removes a folder in the flows home with the flows user's rights: root deleting a tree
 * that user controls could be steered (a directory swapped for a symlink) elsewhere.
 */
export async function removeAsFlowsUser(dir: string, id: FlowsIdentity): Promise<void> {
  if (!id.isolated) {
    rmSync(dir, { recursive: true, force: true });
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const [cmd, args] = withoutCapabilities(id, process.execPath, ['-e', 'require("node:fs").rmSync(process.argv[1], { recursive: true, force: true })', dir]);
    const p = spawn(cmd, args, {
      uid: id.uid,
      gid: id.gid,
      cwd: '/',
      env: childEnvironment('/', id.user),
      stdio: 'ignore',
    });
    p.once('error', reject);
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`removing ${dir} as the flows user failed (exit ${code})`))));
  });
}
