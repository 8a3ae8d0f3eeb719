/**
 * `vaktpost backup`: one tar file holding everything a fresh install needs to become this
 * box again, taken while the supervisor runs.
 *   - the store: SQLite's online backup API copies it in ONE step (one read transaction),
 *     so the copy is a consistent instant even while the supervisor writes (WAL: the
 *     supervisor is never blocked); the copy is checked (quick_check) before it is used;
 *   - every other file in box.dataDir (TLS key, the flows' credential secret, the CLI
 *     token, the first admin password file, monthly reports, Kamailio's rendered files and
 *     control secret when calls.configDir is inside it), read into memory first so the
 *     checksum is of exactly what is written (they are small);
 *   - Kamailio's control secret when calls.configDir is elsewhere;
 *   - with `--with-audio`: the archive folders of the recordings the snapshot lists (not
 *     deleted), so the restored index and archive agree and `audiolog verify` passes.
 * The live store files (-wal, -shm), the audio archive (unless asked for), the archive's
 * staging folder and what a `restore --force` moved aside (`.replaced-<time>/`) are left out. Output: mode 0600, written to a temporary file
 * beside the target and renamed into place after fsync — a crash never leaves half a
 * backup under the final name; an existing file is never overwritten.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, lstatSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import { sha256File, STAGING } from '../audiolog/archive.js';
import { type TarEntry, tarStream } from '../audiolog/tar.js';
import {
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  CONTROL_SECRET_ENTRY,
  FLOWS_CREDENTIALS_ENTRY,
  FLOWS_CREDENTIALS_RESTORED,
  type Manifest,
  MANIFEST_NAME,
  STORE_ENTRY,
  STORE_FILE,
} from './manifest.js';

export interface BackupOptions {
  dataDir: string;
  /** The audio archive (resolved audiolog.archiveDir). */
  archiveDir: string;
  /** `<calls.configDir>/control.secret`, when the config has calls. */
  controlSecretFile: string | null;
  /** Node-RED's node credentials in the flows user's home (`<flows home>/node-red/flows_cred.json`). */
  flowsCredentialsFile: string;
  withAudio: boolean;
  out: string;
  box: string;
  version: string;
  now?: () => number;
}

export interface BackupResult {
  file: string;
  bytes: number;
  files: number;
  schemaVersion: number;
  recordings: number;
  skipped: string[];
  snapshotMs: number;
  totalMs: number;
}

/** A backup that cannot be made as asked (no store, target exists, …): the message says why and what to do. */
export class BackupRefused extends Error {
  constructor(
    message: string,
    readonly reason: 'no-store' | 'exists' | 'inside' | 'damaged' | 'changed',
  ) {
    super(message);
  }
}

const isInside = (child: string, parent: string) => {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
};

