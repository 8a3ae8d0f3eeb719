/**
 * The store's schema version (PRAGMA user_version) against this build's newest
 * migration. A store written by a newer Vaktpost (an upgrade rolled back, or a backup
 * from a newer box restored here) must not be opened: this build does not know its
 * tables, and migrating "down" is never done. `run`, `check-config`, `status` and
 * `restore` refuse it with StoreTooNewError, which names both versions and the fix.
 * Guarantees: `peekSchemaVersion` never creates, migrates or writes the store.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { MIGRATIONS } from './migrations.js';

/** The schema version this build creates and understands. */
export const CODE_SCHEMA_VERSION = MIGRATIONS.length;

export class StoreTooNewError extends Error {
  /** `file`: the store, or the backup holding it. */
  constructor(
    readonly file: string,
    readonly storeVersion: number,
    readonly codeVersion: number = CODE_SCHEMA_VERSION,
  ) {
    super(
      `The store in ${file} has schema version ${storeVersion}, newer than this Vaktpost understands (${codeVersion}): it was written by a newer version. ` +
        'Install that newer version again, or restore a backup made by this version (vaktpost restore --from FILE --force).\n' +
        `Lageret i ${file} har skjemaversjon ${storeVersion}, nyere enn denne Vaktpost forstår (${codeVersion}): den er skrevet av en nyere versjon. ` +
        'Installer den nyere versjonen igjen, eller gjenopprett en sikkerhetskopi laget av denne versjonen (vaktpost restore --from FIL --force).',
    );
  }
}

/** The schema version of the store in `file`, or null when there is no store there. Read-only. */
export function peekSchemaVersion(file: string): number | null {
  // No data dir yet, or no store in it (a fresh install): nothing to refuse.
  if (!existsSync(file)) return null;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/** Throws StoreTooNewError when the store in `file` is newer than this build. */
export function assertStoreNotNewer(file: string): void {
  const v = peekSchemaVersion(file);
  if (v !== null && v > CODE_SCHEMA_VERSION) throw new StoreTooNewError(file, v);
}
