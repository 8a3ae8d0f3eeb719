/**
 * `vaktpost audiolog …` — works on the store and the archive directly, so it
 * also works while the supervisor is down:
 *
 *   audiolog verify [-c FILE] [--json] [--chain-only]
 *       the whole chain, the index and every archived file; exit 1 on any problem
 *   audiolog export ID… --reason TEXT --out FILE.tar [-c FILE]
 *       bundle audio + hashes + chain proof; the access is chained first (who: the
 *       Unix user running the CLI) and shown as an event
 *   audiolog render-rtpengine [-c FILE] [--out FILE]
 *       write rtpengine's config (and the recording notice, if switched on)
 */
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { type AudiologConfig, audiologSchema, resolveAudiologConfig } from '../config/audiolog.js';
import { callRecordingSchema } from '../config/calls.js';
import { loadConfigFile } from '../config/load.js';
import type { VaktpostConfig } from '../config/schema.js';
import { AudiologStore } from '../store/audiologStore.js';
import { openDb } from '../store/db.js';
import { Store } from '../store/store.js';
import { AccessRefused, AudiologAccess } from './access.js';
import { writeNoticeFile } from './notice.js';
import { renderRtpengineConf, rtpengineConfPathOf } from './rtpengineConf.js';
import { spoolPendingSources } from './spoolWatcher.js';
import { verifyAudiolog } from './verify.js';

/** The config as the CLI reads it: `audiolog:` may not be in the main schema's type yet. */
type WithAudiolog = VaktpostConfig & { audiolog?: AudiologConfig };

const USAGE = `usage: vaktpost audiolog verify [-c FILE] [--json] [--chain-only]
       vaktpost audiolog export ID... --reason TEXT --out FILE.tar [-c FILE]
       vaktpost audiolog render-rtpengine [-c FILE] [--out FILE]`;

function sections(cfg: WithAudiolog) {
  const audiolog = resolveAudiologConfig(cfg.audiolog ?? audiologSchema.parse({}), cfg.box.dataDir);
  const recording = cfg.calls?.recording ?? callRecordingSchema.parse({});
  return { audiolog, recording, dbFile: path.join(cfg.box.dataDir, 'vaktpost.db') };
}

/** Returns the exit code; writes to the given streams (tests pass their own). */
export async function runAudiologCli(
  argv: readonly string[],
  defaultConfig: string,
  io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
): Promise<number> {
  const [sub, ...rest] = argv;
  let values: { config: string; json: boolean; 'chain-only': boolean; reason?: string | undefined; out?: string | undefined };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: [...rest],
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c', default: defaultConfig },
        json: { type: 'boolean', default: false },
        'chain-only': { type: 'boolean', default: false },
        reason: { type: 'string' },
        out: { type: 'string', short: 'o' },
      },
    }));
  } catch (err) {
    io.err(`vaktpost audiolog: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (!sub || !['verify', 'export', 'render-rtpengine'].includes(sub)) {
    io.err(`${USAGE}\n`);
    return 2;
  }
  const cfg = loadConfigFile(values.config) as WithAudiolog;
  const s = sections(cfg);

  if (sub === 'render-rtpengine') {
    // Follows box.dataDir (it wrote to /var/lib/vaktpost whatever the config said).
    const out = values.out ?? rtpengineConfPathOf(cfg.box.dataDir);
    await mkdir(path.dirname(out), { recursive: true });
    await writeFile(out, renderRtpengineConf({ daemon: s.audiolog.rtpengine, ng: s.recording.rtpengine }));
    io.out(`wrote ${out}\n`);
    if (s.recording.notice.enabled) {
      await mkdir(path.dirname(s.recording.notice.file), { recursive: true });
      const n = await writeNoticeFile(s.recording.notice, s.recording.notice.file);
      io.out(`wrote ${s.recording.notice.file} (${(n.durationMs / 1000).toFixed(1)} s)\n`);
    }
    return 0;
  }

  const db = openDb(s.dbFile);
  try {
    const store = new AudiologStore(db);
    if (sub === 'verify') {
      // A folder whose rtpengine file is still in the spool is an ingest in progress (or one cut
      // short by a crash, which the supervisor redoes at start), not a folder planted in the
      // archive: the same rule as the API's verify. Read afresh whenever a folder needs it.
      const r = await verifyAudiolog({
        store,
        archiveDir: s.audiolog.archiveDir,
        chainOnly: values['chain-only'],
        pendingSources: () => spoolPendingSources(s.audiolog.rtpengine.spoolDir),
      });
      if (values.json) io.out(`${JSON.stringify(r, null, 2)}\n`);
      else {
        io.out(
          `${r.ok ? 'OK' : 'FAILED'}: ${r.entries} chain entries, ${r.recordings} recordings, ${r.files} files checked in ${r.durationMs} ms; head seq ${r.headSeq} ${r.headHash ?? '-'}\n`,
        );
        for (const p of r.problems) io.out(`  ${p.recordingId ?? '-'}\t${p.message}\n`);
      }
      return r.ok ? 0 : 1;
    }
    // export
    if (!values.out) {
      io.err(`vaktpost audiolog export: --out FILE.tar is required\n${USAGE}\n`);
      return 2;
    }
    const events = new Store(db);
    const access = new AudiologAccess({
      audiolog: { store, filePath: (r, f) => path.join(s.audiolog.archiveDir, r.dir, f) },
      event: (e) => events.insertEvent({ ...e, at: Date.now() }),
      now: Date.now,
      minReasonLength: s.audiolog.access.minReasonLength,
    });
    try {
      const e = access.export(positionals, { username: `cli:${os.userInfo().username}`, role: 'root', from: 'cli' }, values.reason);
      await pipeline(e.stream, createWriteStream(values.out, { mode: 0o600 }));
      io.out(`wrote ${values.out} (${positionals.length} recording(s)); the access is chain entry ${e.accessSeq}\n`);
      return 0;
    } catch (err) {
      if (err instanceof AccessRefused) {
        io.err(`vaktpost audiolog export: ${err.message}\n`);
        return err.status === 404 ? 3 : 2;
      }
      throw err;
    }
  } finally {
    db.close();
  }
}
