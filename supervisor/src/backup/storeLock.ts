/**
 * Is a supervisor (or another vaktpost command) using the store? The supervisor keeps its
 * WAL-mode connection open for as long as it runs, and every open WAL connection holds a
 * shared lock on the database file; an exclusive lock is then refused at once (SQLITE_BUSY,
 * no waiting). So taking one answers the question without a pid file that a crash could
 * leave behind — and holding it keeps a supervisor from starting on the store meanwhile
 * (its first read waits for the lock, then fails with "database is locked").
 */
import Database from 'better-sqlite3';

export interface StoreLock {
  release(): void;
}

/** An exclusive lock on the store in `file`, or null when another process has it open. */
export function lockStore(file: string): StoreLock | null {
  const db = new Database(file, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    db.pragma('locking_mode = EXCLUSIVE');
    // The lock is taken by the first transaction and kept after it (locking_mode EXCLUSIVE).
    db.exec('BEGIN EXCLUSIVE; COMMIT');
    // Everything into the database file now: the files may be moved aside while locked, and
    // closing must then have nothing left to write back.
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return null;
    throw err;
  }
  return { release: () => db.close() };
}
