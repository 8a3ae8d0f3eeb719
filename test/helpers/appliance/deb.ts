/**
 * The Vaktpost .deb for the appliance tests, and its installation in a box.
 *
 * - `applianceDeb()` builds the package with the repository's own builder
 *   (`ops/deb/build.sh`, what `make deb` runs; it packs the built tree and skips
 *   the work when its inputs did not change), or takes a ready one from
 *   $VAKTPOST_APPLIANCE_DEB (a release artifact under test).
 * - `installDeb()` installs with apt exactly as an operator does
 *   (`apt-get install /path.deb`), with no package lists and no network: every
 *   Depends must already be in the rootfs (rootfs.ts), so a new dependency
 *   fails here by name instead of being downloaded.
 * - dpkg's per-file fsync is switched off inside the throwaway box only
 *   (`force-unsafe-io`): measured 37–48 s → 7–9 s for the install.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ApplianceContainer } from './container.js';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../../..');

export interface DebPackage {
  file: string;
  version: string;
  /** Time spent building (0 when taken from $VAKTPOST_APPLIANCE_DEB). */
  ms: number;
}

export async function applianceDeb(log: (line: string) => void): Promise<DebPackage> {
  const started = performance.now();
  let file = process.env['VAKTPOST_APPLIANCE_DEB'];
  if (file) {
    if (!existsSync(file)) throw new Error(`VAKTPOST_APPLIANCE_DEB=${file} does not exist — unset it to build the .deb from this tree`);
    log(`using ${file} (VAKTPOST_APPLIANCE_DEB)`);
  } else {
    const builder = path.join(REPO, 'ops/deb/build.sh');
    if (!existsSync(builder)) throw new Error(`${builder} is missing: this tree cannot build the .deb (make deb) — or point VAKTPOST_APPLIANCE_DEB at one`);
    let stdout: string;
    try {
      ({ stdout } = await run('bash', [builder], { cwd: REPO, maxBuffer: 16 * 1024 * 1024 }));
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; message: string };
      throw new Error(`ops/deb/build.sh failed — it needs the built tree (make build). ${e.stderr ?? ''}${e.stdout ?? ''}${e.message}`);
    }
    const last = stdout.trim().split('\n').pop() ?? '';
    log(last);
    // Its last line names the package: "built dist-deb/vaktpost_….deb (…)" or "dist-deb/vaktpost_….deb is up to date".
    const named = /(dist-deb\/vaktpost_[^\s]+\.deb)/.exec(last)?.[1];
    if (!named || !existsSync(path.join(REPO, named))) throw new Error(`ops/deb/build.sh did not name a .deb that exists in its last line: ${last}`);
    file = path.join(REPO, named);
  }
  const { stdout } = await run('dpkg-deb', ['--field', file, 'Version']);
  return { file, version: stdout.trim(), ms: performance.now() - started };
}

export interface InstallResult {
  code: number;
  output: string;
  ms: number;
}

/** `apt-get install /root/<deb>` inside the box. */
export async function installDeb(box: ApplianceContainer, deb: DebPackage): Promise<InstallResult> {
  const started = performance.now();
  const inside = `/root/${path.basename(deb.file)}`;
  await box.writeFile('/etc/dpkg/dpkg.cfg.d/appliance-test-unsafe-io', '# appliance test box (thrown away): no fsync per file\nforce-unsafe-io\n');
  await box.copyIn(deb.file, inside);
  const r = await box.exec(['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', inside], { timeoutMs: 300_000 });
  return { code: r.code, output: r.stdout + r.stderr, ms: performance.now() - started };
}
