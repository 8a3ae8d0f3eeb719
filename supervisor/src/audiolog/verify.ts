/**
 * `vaktpost audiolog verify`: is the archive exactly what the chain says?
 *   - the chain: no gaps, every link and hash intact (a changed or deleted row shows)
 *   - the index: every recording row has its chain entry and vice versa
 *   - the files: every file of every recording not deleted exists and hashes to
 *     what the chain recorded (a flipped byte shows)
 *   - the disk: every archive folder is in the index (a row deleted to hide a
 *     recording, or a folder planted, shows — named by the folder's record.json)
 * Reads in chunks and hashes with streams, yielding between chunks, so the
 * supervisor keeps running while it verifies.
 *
 * The supervisor may be archiving while this runs: the chain and the index are
 * read from ONE snapshot (a read transaction held across the chunks), so a
 * recording committed meanwhile is in neither. What is on disk is not in the
 * snapshot: a folder the snapshot does not know, or a file it lists that is gone,
 * is looked up again in the live store (committed, or deleted by retention, after
 * the snapshot: fine) and in the spool (an ingest not committed yet, or cut
 * short by a crash and redone at restart: fine) before it is reported.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { AudiologStore } from '../store/audiologStore.js';
import { FILE_RECORD, sha256File, STAGING } from './archive.js';
import { type ChainEntry, verifyChainRun } from './chain.js';

export interface VerifyProblem {
  /** The recording concerned, when there is one. */
  recordingId: string | null;
  seq: number | null;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  recordings: number;
  files: number;
  headSeq: number;
  headHash: string | null;
  problems: VerifyProblem[];
  durationMs: number;
}

export interface VerifyOptions {
  store: AudiologStore;
  archiveDir: string;
  /**
   * Names of finished rtpengine files still waiting in the spool (their folder may
   * exist without a row yet). A function is asked afresh each time it is needed.
   */
  pendingSources?: ReadonlySet<string> | (() => ReadonlySet<string>);
  /** How long to wait before a last look at an unexplained archive folder (an ingest committing right now). */
  recheckMs?: number;
  /** Skip hashing files (chain and index only). */
  chainOnly?: boolean;
  chunk?: number;
}

interface RecEntry {
  seq: number;
  dir: string;
  files: Record<string, string>;
  callId: string;
  deleted: boolean;
  hasRow: boolean;
}

const tick = () => new Promise<void>((r) => setImmediate(r));

export async function verifyAudiolog(o: VerifyOptions): Promise<VerifyReport> {
  const view = o.store.readView();
  try {
    return await verifyIn(o, view.store, view.isolated);
  } finally {
    view.close();
  }
}

