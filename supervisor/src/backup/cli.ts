/**
 * `vaktpost backup --to FILE.tar [--with-audio]` and `vaktpost restore --from FILE.tar
 * [--force]`: the paths they need from the config, their report, their exit codes.
 * Both work on the files directly: backup beside a running supervisor, restore only
 * with it stopped.
 */
import path from 'node:path';
import { audiologSchema, resolveAudiologConfig } from '../config/audiolog.js';
import type { VaktpostConfig } from '../config/schema.js';
import { controlSecretPathOf } from '../reconcilers/kamailio/controlSecret.js';
import { CliError, EXIT } from '../cli/exitCodes.js';
import { BackupRefused, createBackup } from './backup.js';
import { RestoreRefused, restoreBackup } from './restore.js';

export interface BackupCliOptions {
  to?: string | undefined;
  from?: string | undefined;
  withAudio: boolean;
  force: boolean;
}

function places(cfg: VaktpostConfig) {
  return {
    dataDir: cfg.box.dataDir,
    archiveDir: resolveAudiologConfig(cfg.audiolog ?? audiologSchema.parse({}), cfg.box.dataDir).archiveDir,
    controlSecretFile: cfg.calls ? controlSecretPathOf(cfg.calls) : null,
  };
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Runs `backup`; returns what to print. `usage` is thrown for a missing --to. */
export async function backupCommand(cfg: VaktpostConfig, o: BackupCliOptions, version: string, usage: (msg: string) => Error): Promise<string> {
  if (!o.to) throw usage('backup needs --to FILE.tar');
  // Everything this process creates (the store's snapshot, the backup) is owner-only.
  process.umask(0o077);
  try {
    // The flows user's home, as flows/service.ts decides it.
    const flowsHome = cfg.flows.homeDir ?? `${cfg.box.dataDir.replace(/\/+$/, '')}-flows`;
    const flowsCredentialsFile = path.join(flowsHome, 'node-red', 'flows_cred.json');
    const r = await createBackup({ ...places(cfg), flowsCredentialsFile, withAudio: o.withAudio, out: o.to, box: cfg.box.name, version });
    return (
      `backup written: ${r.file} (${mib(r.bytes)}, ${r.files} files, store schema ${r.schemaVersion}` +
      `${o.withAudio ? `, ${r.recordings} recording(s)` : ', without the audio archive'}) in ${secs(r.totalMs)} (store copy ${secs(r.snapshotMs)})\n` +
      (r.skipped.length > 0 ? `left out (not regular files): ${r.skipped.join(', ')}\n` : '') +
      (o.withAudio ? '' : 'The audio archive is not in it: back it up separately, or use --with-audio.\n')
    );
  } catch (err) {
    if (err instanceof BackupRefused)
      throw new CliError(
        err.message,
        err.reason === 'no-store' || err.reason === 'changed' ? EXIT.dataErr : err.reason === 'damaged' ? EXIT.software : EXIT.cantCreate,
      );
    throw err;
  }
}

/** Runs `restore`; returns what to print. */
export async function restoreCommand(cfg: VaktpostConfig, o: BackupCliOptions, usage: (msg: string) => Error): Promise<string> {
  if (!o.from) throw usage('restore needs --from FILE.tar');
  process.umask(0o077);
  try {
    const r = await restoreBackup({ ...places(cfg), from: o.from, force: o.force });
    const m = r.manifest;
    return (
      `restored ${r.files} files (${mib(r.bytes)}) from ${path.resolve(o.from)} into ${cfg.box.dataDir}: box ${m.box}, made ${m.createdAt} by Vaktpost ${m.vaktpostVersion}, store schema ${m.schemaVersion}` +
      ` — checked in ${secs(r.verifyMs)}, done in ${secs(r.totalMs)}\n` +
      r.movedAside.map((p) => `what was there before is kept in ${p}\n`).join('') +
      r.notRestored.map((p) => `not restored (the config has no place for it): ${p}\n`).join('') +
      (m.withAudio ? '' : 'The backup has no audio archive: copy the archive back before `vaktpost audiolog verify` (or use --chain-only).\n') +
      'Next: start Vaktpost (systemctl start vaktpost), then run vaktpost audiolog verify.\n'
    );
  } catch (err) {
    if (err instanceof RestoreRefused) throw new CliError(err.message, err.reason === 'too-new' ? EXIT.config : EXIT.dataErr);
    throw err;
  }
}
