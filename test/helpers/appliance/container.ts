/**
 * Boots real systemd (PID 1) in the cached Debian rootfs with systemd-nspawn,
 * on a throwaway overlay, and runs commands inside it.
 *
 * - The cached rootfs is the read-only lower layer of an overlayfs mounted in a
 *   scratch dir; every write the container makes lands in the upper layer, which
 *   `stop()` deletes. The cache is never modified.
 * - nspawn runs with `--register=no --keep-unit --link-journal=no`: this host's
 *   PID 1 is not systemd (no machined, no system bus), and nspawn without those
 *   flags fails with "Failed to open system bus".
 * - The container gets its own network (lan.ts: eth0 198.51.100.2 on a veth to
 *   an "outside" namespace at 198.51.100.1), unless told to join an existing
 *   namespace; never the host's, where Debian's stock kamailio and rtpengine
 *   would take 5060 and 2223 from the other tests.
 * - Commands run through `nsenter --all` into the container's namespaces, with
 *   a clean environment (never the test runner's NODE_OPTIONS). nsenter'd
 *   processes stay in the host's cgroup and are not stopped by the container's
 *   shutdown: use `exec` for short commands and `systemd-run` inside for
 *   anything long-running.
 * - `stop()` always ends with no nspawn, no container process, no overlay mount
 *   and no scratch dir — clean poweroff first, then SIGTERM/SIGKILL — and is
 *   safe to call twice. If the test process exits without calling it, an exit
 *   hook kills the container and lazily unmounts the overlay; if it is killed
 *   outright, the next boot removes what it left (orphans.ts).
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../util.js';
import { type ApplianceLan, createLan } from './lan.js';
import { reapOrphans, SCRATCH_PREFIX, writeOwner } from './orphans.js';

const run = promisify(execFile);

/** The environment every command inside gets: nothing from the test runner. */
const INSIDE_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8', HOME: '/root', TERM: 'dumb' };

export interface BootOptions {
  /** The cached rootfs (rootfs.ts). */
  rootfs: string;
  /** Machine name = hostname inside. Default `vp-<random>`. */
  name?: string;
  /** Default: a fresh LAN (lan.ts). A path (e.g. /run/netns/NAME) joins that namespace instead. */
  networkNamespacePath?: string;
  /** How long systemd may take to reach running/degraded. Default 60 s ("never", not "slow": measured ~1 s). */
  bootTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ExecOptions {
  /** Written to the command's stdin. */
  input?: string | Buffer;
  /** Default 60 s; the command is killed and exec rejects after it. */
  timeoutMs?: number;
}

export type SystemState = 'running' | 'degraded';

function defaultLog(line: string): void {
  process.stderr.write(`appliance container: ${line}\n`);
}

export class ApplianceContainer {
  private stopped: Promise<{ nspawnExit: number | null }> | null = null;
  private readonly onProcessExit = () => this.killNow();

  private constructor(
    readonly name: string,
    /** The overlay's merged dir on the host (the container's / — but /tmp and /run inside are its own tmpfs). */
    readonly root: string,
    private readonly scratch: string,
    private readonly nspawn: ChildProcess,
    /** Host PID of the container's PID 1 (systemd). */
    readonly leaderPid: number,
    private readonly console: () => string,
    private readonly log: (line: string) => void,
    /** The box's LAN when the harness made it (null when it joined a given namespace). */
    readonly lan: ApplianceLan | null,
  ) {
    process.once('exit', this.onProcessExit);
  }

