/**
 * `vaktpost restore`: a backup back onto a box, normally a fresh install.
 *   1. Verify: the whole file is read once and every entry's size and SHA-256 compared
 *      with manifest.json — nothing is written anywhere until all of them match, every
 *      listed file is present and nothing unlisted is. A backup whose store is newer than
 *      this build (a downgrade) is refused before that.
 *   2. Refuse to overwrite: the data dir must be empty or absent (a fresh install), unless
 *      `force`; even then never while a process has the store open (storeLock.ts).
 *   3. Extract into a staging folder inside the data dir (`.restore-<pid>`: the same file
 *      system even when the data dir is a mount point of its own), checking every
 *      checksum again while writing (the file could change between the passes), folders
 *      0700 and files 0600, owned like the data dir that was there (a package creates it
 *      for the service's user; restore runs as root); the staged store must pass
 *      quick_check. An audio archive outside the data dir gets its own staging folder.
 *   4. Swap: with `force`, what was there is moved into `.replaced-<time>/` in the same
 *      folder — health data is never deleted by a restore — then the staged entries are
 *      renamed into place. A failure before the swap leaves the box as it was.
 */
import { createHash } from 'node:crypto';
import {
  chownSync,
  closeSync,
  createReadStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CODE_SCHEMA_VERSION, StoreTooNewError } from '../store/schemaVersion.js';
import {
  CONTROL_SECRET_ENTRY,
  FLOWS_CREDENTIALS_ENTRY,
  FLOWS_CREDENTIALS_RESTORED,
  type Manifest,
  MANIFEST_NAME,
  parseManifest,
  STORE_FILE,
} from './manifest.js';
import { lockStore } from './storeLock.js';
import { readTar, type TarSink } from './tarReader.js';

export interface RestoreOptions {
  from: string;
  dataDir: string;
  archiveDir: string;
  controlSecretFile: string | null;
  force: boolean;
  now?: () => number;
}

export interface RestoreResult {
  manifest: Manifest;
  files: number;
  bytes: number;
  movedAside: string[];
  /** Entries kept in the backup but not restored (the config has no place for them). */
  notRestored: string[];
  verifyMs: number;
  totalMs: number;
}

/** Refused: `reason` picks the exit code; the message names the cause and the fix. */
export class RestoreRefused extends Error {
  constructor(
    message: string,
    readonly reason: 'damaged' | 'too-new' | 'not-empty' | 'in-use',
  ) {
    super(message);
  }
}

const MAX_MANIFEST = 64 * 1024 * 1024;
/** Inside the data dir (and the archive): the staging folder, and what a --force restore replaced. */
export const STAGE_PREFIX = '.restore-';
export const ASIDE_PREFIX = '.replaced-';

