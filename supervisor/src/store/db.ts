import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';
import { StoreTooNewError } from './schemaVersion.js';

export type Db = Database.Database;

/**
 * Opens (and migrates) the store. WAL so readers never block the writer;
 * synchronous=FULL because a routing decision must survive a power cut on an
 * appliance (the extra fsync costs a few ms on rare writes).
 */
export function openDb(file: string): Db {
  // Owner-only, whatever the umask (issue #17): the store holds call records and events.
  if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new Error(`cannot open the store at ${file}: ${(err as Error).message} — check that the data directory exists and is writable (box.dataDir)`);
  }
  db.pragma('journal_mode = WAL');
  if (file !== ':memory:') ownerOnly([file, `${file}-wal`, `${file}-shm`]);
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

/** Takes group/other bits off the store's files that exist and are ours (SQLite copies the db file's mode to -wal/-shm). */
function ownerOnly(files: string[]): void {
  const me = process.getuid?.();
  for (const f of files) {
    if (!existsSync(f)) continue;
    const st = statSync(f);
    if ((st.mode & 0o077) !== 0 && (me === undefined || st.uid === me)) chmodSync(f, st.mode & 0o700);
  }
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    // Never migrate down: this build does not know the newer tables (a downgrade, or a newer box's backup).
    throw new StoreTooNewError(db.name, current, MIGRATIONS.length);
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    const sql = MIGRATIONS[v] as string;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
