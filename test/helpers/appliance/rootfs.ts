/**
 * The Debian 13 (trixie) root filesystem the appliance tests boot: built once
 * with mmdebstrap and cached outside the repository, reused by every later run.
 *
 * - The cache entry is named after a hash of what goes into it (suite, variant,
 *   package list, this file's layout version), so changing the package list
 *   builds a new entry and never boots a stale one. Old entries are listed in
 *   the log, never deleted here (another checkout may still use them).
 * - A build goes into a temporary directory and is renamed into place only when
 *   mmdebstrap succeeded: an entry that exists is complete.
 * - Two concurrent builders (two tap workers, two checkouts) are serialised by
 *   an flock(1) on `<cache>/rootfs-<hash>.lock`; the second one finds the
 *   finished entry and reuses it. The kernel drops the lock when a builder dies.
 * - The rootfs carries every package the .deb depends on, so `apt-get install
 *   /path.deb` inside needs no package lists and no network (measured: with all
 *   Depends present apt installs a local .deb without lists; with one missing it
 *   says "Depends X but none of the choices are installable").
 * - The cached tree is only ever a read-only lower layer (container.ts boots a
 *   throwaway overlay on top); nothing here or there writes into it after the build.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian 13. */
export const SUITE = 'trixie';
const VARIANT = 'minbase';
/** Bump when the build recipe changes in a way the package list does not show. */
const LAYOUT_VERSION = 1;

/**
 * What the appliance needs on the box: an init (systemd + dbus), the runtime
 * (Debian's nodejs, 20.19 in trixie), what the supervisor drives (Kamailio with
 * the modules the rendered cfg loads — all in the base `kamailio` package in 6.0 —,
 * rtpengine, SIPp, chrony, nftables, NUT with dummy-ups, espeak-ng + sox for
 * the spoken prompts), and what maintainer scripts and tests use inside.
 */
export const APPLIANCE_PACKAGES: readonly string[] = [
  'systemd',
  'systemd-sysv',
  'dbus',
  'libnss-systemd', // resolves DynamicUser= names (a recommends of systemd; minbase skips recommends)
  'adduser', // postinst creates the system users; minbase has no adduser
  'nodejs',
  'kamailio',
  'rtpengine-daemon',
  'sip-tester',
  'chrony',
  'nftables',
  'nut-server',
  'nut-client',
  'espeak-ng',
  'sox',
  'iproute2',
  'procps',
];

export const DEFAULT_CACHE_DIR = '/var/cache/vaktpost-test';

export interface RootfsOptions {
  /** Default: $VAKTPOST_APPLIANCE_CACHE or /var/cache/vaktpost-test. */
  cacheDir?: string;
  /** Default: $VAKTPOST_APPLIANCE_MIRROR, else the Debian mirror in this host's apt sources, else deb.debian.org. */
  mirror?: string;
  /** Packages on top of APPLIANCE_PACKAGES (they change the cache key). */
  extraPackages?: readonly string[];
  /** Progress lines (default: stderr, prefixed). */
  log?: (line: string) => void;
  /** How long to wait for another builder holding the lock. Default 15 min. */
  lockWaitS?: number;
}

export interface Rootfs {
  /** The cached tree; boot it only through an overlay (container.ts). */
  dir: string;
  key: string;
  packages: readonly string[];
  /** True when this call built it; false when it was reused. */
  built: boolean;
  /** Time spent here: the build, or waiting for the lock and reusing. */
  ms: number;
}

const MARKER = '.vaktpost-rootfs';

function defaultLog(line: string): void {
  process.stderr.write(`appliance rootfs: ${line}\n`);
}