async function verifyIn(o: VerifyOptions, snap: AudiologStore, isolated: boolean): Promise<VerifyReport> {
  const t0 = performance.now();
  const chunk = o.chunk ?? 500;
  const problems: VerifyProblem[] = [];
  const recs = new Map<string, RecEntry>();
  // Everything below is checked as of this entry (an in-memory store has no
  // isolated snapshot: what is appended after it is left out here too).
  const head = snap.head();
  const headSeq = head?.seq ?? 0;
  let prev = { seq: 0, hash: '0'.repeat(64) };
  let entries = 0;
  let last: ChainEntry | null = null;

  // 1. The chain, in chunks.
  while ((last?.seq ?? 0) < headSeq) {
    const batch = snap.chain(last?.seq ?? 0, chunk).filter((e) => e.seq <= headSeq);
    if (batch.length === 0) break;
    for (const p of verifyChainRun(batch, prev)) problems.push({ recordingId: p.recordingId, seq: p.seq, message: p.message });
    for (const e of batch) {
      entries++;
      if (!e.recordingId) continue;
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(e.bodyJson) as Record<string, unknown>;
      } catch {
        // reported by verifyChainRun
      }
      if (e.kind === 'recording') {
        recs.set(e.recordingId, {
          seq: e.seq,
          dir: String(body.dir ?? ''),
          files: (body.files as Record<string, string> | undefined) ?? {},
          callId: String(body.callId ?? ''),
          deleted: false,
          hasRow: false,
        });
      } else if (e.kind === 'deletion') {
        const r = recs.get(e.recordingId);
        if (r) r.deleted = true;
      }
    }
    last = batch[batch.length - 1] as ChainEntry;
    prev = { seq: last.seq, hash: last.hash };
    await tick();
  }

  // 2. The index rows against the chain.
  let rowid = 0;
  let recordings = 0;
  for (;;) {
    const rows = snap.recordingsAfter(rowid, chunk);
    if (rows.length === 0) break;
    for (const row of rows) {
      rowid = row.rowid;
      // Only without an isolated snapshot: committed after the head was read.
      if (!isolated && row.chainSeq > headSeq && !recs.has(row.id)) continue;
      recordings++;
      const r = recs.get(row.id);
      if (!r) {
        problems.push({
          recordingId: row.id,
          seq: row.chainSeq,
          message: `recording ${row.id} (Call-ID ${row.callId}) has no chain entry (seq ${row.chainSeq} missing or altered) — the index was tampered with`,
        });
        continue;
      }
      r.hasRow = true;
      if (r.seq !== row.chainSeq || r.dir !== row.dir) {
        problems.push({ recordingId: row.id, seq: r.seq, message: `recording ${row.id}: its index row disagrees with its chain entry (seq/folder)` });
      }
      if ((row.deletedAt !== null) !== r.deleted) {
        problems.push({
          recordingId: row.id,
          seq: r.seq,
          message: `recording ${row.id}: deleted in ${row.deletedAt !== null ? 'the index' : 'the chain'} only`,
        });
      }
    }
    await tick();
  }
  for (const [id, r] of recs) {
    if (!r.hasRow)
      problems.push({
        recordingId: id,
        seq: r.seq,
        message: `recording ${id} (Call-ID ${r.callId}, seq ${r.seq}) is in the chain but its index row was deleted`,
      });
  }

  // 3. The files.
  let files = 0;
  if (!o.chainOnly) {
    let n = 0;
    for (const [id, r] of recs) {
      if (r.deleted) continue;
      for (const [name, want] of Object.entries(r.files)) {
        const file = path.join(o.archiveDir, r.dir, name);
        files++;
        try {
          const got = await sha256File(file);
          if (got !== want)
            problems.push({
              recordingId: id,
              seq: r.seq,
              message: `recording ${id}: ${name} was altered (SHA-256 ${got.slice(0, 12)}… ≠ ${want.slice(0, 12)}… in the chain)`,
            });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // Deleted (retention) after the snapshot: its files go after the chain says so.
          if (code === 'ENOENT' && o.store.recording(id)?.deletedAt != null) continue;
          problems.push({
            recordingId: id,
            seq: r.seq,
            message: `recording ${id}: ${name} is ${code === 'ENOENT' ? 'missing' : `unreadable (${code})`} (${file})`,
          });
        }
      }
      if (++n % 50 === 0) await tick();
    }

    // 4. Folders on disk that the index does not know.
    const unknown: Array<{ id: string; dir: string; callId: string; source: string }> = [];
    for (const dir of await archiveFolders(o.archiveDir)) {
      const id = path.basename(dir);
      const r = recs.get(id);
      if (r?.hasRow) continue;
      if (r) continue; // in the chain, row deleted: reported above
      const { callId, source } = (await readRecordJson(dir)) ?? { callId: '?', source: '' };
      if (!ingestExplains(o, id, source)) unknown.push({ id, dir, callId, source });
    }
    // A last look after a moment: an ingest between its rename and its commit right now
    // (its spool file may have arrived after the pending names were taken).
    if (unknown.length > 0 && (o.recheckMs ?? 1000) > 0) await new Promise((r) => setTimeout(r, o.recheckMs ?? 1000));
    for (const u of unknown) {
      // Gone meanwhile (a redone ingest replaces its folder), or its record.json readable now.
      const again = await readRecordJson(u.dir);
      if (again === null) continue;
      if (ingestExplains(o, u.id, u.source || again.source)) continue;
      problems.push({
        recordingId: u.id,
        seq: null,
        message: `recording ${u.id} (Call-ID ${u.callId}) is in the archive (${path.relative(o.archiveDir, u.dir)}) but not in the chain — its index entry was removed`,
      });
    }
  }

  return {
    ok: problems.length === 0,
    entries,
    recordings,
    files,
    headSeq: last?.seq ?? 0,
    headHash: last?.hash ?? null,
    problems,
    durationMs: Math.round(performance.now() - t0),
  };
}

/** The folder's record.json: its Call-ID and rtpengine file ('?'/'' when unreadable); null when the folder is gone. */
async function readRecordJson(dir: string): Promise<{ callId: string; source: string } | null> {
  try {
    const rec = JSON.parse(await readFile(path.join(dir, FILE_RECORD), 'utf8')) as { callId?: string; source?: string };
    return { callId: rec.callId ?? '?', source: rec.source ?? '' };
  } catch {
    // no record.json: named by its folder only
    return (await stat(dir).then(
      () => true,
      () => false,
    ))
      ? { callId: '?', source: '' }
      : null;
  }
}

/**
 * A folder the snapshot does not know is an ingest, not tampering, when its
 * rtpengine file is still pending (not committed yet; the spool is tidied only
 * after the commit) or the live store has it (committed after the snapshot).
 * Asked in that order, so an ingest finishing in between is seen by one of them.
 */
function ingestExplains(o: VerifyOptions, id: string, source: string): boolean {
  if (source) {
    const pending = typeof o.pendingSources === 'function' ? o.pendingSources() : o.pendingSources;
    if (pending?.has(source)) return true;
  }
  const live = o.store.recording(id);
  return live !== null && (!source || live.source === source);
}

/** `<archive>/YYYY/MM/DD/<id>` and `<archive>/undated/<id>` folders. */
async function archiveFolders(root: string): Promise<string[]> {
  const out: string[] = [];
  const ls = async (d: string) => {
    try {
      return (await readdir(d, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  };
  for (const y of await ls(root)) {
    if (y === STAGING) continue;
    if (y === 'undated') {
      for (const id of await ls(path.join(root, y))) out.push(path.join(root, y, id));
      continue;
    }
    if (!/^\d{4}$/.test(y)) continue;
    for (const m of await ls(path.join(root, y))) {
      for (const day of await ls(path.join(root, y, m))) {
        for (const id of await ls(path.join(root, y, m, day))) {
          const dir = path.join(root, y, m, day, id);
          if ((await stat(dir)).isDirectory()) out.push(dir);
        }
      }
    }
  }
  return out;
}