export async function createBackup(o: BackupOptions): Promise<BackupResult> {
  const t0 = performance.now();
  const now = o.now ?? Date.now;
  const dataDir = path.resolve(o.dataDir);
  const archiveDir = path.resolve(o.archiveDir);
  const out = path.resolve(o.out);
  const dbFile = path.join(dataDir, STORE_FILE);
  if (!existsSync(dbFile)) throw new BackupRefused(`there is no store at ${dbFile}: nothing to back up — check box.dataDir in the config`, 'no-store');
  if (existsSync(out)) throw new BackupRefused(`${out} already exists — choose another name (an existing backup is never overwritten)`, 'exists');
  if (isInside(out, dataDir))
    throw new BackupRefused(`${out} is inside the data dir ${dataDir} — write the backup elsewhere (it would back itself up)`, 'inside');

  const tmp = `${out}.partial-${process.pid}`;
  const snapshot = `${out}.store-${process.pid}`;
  try {
    // 1. The store, consistent as of one instant.
    const ts = performance.now();
    const src = new Database(dbFile, { fileMustExist: true });
    try {
      src.pragma('busy_timeout = 5000');
      // One step for all pages: a write by the supervisor between steps would restart the copy.
      await src.backup(snapshot, { progress: () => 2 ** 30 });
    } finally {
      src.close();
    }
    const snapshotMs = performance.now() - ts;
    const snap = new Database(snapshot, { fileMustExist: true });
    let schemaVersion: number;
    let recordingDirs: string[] = [];
    try {
      const check = snap.pragma('quick_check', { simple: true });
      if (check !== 'ok')
        throw new BackupRefused(
          `the store's copy fails SQLite's quick_check (${String(check)}) — the store may be damaged; do not rely on this box's store, see README "Backup, restore, upgrade"`,
          'damaged',
        );
      schemaVersion = snap.pragma('user_version', { simple: true }) as number;
      const hasRecordings = snap.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audiolog_recordings'`).get() !== undefined;
      if (o.withAudio && hasRecordings) {
        recordingDirs = (snap.prepare('SELECT dir FROM audiolog_recordings WHERE deleted_at IS NULL ORDER BY started_at').all() as Array<{ dir: string }>).map(
          (r) => r.dir,
        );
      }
    } finally {
      snap.close();
    }

    // 2. The files, each with its checksum.
    const entries: TarEntry[] = [];
    const listed: Manifest['files'] = [];
    const skipped: string[] = [];
    const addData = (name: string, data: Buffer) => {
      entries.push({ name, data });
      listed.push({ path: name, size: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    };
    const addFile = async (name: string, file: string) => {
      entries.push({ name, file });
      listed.push({ path: name, size: statSync(file).size, sha256: await sha256File(file) });
    };
    await addFile(STORE_ENTRY, snapshot);

    const leaveOut = new Set([dbFile, `${dbFile}-wal`, `${dbFile}-shm`, `${dbFile}-journal`, archiveDir]);
    // The home's credentials are newer than a copy left in the data dir by an older version.
    const flowsCreds = existsSync(o.flowsCredentialsFile) ? readFileSync(o.flowsCredentialsFile) : null;
    if (flowsCreds) leaveOut.add(path.join(dataDir, FLOWS_CREDENTIALS_RESTORED));
    const walk = (dir: string, rel: string) => {
      for (const name of readdirSync(dir).sort()) {
        const abs = path.join(dir, name);
        const r = rel ? `${rel}/${name}` : name;
        // A restore's staging folder, and what a --force restore moved aside (restore.ts).
        if (leaveOut.has(abs) || name.startsWith('.restore-') || name.startsWith('.replaced-')) continue;
        const st = lstatSync(abs);
        if (st.isDirectory()) walk(abs, r);
        else if (st.isFile()) addData(`data/${r}`, readFileSync(abs));
        else skipped.push(abs);
      }
    };
    walk(dataDir, '');

    if (o.controlSecretFile && !isInside(path.resolve(o.controlSecretFile), dataDir) && existsSync(o.controlSecretFile)) {
      addData(CONTROL_SECRET_ENTRY, readFileSync(o.controlSecretFile));
    }

    if (flowsCreds) addData(FLOWS_CREDENTIALS_ENTRY, flowsCreds);

    for (const rel of recordingDirs) {
      const dir = path.join(archiveDir, rel);
      if (!existsSync(dir))
        throw new BackupRefused(
          `the recording folder ${dir} is listed in the store but not on disk — deleted by retention while the backup ran? Run the backup again; if it stays, run vaktpost audiolog verify`,
          'changed',
        );
      for (const name of readdirSync(dir).sort()) {
        const abs = path.join(dir, name);
        if (name === STAGING || !lstatSync(abs).isFile()) continue;
        await addFile(`audio/${rel}/${name}`, abs);
      }
    }

    // 3. manifest.json first, then the files, into a 0600 temporary file; then into place.
    const manifest: Manifest = {
      format: BACKUP_FORMAT,
      formatVersion: BACKUP_FORMAT_VERSION,
      vaktpostVersion: o.version,
      schemaVersion,
      createdAt: new Date(now()).toISOString(),
      box: o.box,
      withAudio: o.withAudio,
      files: listed,
    };
    const fd = openSync(tmp, 'wx', 0o600);
    await pipeline(
      tarStream([{ name: MANIFEST_NAME, data: Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`) }, ...entries], Math.floor(now() / 1000)),
      createWriteStream('', { fd, autoClose: false }),
    );
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, out);
    const dirFd = openSync(path.dirname(out), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    return {
      file: out,
      bytes: statSync(out).size,
      files: listed.length,
      schemaVersion,
      recordings: recordingDirs.length,
      skipped,
      snapshotMs,
      totalMs: performance.now() - t0,
    };
  } finally {
    rmSync(tmp, { force: true });
    rmSync(snapshot, { force: true });
  }
}