/** Build-or-reuse the cached rootfs. Needs root, mmdebstrap and flock (ops/install/debian-deps.sh installs them). */
export async function applianceRootfs(opts: RootfsOptions = {}): Promise<Rootfs> {
  const log = opts.log ?? defaultLog;
  const started = performance.now();
  if (process.getuid?.() !== 0) throw new Error('the appliance rootfs needs root (mmdebstrap, overlay mounts, systemd-nspawn) — run the tests as root');
  await requireTool('mmdebstrap', 'mmdebstrap');
  await requireTool('flock', 'util-linux');

  const cacheDir = opts.cacheDir ?? process.env['VAKTPOST_APPLIANCE_CACHE'] ?? DEFAULT_CACHE_DIR;
  const packages = [...APPLIANCE_PACKAGES, ...(opts.extraPackages ?? [])];
  const key = createHash('sha256')
    .update(JSON.stringify({ suite: SUITE, variant: VARIANT, packages: [...packages].sort(), layout: LAYOUT_VERSION }))
    .digest('hex')
    .slice(0, 12);
  const dir = path.join(cacheDir, `rootfs-${key}`);
  await mkdir(cacheDir, { recursive: true, mode: 0o755 });

  const others = readdirSync(cacheDir).filter((n) => n.startsWith('rootfs-') && !n.endsWith('.lock') && n !== `rootfs-${key}`);
  if (others.length > 0) log(`other (older) entries in ${cacheDir}: ${others.join(', ')} — remove them with rm -rf if no checkout uses them`);

  if (isComplete(dir)) {
    log(`reusing ${dir} (${describe(dir)})`);
    return { dir, key, packages, built: false, ms: performance.now() - started };
  }

  const mirror = opts.mirror ?? process.env['VAKTPOST_APPLIANCE_MIRROR'] ?? hostDebianMirror();
  const tmp = path.join(cacheDir, `.building-rootfs-${key}`);
  log(
    `building ${dir}: Debian ${SUITE} ${VARIANT} + ${packages.length} packages from ${mirror} (first run only; about 1–2 min; waits first if another run holds the lock)`,
  );
  // Under the lock: another builder may have finished while we waited.
  const script = [
    'set -eu',
    'target=$1 tmp=$2 mirror=$3 include=$4 marker=$5',
    'if [ -d "$target" ] && [ -f "$target/$marker" ]; then echo "VAKTPOST: built by another run meanwhile"; exit 0; fi',
    'rm -rf "$tmp"',
    `mmdebstrap --variant=${VARIANT} --include="$include" ${SUITE} "$tmp" "$mirror"`,
    'printf "suite=%s\\npackages=%s\\nbuilt=%s\\n" ' + SUITE + ' "$include" "$(date -u +%FT%TZ)" > "$tmp/$marker"',
    'rm -rf "$target"',
    'mv -T "$tmp" "$target"',
  ].join('\n');
  const lock = path.join(cacheDir, `rootfs-${key}.lock`);
  const { code, output } = await runLogged('flock', [
    '--exclusive',
    '--timeout',
    String(opts.lockWaitS ?? 900),
    lock,
    'bash',
    '-c',
    script,
    'build',
    dir,
    tmp,
    mirror,
    packages.join(','),
    MARKER,
  ]);
  if (code !== 0) {
    const tail = output.trim().split('\n').slice(-25).join('\n');
    throw new Error(
      `building the appliance rootfs failed (exit ${code}) — check the network and the mirror ${mirror} ` +
        `(override with VAKTPOST_APPLIANCE_MIRROR), that every package exists in Debian ${SUITE}, and that ${cacheDir} has ~700 MB free. ` +
        `flock exits 1 when another builder held ${lock} for longer than the wait. Last lines:\n${tail}`,
    );
  }
  if (!isComplete(dir)) throw new Error(`the rootfs build reported success but ${dir}/${MARKER} is missing — remove ${dir} and run again`);
  const byOther = output.includes('VAKTPOST: built by another run meanwhile');
  const ms = performance.now() - started;
  log(byOther ? `another run built ${dir} while this one waited (${(ms / 1000).toFixed(1)} s)` : `built ${dir} in ${(ms / 1000).toFixed(1)} s`);
  return { dir, key, packages, built: !byOther, ms };
}

function isComplete(dir: string): boolean {
  return existsSync(path.join(dir, MARKER));
}

function describe(dir: string): string {
  const built = /^built=(.*)$/m.exec(readFileSync(path.join(dir, MARKER), 'utf8'))?.[1];
  return built ? `built ${built}` : 'no build date';
}

async function requireTool(tool: string, pkg: string): Promise<void> {
  try {
    await run('sh', ['-c', `command -v ${tool}`]);
  } catch {
    throw new Error(`${tool} is not installed — run ops/install/debian-deps.sh as root (make deps), or apt-get install ${pkg}`);
  }
}

/**
 * The host's Debian mirror: the first `deb` URI in its apt sources whose path
 * ends in /debian (not -security, not third-party repos). A machine with a
 * local mirror or proxy then builds from it, as its apt does.
 */
export function hostDebianMirror(): string {
  const files: string[] = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  const d = '/etc/apt/sources.list.d';
  if (existsSync(d)) for (const n of readdirSync(d).sort()) if (n.endsWith('.list') || n.endsWith('.sources')) files.push(path.join(d, n));
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const uris = [...text.matchAll(/^\s*(?:deb\s+(?:\[[^\]]*\]\s+)?|URIs:\s*)(\S+)/gm)].map((m) => m[1] as string);
    const hit = uris.find((u) => /^https?:\/\/.*\/debian\/?$/.test(u));
    if (hit) return hit.replace(/\/$/, '');
  }
  return 'http://deb.debian.org/debian';
}

/** Runs a long command, collecting its output (for the error) without holding more than the tail. */
function runLogged(cmd: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (d: Buffer) => {
      output = (output + d.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), output }));
  });
}
