/**
 * Who the Node-RED child runs as, and the one folder that user owns.
 *
 * A technician who can deploy flows can run code (a Function node reaches `process`), so
 * the child must not run as the supervisor: as root it could read the CLI token (and make
 * an admin), the store with its password hashes, and the audio archive. When the
 * supervisor is root the child runs as `flows.user` (uid/gid given to fork; libuv drops
 * the supplementary groups), in its own home beside the data dir, with an environment
 * that carries none of the supervisor's. A supervisor that is not root cannot switch
 * user: then the child runs as it is, and that is said (log line, check-config, status).
 */
import { execFileSync, spawn } from 'node:child_process';
import { userInfo } from 'node:os';
import { chmodSync, closeSync, constants, fchmodSync, fchownSync, fstatSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';

export type FlowsIdentity =
  | { isolated: true; user: string; uid: number; gid: number }
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

export function resolveFlowsIdentity(user: string): FlowsIdentity {
  const myUid = process.getuid?.() ?? 0;
  const myGid = process.getgid?.() ?? 0;
  if (myUid !== 0) {
    let me = String(myUid);
    try {
      me = userInfo().username;
    } catch {}
    return {
      isolated: false,
      user: me,
      uid: myUid,
      gid: myGid,
      why: `the supervisor runs as uid ${myUid}, not root, so it cannot start the flows as "${user}": the flows run as the supervisor's own user and can read everything it can`,
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
  return { isolated: true, user, uid, gid };
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
    if (id.isolated) {
      const st = fstatSync(fd);
      if (st.uid !== id.uid || st.gid !== id.gid) fchownSync(fd, id.uid, id.gid);
    }
    fchmodSync(fd, 0o700);
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
    const p = spawn(process.execPath, ['-e', 'require("node:fs").rmSync(process.argv[1], { recursive: true, force: true })', dir], {
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