/** Reads the archive once; `onFile` gets each listed entry after its header, manifest first. */
async function scan(
  from: string,
  onFile: (manifest: Manifest, f: Manifest['files'][number]) => TarSink | null,
): Promise<{ manifest: Manifest; problems: string[] }> {
  let manifest: Manifest | null = null;
  let manifestText: Buffer[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const drop: TarSink = { write: () => {}, end: () => {} };
  try {
    await readTar(createReadStream(from), (name, size) => {
      if (!manifest) {
        if (name !== MANIFEST_NAME) throw new RestoreRefused(`${from}: the first entry is ${name}, not ${MANIFEST_NAME}: not a Vaktpost backup`, 'damaged');
        if (size > MAX_MANIFEST) throw new RestoreRefused(`${from}: ${MANIFEST_NAME} is ${size} bytes: not a Vaktpost backup`, 'damaged');
        manifestText = [];
        return {
          write: (b) => manifestText.push(Buffer.from(b)),
          end: () => {
            try {
              manifest = parseManifest(Buffer.concat(manifestText).toString('utf8'));
            } catch (err) {
              throw new RestoreRefused(`${from}: ${(err as Error).message}`, 'damaged');
            }
            if (manifest.schemaVersion > CODE_SCHEMA_VERSION) throw new RestoreRefused(new StoreTooNewError(from, manifest.schemaVersion).message, 'too-new');
          },
        };
      }
      const m: Manifest = manifest;
      const f = m.files.find((x) => x.path === name);
      if (!f || seen.has(name)) {
        problems.push(`${name}: ${f ? 'is in the file twice' : `is not listed in ${MANIFEST_NAME}`}`);
        return drop;
      }
      seen.add(name);
      const hash = createHash('sha256');
      let got = 0;
      const inner = onFile(m, f);
      return {
        write: (b) => {
          hash.update(b);
          got += b.length;
          inner?.write(b);
        },
        end: () => {
          inner?.end();
          const sha = hash.digest('hex');
          if (got !== f.size || size !== f.size) problems.push(`${name}: ${got} bytes, ${MANIFEST_NAME} says ${f.size}`);
          else if (sha !== f.sha256)
            problems.push(`${name}: SHA-256 ${sha.slice(0, 12)}… ≠ ${f.sha256.slice(0, 12)}… in ${MANIFEST_NAME} (the file was changed or damaged)`);
        },
      };
    });
  } catch (err) {
    if (err instanceof RestoreRefused) throw err;
    throw new RestoreRefused(`${from}: ${(err as Error).message}`, 'damaged');
  }
  if (!manifest) throw new RestoreRefused(`${from}: empty archive, no ${MANIFEST_NAME}: not a Vaktpost backup`, 'damaged');
  const m: Manifest = manifest;
  for (const f of m.files) if (!seen.has(f.path)) problems.push(`${f.path}: listed in ${MANIFEST_NAME} but missing from the file (cut short?)`);
  return { manifest: m, problems };
}

function damaged(from: string, problems: string[]): RestoreRefused {
  return new RestoreRefused(
    `${from} failed its checksums — nothing was restored (sikkerhetskopien er skadet — ingenting er gjenopprettet):\n${problems.map((p) => `  ${p}`).join('\n')}\n` +
      'Use another copy of the backup.',
    'damaged',
  );
}

const isInside = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

const entriesOf = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

export async function restoreBackup(o: RestoreOptions): Promise<RestoreResult> {
  const t0 = performance.now();
  const now = o.now ?? Date.now;
  const dataDir = path.resolve(o.dataDir);
  const archiveDir = path.resolve(o.archiveDir);
  const archiveOutside = !isInside(archiveDir, dataDir);
  const secretFile = o.controlSecretFile ? path.resolve(o.controlSecretFile) : null;

  // 1. Verify everything before touching anything.
  const pass1 = await scan(o.from, () => null);
  if (pass1.problems.length > 0) throw damaged(o.from, pass1.problems);
  const manifest = pass1.manifest;
  const verifyMs = performance.now() - t0;
  const hasAudio = manifest.files.some((f) => f.path.startsWith('audio/'));

  // 2. Never over a store in use; not over anything without --force.
  const present = entriesOf(dataDir);
  const archivePresent = archiveOutside && hasAudio ? entriesOf(archiveDir) : [];
  if ((present.length > 0 || archivePresent.length > 0) && !o.force) {
    const what =
      present.length > 0
        ? `${dataDir} is not empty (${present.slice(0, 5).join(', ')}${present.length > 5 ? ', …' : ''})`
        : `the audio archive ${archiveDir} is not empty`;
    throw new RestoreRefused(
      `${what}: restore is for a fresh install. To replace this box's data, stop the supervisor (systemctl stop vaktpost) and add --force: ` +
        `what is there now is moved aside to ${path.join(dataDir, `${ASIDE_PREFIX}<time>`)}, not deleted.\n` +
        `(${dataDir} er ikke tom: stopp Vaktpost og bruk --force; det som ligger der flyttes til side, det slettes ikke.)`,
      'not-empty',
    );
  }
  const liveStore = path.join(dataDir, STORE_FILE);
  const lock = existsSync(liveStore) ? lockStore(liveStore) : null;
  if (existsSync(liveStore) && !lock) {
    throw new RestoreRefused(
      `the store ${liveStore} is open in another process — a running supervisor (or another vaktpost command). Stop it first: systemctl stop vaktpost.\n` +
        `(Lageret er i bruk — stopp Vaktpost først.)`,
      'in-use',
    );
  }
  const createdDataDir = !existsSync(dataDir);
  // Owned like what was there: a package creates the data dir for the service's user.
  const owner = ownerOf(dataDir);
  const stagings: string[] = [];
  let done = false;
  try {
    const stamp = `${new Date(now()).toISOString().replace(/[-:.]/g, '').slice(0, 15)}Z`;
    // Staged inside the folders themselves: the same file system even when the data dir or
    // the archive is a mount point of its own, so every move below is a rename.
    const stageIn = (dir: string): string => {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const stage = path.join(dir, `${STAGE_PREFIX}${process.pid}`);
      rmSync(stage, { recursive: true, force: true });
      mkdirSync(stage, { mode: 0o700 });
      stagings.push(stage);
      return stage;
    };
    const dataStage = stageIn(dataDir);
    const audioStage = archiveOutside && hasAudio ? stageIn(archiveDir) : null;
    const notRestored: string[] = [];
    let secret: Buffer | null = null;
    let bytes = 0;

    // 3. Extract into staging, checking again.
    const targetOf = (p: string): string | null => {
      if (p.startsWith('data/')) return path.join(dataStage, p.slice(5));
      if (p.startsWith('audio/')) return audioStage ? path.join(audioStage, p.slice(6)) : path.join(dataStage, path.relative(dataDir, archiveDir), p.slice(6));
      if (p === FLOWS_CREDENTIALS_ENTRY) return path.join(dataStage, FLOWS_CREDENTIALS_RESTORED);
      return null;
    };
    const pass2 = await scan(o.from, (_m, f) => {
      if (f.path === CONTROL_SECRET_ENTRY && secretFile) {
        const parts: Buffer[] = [];
        return { write: (b) => parts.push(Buffer.from(b)), end: () => (secret = Buffer.concat(parts)) };
      }
      const target = targetOf(f.path);
      if (!target) {
        notRestored.push(f.path);
        return null;
      }
      const stage = target.startsWith(dataStage) ? dataStage : (audioStage as string);
      mkdirOwnerOnly(path.dirname(target), stage);
      const fd = openSync(target, 'wx', 0o600);
      return {
        write: (b) => {
          writeSync(fd, b);
          bytes += b.length;
        },
        end: () => {
          fsyncSync(fd);
          closeSync(fd);
        },
      };
    });
    if (pass2.problems.length > 0) throw damaged(o.from, pass2.problems);
    checkStagedStore(path.join(dataStage, STORE_FILE), o.from);
    if (owner) chownTree(dataStage, owner);
    const archiveOwner = audioStage ? ownerOf(archiveDir) : null;
    if (audioStage && archiveOwner) chownTree(audioStage, archiveOwner);

    // 4. Swap: what was there goes into `.replaced-<time>/` in the same folder.
    const movedAside: string[] = [];
    const swap = (dir: string, stage: string, before: string[]) => {
      if (before.length > 0) {
        const aside = path.join(dir, `${ASIDE_PREFIX}${stamp}`);
        mkdirSync(aside, { mode: 0o700 });
        for (const name of before) renameSync(path.join(dir, name), path.join(aside, name));
        movedAside.push(aside);
      }
      for (const name of readdirSync(stage)) renameSync(path.join(stage, name), path.join(dir, name));
    };
    swap(dataDir, dataStage, present);
    if (audioStage) swap(archiveDir, audioStage, archivePresent);
    const staged: Buffer | null = secret;
    if (secretFile && staged) {
      mkdirSync(path.dirname(secretFile), { recursive: true, mode: 0o700 });
      const tmp = `${secretFile}${STAGE_PREFIX}${process.pid}`;
      writeFileSync(tmp, staged, { mode: 0o600 });
      if (owner) chownSync(tmp, owner.uid, owner.gid);
      if (existsSync(secretFile)) {
        const to = `${secretFile}${ASIDE_PREFIX}${stamp}`;
        renameSync(secretFile, to);
        movedAside.push(to);
      }
      renameSync(tmp, secretFile);
    }
    done = true;
    return { manifest, files: manifest.files.length, bytes, movedAside, notRestored, verifyMs, totalMs: performance.now() - t0 };
  } finally {
    for (const s of stagings) rmSync(s, { recursive: true, force: true });
    // A failed restore into a data dir it created leaves nothing behind.
    if (!done && createdDataDir) rmSync(dataDir, { recursive: true, force: true });
    lock?.release();
  }
}

function ownerOf(p: string): { uid: number; gid: number } | null {
  if (!existsSync(p)) return null;
  const st = statSync(p);
  return { uid: st.uid, gid: st.gid };
}

/** mkdir -p below `root`, every level 0700. */
function mkdirOwnerOnly(dir: string, root: string): void {
  if (existsSync(dir)) return;
  mkdirOwnerOnly(path.dirname(dir), root);
  if (!isInside(dir, root)) return;
  mkdirSync(dir, { mode: 0o700 });
}

/** Only root can give files away; anyone else restores as themselves (and owns the data dir). */
function chownTree(dir: string, owner: { uid: number; gid: number }): void {
  if (process.getuid?.() !== 0) return;
  chownSync(dir, owner.uid, owner.gid);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) chownTree(p, owner);
    else chownSync(p, owner.uid, owner.gid);
  }
}

function checkStagedStore(file: string, from: string): void {
  const db = new Database(file, { fileMustExist: true });
  try {
    const v = db.pragma('user_version', { simple: true }) as number;
    if (v > CODE_SCHEMA_VERSION) throw new RestoreRefused(new StoreTooNewError(from, v).message, 'too-new');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new RestoreRefused(`the backup's store fails SQLite's quick_check (${String(check)}) — nothing was restored; use another backup`, 'damaged');
  } finally {
    db.close();
  }
}
