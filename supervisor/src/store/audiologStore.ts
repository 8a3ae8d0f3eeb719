/**
 * The audio log's record in the store: the append-only hash chain (every
 * recording, deletion, hold, access and unrecorded call), the recordings'
 * current state (for queries; every change to it is also a chain entry) and
 * Kamailio's connected calls, matched against the recordings by Call-ID.
 * Each change is one synchronous transaction: the chain entry and the state it
 * describes are written together or not at all.
 */
import Database from 'better-sqlite3';
import { type ChainEntry, type ChainKind, canonicalJson, entryHash, GENESIS_HASH } from '../audiolog/chain.js';
import type { Db } from './db.js';

export type RecordingStatus = 'complete' | 'one-sided' | 'incomplete' | 'no-audio';
export type RecordingKind = 'call' | 'test';

export interface RecordingInput {
  id: string;
  /** rtpengine's metadata file name: the ingest's idempotency key. */
  source: string;
  callId: string;
  kind: RecordingKind;
  status: RecordingStatus;
  startedAt: number;
  endedAt: number | null;
  caller: string | null;
  called: string | null;
  route: string | null;
  centre: string | null;
  audioMs: number;
  connectedMs: number | null;
  /** Relative to the archive root. */
  dir: string;
  bytes: number;
  /** Everything else worth keeping (hashes, per-side statistics, warnings). */
  summary: Record<string, unknown>;
}

export interface RecordingRow extends RecordingInput {
  chainSeq: number;
  held: boolean;
  holdCase: string | null;
  deletedAt: number | null;
}

interface RecordingRaw {
  id: string;
  source: string;
  call_id: string;
  kind: RecordingKind;
  status: RecordingStatus;
  started_at: number;
  ended_at: number | null;
  caller: string | null;
  called: string | null;
  route: string | null;
  centre: string | null;
  audio_ms: number;
  connected_ms: number | null;
  dir: string;
  bytes: number;
  chain_seq: number;
  held: number;
  hold_case: string | null;
  deleted_at: number | null;
  summary_json: string;
}

function toRecording(r: RecordingRaw): RecordingRow {
  return {
    id: r.id,
    source: r.source,
    callId: r.call_id,
    kind: r.kind,
    status: r.status,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    caller: r.caller,
    called: r.called,
    route: r.route,
    centre: r.centre,
    audioMs: r.audio_ms,
    connectedMs: r.connected_ms,
    dir: r.dir,
    bytes: r.bytes,
    chainSeq: r.chain_seq,
    held: r.held === 1,
    holdCase: r.hold_case,
    deletedAt: r.deleted_at,
    summary: JSON.parse(r.summary_json) as Record<string, unknown>,
  };
}

interface ChainRaw {
  seq: number;
  at: number;
  kind: ChainKind;
  recording_id: string | null;
  body_json: string;
  prev_hash: string;
  hash: string;
}

function toEntry(r: ChainRaw): ChainEntry {
  return { seq: r.seq, at: r.at, kind: r.kind, recordingId: r.recording_id, bodyJson: r.body_json, prevHash: r.prev_hash, hash: r.hash };
}

export type CallState = 'active' | 'ended' | 'recorded' | 'incomplete' | 'missing' | 'lost';

export interface CallRow {
  callId: string;
  connectedAt: number;
  endedAt: number | null;
  caller: string | null;
  called: string | null;
  route: string | null;
  centre: string | null;
  /** rtpengine accepted the offer/answer (Kamailio's word). */
  offered: boolean;
  test: boolean;
  state: CallState;
  recordingId: string | null;
  decidedAt: number | null;
  detail: string | null;
}

interface CallRaw {
  call_id: string;
  connected_at: number;
  ended_at: number | null;
  caller: string | null;
  called: string | null;
  route: string | null;
  centre: string | null;
  offered: number;
  test: number;
  state: CallState;
  recording_id: string | null;
  decided_at: number | null;
  detail: string | null;
}

function toCall(r: CallRaw): CallRow {
  return {
    callId: r.call_id,
    connectedAt: r.connected_at,
    endedAt: r.ended_at,
    caller: r.caller,
    called: r.called,
    route: r.route,
    centre: r.centre,
    offered: r.offered === 1,
    test: r.test === 1,
    state: r.state,
    recordingId: r.recording_id,
    decidedAt: r.decided_at,
    detail: r.detail,
  };
}