  /** Boot, and wait until systemd says running or degraded. */
  static async boot(opts: BootOptions): Promise<{ container: ApplianceContainer; state: SystemState; bootMs: number }> {
    const log = opts.log ?? defaultLog;
    if (process.getuid?.() !== 0) throw new Error('booting the appliance container needs root (overlay mount, systemd-nspawn)');
    if (!existsSync(path.join(opts.rootfs, 'usr/lib/systemd/systemd')))
      throw new Error(`${opts.rootfs} has no systemd — build it with applianceRootfs() (test/helpers/appliance/rootfs.ts)`);
    await requireNspawn();
    await reapOrphans(log);
    const started = performance.now();
    const name = opts.name ?? `vp-${randomBytes(4).toString('hex')}`;
    const scratch = await mkdtemp(path.join(os.tmpdir(), `${SCRATCH_PREFIX}${name}-`));
    writeOwner(scratch, { name });
    const root = path.join(scratch, 'root');
    await Promise.all(['upper', 'work', 'root'].map((d) => mkdir(path.join(scratch, d))));
    try {
      await run('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${opts.rootfs},upperdir=${scratch}/upper,workdir=${scratch}/work`, root]);
    } catch (err) {
      await rm(scratch, { recursive: true, force: true });
      throw new Error(`mounting the overlay on ${opts.rootfs} failed — is overlayfs available (modprobe overlay)? ${(err as Error).message}`);
    }

    let lan: ApplianceLan | null = null;
    if (!opts.networkNamespacePath) {
      try {
        lan = await createLan(name);
      } catch (err) {
        await run('umount', [root]).catch(() => undefined);
        await rm(scratch, { recursive: true, force: true });
        throw err;
      }
    }
    const netnsPath = opts.networkNamespacePath ?? `/run/netns/${lan?.box}`;
    // CAP_NET_ADMIN inside: nspawn withholds it when joining a namespace path, and nft (the firewall
    // units) fails with "cache initialization failed: Operation not permitted". The namespace is the
    // container's own, so the capability reaches nothing of the host's.
    const net = [`--network-namespace-path=${netnsPath}`, ...(lan ? ['--capability=CAP_NET_ADMIN'] : [])];
    const nspawn = spawn(
      'systemd-nspawn',
      ['-D', root, '-b', '--register=no', '--keep-unit', '--link-journal=no', `--machine=${name}`, '--console=pipe', ...net],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    writeOwner(scratch, { name, nspawnPid: nspawn.pid });
    let consoleOut = '';
    const keep = (d: Buffer) => {
      consoleOut = (consoleOut + d.toString()).slice(-30_000);
    };
    nspawn.stdout?.on('data', keep);
    nspawn.stderr?.on('data', keep);
    const tail = () => consoleOut.trim().split('\n').slice(-30).join('\n');
    const cleanupEarly = async () => {
      if (nspawn.exitCode === null && nspawn.signalCode === null) nspawn.kill('SIGKILL');
      await run('umount', ['-l', root]).catch(() => undefined);
      await rm(scratch, { recursive: true, force: true });
      lan?.removeSync();
    };

    let leaderPid: number;
    try {
      leaderPid = await waitFor(
        () => {
          if (nspawn.exitCode !== null || nspawn.signalCode !== null) throw new Error(`systemd-nspawn exited (${nspawn.exitCode ?? nspawn.signalCode})`);
          return nspawn.pid === undefined ? null : systemdChildOf(nspawn.pid);
        },
        { timeoutMs: 20_000, what: 'systemd as the container leader (a child of systemd-nspawn)' },
      );
    } catch (err) {
      await cleanupEarly();
      throw new Error(`systemd-nspawn did not start systemd in ${name}: ${(err as Error).message}. Console:\n${tail()}`);
    }

    writeOwner(scratch, { name, nspawnPid: nspawn.pid, leaderPid });
    const container = new ApplianceContainer(name, root, scratch, nspawn, leaderPid, () => consoleOut, log, lan);
    let state: string;
    try {
      // systemctl fails until PID 1 has its private socket; retry until it answers.
      state = await waitFor(
        async () => {
          const r = await container.exec(['systemctl', 'is-system-running', '--wait'], { timeoutMs: opts.bootTimeoutMs ?? 60_000 });
          const s = r.stdout.trim();
          return s === 'running' || s === 'degraded' || s === 'maintenance' || s === 'stopping' ? s : null;
        },
        { timeoutMs: opts.bootTimeoutMs ?? 60_000, intervalMs: 50, what: `systemd in ${name} to finish booting` },
      );
    } catch (err) {
      await container.stop();
      throw new Error(`${(err as Error).message}. Console:\n${tail()}`);
    }
    if (state !== 'running' && state !== 'degraded') {
      await container.stop();
      throw new Error(`systemd in ${name} ended its boot in state '${state}', not running/degraded. Console:\n${tail()}`);
    }
    const bootMs = performance.now() - started;
    log(`${name} booted (${state}) in ${(bootMs / 1000).toFixed(2)} s; leader pid ${leaderPid}, overlay ${root}`);
    return { container, state: state as SystemState, bootMs };
  }

  /** Run a command inside (all namespaces, clean env). Never rejects for a non-zero exit; rejects on timeout. */
  exec(cmd: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      // env -i inside as well: tap's process tracking adds NODE_OPTIONS (--import of its own loaders,
      // host paths) to every child it sees spawned, whatever env we pass here.
      const clean = Object.entries(INSIDE_ENV).map(([k, v]) => `${k}=${v}`);
      const child = spawn('nsenter', ['-t', String(this.leaderPid), '-a', '--', 'env', '-i', ...clean, ...cmd], {
        env: INSIDE_ENV,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`'${cmd.join(' ')}' in ${this.name} did not finish within ${timeoutMs} ms. Output so far:\n${stdout}${stderr}`));
      }, timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`nsenter into ${this.name} failed: ${err.message} — is util-linux installed and the container still up?`));
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ stdout, stderr, code: code ?? (signal ? 128 : 1) });
      });
      child.stdin.on('error', () => undefined); // a command that does not read its stdin closes it early
      child.stdin.end(opts.input ?? '');
    });
  }

  /** `exec` that rejects on a non-zero exit, with the command's output in the message. */
  async sh(script: string, opts: ExecOptions = {}): Promise<string> {
    const r = await this.exec(['sh', '-c', script], opts);
    if (r.code !== 0) throw new Error(`'${script}' in ${this.name} exited ${r.code}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /**
   * Copy a host file to `dest` inside. Goes through the container (not the overlay
   * dir), because /tmp and /run inside are the container's own tmpfs mounts.
   */
  async copyIn(hostPath: string, dest: string, mode = 0o644): Promise<void> {
    await this.writeFile(dest, readFileSync(hostPath), mode);
  }

  async writeFile(dest: string, content: string | Buffer, mode = 0o644): Promise<void> {
    const r = await this.exec(['sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', 'sh', dest, mode.toString(8)], { input: content });
    if (r.code !== 0) throw new Error(`writing ${dest} in ${this.name} failed (exit ${r.code}): ${r.stderr}`);
  }

  /** The unit's journal since boot (journalctl -u, precise timestamps). */
  async journal(unit: string, lines = 200): Promise<string> {
    const r = await this.exec(['journalctl', '--no-pager', '-o', 'short-precise', '-n', String(lines), '-u', unit]);
    return r.stdout + r.stderr;
  }

  /**
   * Start a long-running process inside as a transient service (systemd-run), so
   * systemd owns it and poweroff stops it; resolves once the unit is active.
   * `unit` without `.service`.
   */
  async runUnit(unit: string, argv: readonly string[], properties: readonly string[] = []): Promise<void> {
    const r = await this.exec(['systemd-run', `--unit=${unit}`, '--collect', ...properties.flatMap((p) => ['-p', p]), '--', ...argv]);
    if (r.code !== 0) throw new Error(`systemd-run ${unit} in ${this.name} failed (exit ${r.code}): ${r.stderr}`);
    await waitFor(async () => (await this.unitProperty(unit, 'ActiveState')) === 'active', {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: `${unit} active in ${this.name}`,
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}. Journal:\n${await this.journal(unit, 30)}`);
    });
  }

  /** `systemctl restart` (waits as systemctl does: for READY=1 with Type=notify); on failure the error carries the unit's journal. */
  async restart(unit: string): Promise<void> {
    const r = await this.exec(['systemctl', 'restart', unit], { timeoutMs: 300_000 });
    if (r.code !== 0) throw new Error(`systemctl restart ${unit} in ${this.name} failed: ${r.stderr.trim()}\nJournal:\n${await this.journal(unit, 40)}`);
  }

  /** Failed units, one per line ('' when none). */
  async failedUnits(): Promise<string> {
    return (await this.exec(['systemctl', '--failed', '--no-legend', '--plain'])).stdout.trim();
  }

  /** One property of a unit (systemctl show -p … --value). */
  async unitProperty(unit: string, prop: string): Promise<string> {
    return (await this.exec(['systemctl', 'show', '-p', prop, '--value', unit])).stdout.trim();
  }

  /** Run a host command in the outside namespace of the box's LAN (a probe from the network). Rejects only on timeout. */
  outside(cmd: readonly string[], timeoutMs = 30_000): Promise<ExecResult> {
    if (!this.lan) throw new Error(`${this.name} joined a given network namespace; there is no harness LAN to probe from`);
    const lan = this.lan;
    return new Promise((resolve, reject) => {
      execFile('ip', ['netns', 'exec', lan.outside, ...cmd], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
        if (err && (err as { killed?: boolean }).killed) reject(new Error(`'${cmd.join(' ')}' in ${lan.outside} did not finish within ${timeoutMs} ms`));
        else {
          const code = (err as { code?: unknown } | null)?.code;
          resolve({
            stdout,
            stderr: err && typeof code !== 'number' ? `${stderr}${err.message}` : stderr,
            code: !err ? 0 : typeof code === 'number' ? code : 127,
          });
        }
      });
    });
  }

  /** The last lines systemd-nspawn and the container console printed. */
  consoleTail(lines = 30): string {
    return this.console().trim().split('\n').slice(-lines).join('\n');
  }

  /**
   * Power off and remove everything: clean `systemctl poweroff`, then SIGTERM to
   * nspawn (it asks the container to shut down), then SIGKILL; unmount the
   * overlay and delete the scratch dir. Resolves with nspawn's exit code (0 after
   * a clean poweroff). Idempotent.
   */
  stop(): Promise<{ nspawnExit: number | null }> {
    this.stopped ??= this.doStop();
    return this.stopped;
  }

  private alive(): boolean {
    return this.nspawn.exitCode === null && this.nspawn.signalCode === null;
  }

  private exited(timeoutMs: number): Promise<boolean> {
    if (!this.alive()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.nspawn.once('exit', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private async doStop(): Promise<{ nspawnExit: number | null }> {
    if (this.alive()) {
      await this.exec(['systemctl', 'poweroff', '--no-block'], { timeoutMs: 10_000 }).catch(() => undefined);
      if (!(await this.exited(30_000))) {
        this.log(`${this.name} did not power off within 30 s; SIGTERM to systemd-nspawn`);
        this.nspawn.kill('SIGTERM');
        if (!(await this.exited(10_000))) {
          this.log(`${this.name} still up; SIGKILL`);
          this.killNow();
          await this.exited(10_000);
        }
      }
    }
    process.removeListener('exit', this.onProcessExit);
    await this.unmount();
    await rm(this.scratch, { recursive: true, force: true });
    await this.lan?.remove();
    if (existsSync(this.scratch)) throw new Error(`could not remove ${this.scratch} — check for processes using it (fuser -vm ${this.root})`);
    this.log(`${this.name} stopped (nspawn exit ${this.nspawn.exitCode ?? this.nspawn.signalCode}); overlay and ${this.scratch} removed`);
    return { nspawnExit: this.nspawn.exitCode };
  }

  private async unmount(): Promise<void> {
    if (!isMounted(this.root)) return;
    try {
      await run('umount', [this.root]);
    } catch {
      // Something inside still holds it (a leftover nsenter'd process): detach now, the kernel frees it when they exit.
      await run('umount', ['-l', this.root]);
    }
  }

  /** Synchronous last resort (process exit): kill PID 1 of the container (takes its whole PID namespace) and nspawn, detach the overlay. */
  private killNow(): void {
    try {
      process.kill(this.leaderPid, 'SIGKILL');
    } catch {}
    if (this.alive()) this.nspawn.kill('SIGKILL');
    if (isMounted(this.root)) spawnSync('umount', ['-l', this.root]);
    this.lan?.removeSync();
  }
}

/** Boot a container (see ApplianceContainer.boot). */
export function bootAppliance(opts: BootOptions): Promise<{ container: ApplianceContainer; state: SystemState; bootMs: number }> {
  return ApplianceContainer.boot(opts);
}

/** A child of `pid` that is systemd (nspawn's inner child after exec), or null. */
function systemdChildOf(pid: number): number | null {
  const taskDir = `/proc/${pid}/task`;
  if (!existsSync(taskDir)) return null;
  for (const tid of readdirSync(taskDir)) {
    let children: string;
    try {
      children = readFileSync(`${taskDir}/${tid}/children`, 'utf8');
    } catch {
      continue;
    }
    for (const c of children.trim().split(/\s+/).filter(Boolean)) {
      try {
        if (readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'systemd') return Number(c);
      } catch {}
    }
  }
  return null;
}

export function isMounted(dir: string): boolean {
  const abs = path.resolve(dir);
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === abs);
}

async function requireNspawn(): Promise<void> {
  try {
    await run('sh', ['-c', 'command -v systemd-nspawn && command -v nsenter']);
  } catch {
    throw new Error('systemd-nspawn or nsenter is missing — run ops/install/debian-deps.sh as root (make deps), or apt-get install systemd-container');
  }
}