/**
 * A read-only view of the chain and the index as they were at one moment (see
 * `AudiologStore.readView`). `isolated` is false for an in-memory store, whose
 * view is the live store (verify then bounds what it reads by the head seq).
 */
export interface AudiologReadView {
  store: AudiologStore;
  isolated: boolean;
  close(): void;
}

export class AudiologStore {
  constructor(readonly db: Db) {}

  /**
   * One consistent snapshot for a long read (verify): a read transaction on a
   * connection of its own, held while the reader works through it in chunks —
   * under WAL the writer carries on, and every chunk sees the store exactly as it
   * was at the first read (no recording committed half-way through shows up in
   * one part and not another). Close it when done (it ends the transaction).
   */
  readView(): AudiologReadView {
    if (this.db.memory) return { store: this, isolated: false, close: () => undefined };
    const conn = new Database(this.db.name, { readonly: true, fileMustExist: true });
    try {
      conn.pragma('busy_timeout = 5000');
      conn.exec('BEGIN DEFERRED');
      // The snapshot is taken by the first read, not by BEGIN.
      conn.prepare('SELECT count(*) FROM audiolog_chain').get();
    } catch (err) {
      conn.close();
      throw err;
    }
    return {
      store: new AudiologStore(conn),
      isolated: true,
      close: () => {
        if (!conn.open) return;
        if (conn.inTransaction) conn.exec('COMMIT');
        conn.close();
      },
    };
  }

  // -- the chain -------------------------------------------------------------

  /** Append one entry; call inside a transaction when it goes with a state change. */
  private appendRaw(kind: ChainKind, recordingId: string | null, body: unknown, at: number): ChainEntry {
    const last = this.db.prepare('SELECT seq, hash FROM audiolog_chain ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
    const e = { seq: (last?.seq ?? 0) + 1, at, kind, recordingId, bodyJson: canonicalJson(body), prevHash: last?.hash ?? GENESIS_HASH };
    const hash = entryHash(e.prevHash, e);
    this.db
      .prepare('INSERT INTO audiolog_chain (seq, at, kind, recording_id, body_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(e.seq, e.at, e.kind, e.recordingId, e.bodyJson, e.prevHash, hash);
    return { ...e, hash };
  }

  append(kind: ChainKind, recordingId: string | null, body: unknown, at: number): ChainEntry {
    return this.db.transaction(() => this.appendRaw(kind, recordingId, body, at))();
  }

  head(): ChainEntry | null {
    const r = this.db.prepare('SELECT * FROM audiolog_chain ORDER BY seq DESC LIMIT 1').get() as ChainRaw | undefined;
    return r ? toEntry(r) : null;
  }

  /** Entries with seq > afterSeq, ascending (for verification in chunks). */
  chain(afterSeq: number, limit: number): ChainEntry[] {
    return (this.db.prepare('SELECT * FROM audiolog_chain WHERE seq > ? ORDER BY seq LIMIT ?').all(afterSeq, limit) as ChainRaw[]).map(toEntry);
  }

  entry(seq: number): ChainEntry | null {
    const r = this.db.prepare('SELECT * FROM audiolog_chain WHERE seq = ?').get(seq) as ChainRaw | undefined;
    return r ? toEntry(r) : null;
  }

  entriesFor(recordingId: string): ChainEntry[] {
    return (this.db.prepare('SELECT * FROM audiolog_chain WHERE recording_id = ? ORDER BY seq').all(recordingId) as ChainRaw[]).map(toEntry);
  }

  /** Newest first, of one kind (e.g. the access log). */
  entriesOfKind(kind: ChainKind, opts: { limit: number; beforeSeq?: number; recordingId?: string }): ChainEntry[] {
    const rows = opts.recordingId
      ? this.db
          .prepare('SELECT * FROM audiolog_chain WHERE kind = ? AND seq < ? AND recording_id = ? ORDER BY seq DESC LIMIT ?')
          .all(kind, opts.beforeSeq ?? Number.MAX_SAFE_INTEGER, opts.recordingId, opts.limit)
      : this.db
          .prepare('SELECT * FROM audiolog_chain WHERE kind = ? AND seq < ? ORDER BY seq DESC LIMIT ?')
          .all(kind, opts.beforeSeq ?? Number.MAX_SAFE_INTEGER, opts.limit);
    return (rows as ChainRaw[]).map(toEntry);
  }

  // -- recordings ------------------------------------------------------------

  /** Archive a recording: its chain entry and its row, together. Throws on a duplicate source. */
  insertRecording(r: RecordingInput, body: unknown, at: number): { row: RecordingRow; entry: ChainEntry } {
    return this.db.transaction(() => {
      const entry = this.appendRaw('recording', r.id, body, at);
      this.db
        .prepare(
          `INSERT INTO audiolog_recordings (id, source, call_id, kind, status, started_at, ended_at, caller, called, route, centre,
             audio_ms, connected_ms, dir, bytes, chain_seq, summary_json)
           VALUES (@id, @source, @callId, @kind, @status, @startedAt, @endedAt, @caller, @called, @route, @centre,
             @audioMs, @connectedMs, @dir, @bytes, @chainSeq, @summary)`,
        )
        .run({ ...r, chainSeq: entry.seq, summary: JSON.stringify(r.summary) });
      return { row: { ...r, chainSeq: entry.seq, held: false, holdCase: null, deletedAt: null }, entry };
    })();
  }

  recording(id: string): RecordingRow | null {
    const r = this.db.prepare('SELECT * FROM audiolog_recordings WHERE id = ?').get(id) as RecordingRaw | undefined;
    return r ? toRecording(r) : null;
  }

  recordingBySource(source: string): RecordingRow | null {
    const r = this.db.prepare('SELECT * FROM audiolog_recordings WHERE source = ?').get(source) as RecordingRaw | undefined;
    return r ? toRecording(r) : null;
  }

  recordingsByCallId(callId: string): RecordingRow[] {
    return (this.db.prepare('SELECT * FROM audiolog_recordings WHERE call_id = ? ORDER BY started_at').all(callId) as RecordingRaw[]).map(toRecording);
  }

  /**
   * Newest first. `caller` matches anywhere in the caller number (a technician
   * searching "90012345" finds "+4790012345"); it must hold no LIKE wildcards.
   */
  recordings(opts: { limit: number; before?: number; since?: number; callId?: string; caller?: string; includeDeleted?: boolean }): RecordingRow[] {
    const where = ['started_at < @before'];
    if (opts.since !== undefined) where.push('started_at >= @since');
    if (opts.callId) where.push('call_id = @callId');
    if (opts.caller) {
      if (/[%_\\]/.test(opts.caller)) throw new Error(`caller filter must not contain LIKE wildcards: ${opts.caller}`);
      where.push("caller LIKE '%' || @caller || '%'");
    }
    if (!opts.includeDeleted) where.push('deleted_at IS NULL');
    const rows = this.db.prepare(`SELECT * FROM audiolog_recordings WHERE ${where.join(' AND ')} ORDER BY started_at DESC LIMIT @limit`).all({
      before: opts.before ?? Number.MAX_SAFE_INTEGER,
      since: opts.since,
      callId: opts.callId,
      caller: opts.caller,
      limit: opts.limit,
    }) as RecordingRaw[];
    return rows.map(toRecording);
  }

  /** Every recording row (verification walks them all, in chunks by rowid). */
  recordingsAfter(afterRowid: number, limit: number): Array<RecordingRow & { rowid: number }> {
    const rows = this.db.prepare('SELECT rowid, * FROM audiolog_recordings WHERE rowid > ? ORDER BY rowid LIMIT ?').all(afterRowid, limit) as Array<
      RecordingRaw & { rowid: number }
    >;
    return rows.map((r) => ({ ...toRecording(r), rowid: r.rowid }));
  }

  countRecordings(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM audiolog_recordings').get() as { n: number }).n;
  }

  /** Not deleted, not held, started before the cutoff for their kind. */
  expired(cutoffCall: number, cutoffTest: number, limit: number): RecordingRow[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM audiolog_recordings WHERE deleted_at IS NULL AND held = 0
           AND ((kind = 'call' AND started_at < ?) OR (kind = 'test' AND started_at < ?)) ORDER BY started_at LIMIT ?`,
      )
      .all(cutoffCall, cutoffTest, limit) as RecordingRaw[];
    return rows.map(toRecording);
  }

  markDeleted(id: string, body: unknown, at: number): ChainEntry {
    return this.db.transaction(() => {
      const entry = this.appendRaw('deletion', id, body, at);
      this.db.prepare('UPDATE audiolog_recordings SET deleted_at = ? WHERE id = ?').run(at, id);
      return entry;
    })();
  }

  setHold(id: string, held: boolean, holdCase: string | null, body: unknown, at: number): ChainEntry {
    return this.db.transaction(() => {
      const entry = this.appendRaw(held ? 'hold' : 'release', id, body, at);
      this.db.prepare('UPDATE audiolog_recordings SET held = ?, hold_case = ? WHERE id = ?').run(held ? 1 : 0, holdCase, id);
      return entry;
    })();
  }

  /** Bytes archived since `since` (epoch ms): the disk's current fill rate. */
  bytesArchivedSince(since: number): { bytes: number; firstAt: number | null } {
    const r = this.db.prepare('SELECT coalesce(sum(bytes), 0) AS b, min(started_at) AS f FROM audiolog_recordings WHERE started_at >= ?').get(since) as {
      b: number;
      f: number | null;
    };
    return { bytes: r.b, firstAt: r.f };
  }

  // -- Kamailio's calls ------------------------------------------------------

  /** First word wins (retransmitted 200s resend the event). Returns false if already known. */
  callConnected(c: Omit<CallRow, 'state' | 'recordingId' | 'decidedAt' | 'detail' | 'endedAt'>): boolean {
    const info = this.db
      .prepare(
        `INSERT OR IGNORE INTO audiolog_calls (call_id, connected_at, caller, called, route, centre, offered, test, state)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active')`,
      )
      .run(c.callId, c.connectedAt, c.caller, c.called, c.route, c.centre, c.offered ? 1 : 0, c.test ? 1 : 0);
    return info.changes > 0;
  }

  callEnded(callId: string, at: number): CallRow | null {
    this.db
      .prepare(`UPDATE audiolog_calls SET ended_at = coalesce(ended_at, ?), state = CASE WHEN state = 'active' THEN 'ended' ELSE state END WHERE call_id = ?`)
      .run(at, callId);
    return this.call(callId);
  }

  call(callId: string): CallRow | null {
    const r = this.db.prepare('SELECT * FROM audiolog_calls WHERE call_id = ?').get(callId) as CallRaw | undefined;
    return r ? toCall(r) : null;
  }

  /**
   * When Kamailio's call records (the evidence's `call_milestones`, read from acc's
   * files — durable, unlike the call events over UDP) say the call ended; null if
   * they do not (yet), or call records are off.
   */
  kamailioCallEnd(callId: string): number | null {
    const r = this.db.prepare(`SELECT min(at) AS at FROM call_milestones WHERE call_id = ? AND event = 'ended'`).get(callId) as
      | { at: number | null }
      | undefined;
    return r?.at ?? null;
  }

  /** Settle a call's verdict (and chain it when it is a gap in the record). */
  decideCall(callId: string, state: CallState, recordingId: string | null, detail: string, at: number, chainBody?: unknown): void {
    this.db.transaction(() => {
      this.db
        .prepare('UPDATE audiolog_calls SET state = ?, recording_id = ?, detail = ?, decided_at = ? WHERE call_id = ?')
        .run(state, recordingId, detail, at, callId);
      if (chainBody !== undefined) this.appendRaw('unrecorded', recordingId, chainBody, at);
    })();
  }

  callsInState(states: readonly CallState[], limit = 10_000): CallRow[] {
    const rows = this.db
      .prepare(`SELECT * FROM audiolog_calls WHERE state IN (${states.map(() => '?').join(',')}) ORDER BY connected_at LIMIT ?`)
      .all(...states, limit) as CallRaw[];
    return rows.map(toCall);
  }

  /** Newest first; verdicts since `since` (for the fault window) or all. */
  calls(opts: { limit: number; states?: readonly CallState[]; decidedSince?: number; before?: number }): CallRow[] {
    const where = ['connected_at < @before'];
    const params: Record<string, unknown> = { before: opts.before ?? Number.MAX_SAFE_INTEGER, limit: opts.limit };
    if (opts.states && opts.states.length > 0) {
      where.push(`state IN (${opts.states.map((_, i) => `@s${i}`).join(',')})`);
      opts.states.forEach((s, i) => {
        params[`s${i}`] = s;
      });
    }
    if (opts.decidedSince !== undefined) {
      where.push('decided_at >= @since');
      params.since = opts.decidedSince;
    }
    const rows = this.db.prepare(`SELECT * FROM audiolog_calls WHERE ${where.join(' AND ')} ORDER BY connected_at DESC LIMIT @limit`).all(params) as CallRaw[];
    return rows.map(toCall);
  }
}
