/**
 * Every way into the recordings — listing, listening, exporting, legal hold —
 * goes through here: the person, their role and a stated reason are written to
 * the hash chain (who, when, which, why) BEFORE anything is served, and shown
 * as an event. No reason, no access.
 *
 * The event says THAT an access happened (who, what, when, which chain entry),
 * never why: every role reads the event log and the live feed, and a reason
 * ("complaint from the patient's daughter about …") is itself health data. The
 * reason stays in the chain, read through the admin-only access record.
 */
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import type { ChainEntry } from './chain.js';
import { FILE_AUDIO, FILE_METADATA, FILE_RECORD } from './archive.js';
import { buildExport } from './export.js';
import type { AudioLog, AudiologEvent } from './service.js';
import type { RecordingRow } from '../store/audiologStore.js';

export type AccessAction = 'list' | 'listen' | 'export' | 'hold' | 'release';

export interface Accessor {
  username: string;
  role: string;
  /** Client address (API) or `cli`. */
  from: string;
}

export class AccessRefused extends Error {
  constructor(
    readonly status: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
  }
}

export interface AccessDeps {
  audiolog: Pick<AudioLog, 'store' | 'filePath'>;
  event: (e: AudiologEvent) => void;
  now: () => number;
  minReasonLength: number;
}

const ACTION_EN: Record<AccessAction, string> = {
  list: 'listed',
  listen: 'listened to',
  export: 'exported',
  hold: 'put a legal hold on',
  release: 'released the hold on',
};

const ACTION_NB: Record<AccessAction, string> = {
  list: 'listet',
  listen: 'lyttet til',
  export: 'eksporterte',
  hold: 'satte rettslig hold på',
  release: 'opphevet hold på',
};

export class AudiologAccess {
  constructor(private readonly d: AccessDeps) {}

  checkReason(reason: string | undefined | null): string {
    const r = (reason ?? '').trim();
    if (r.length < this.d.minReasonLength) {
      throw new AccessRefused(
        400,
        `a reason of at least ${this.d.minReasonLength} characters is required to access recordings (begrunnelse på minst ${this.d.minReasonLength} tegn kreves)`,
      );
    }
    return r;
  }

  private recording(id: string, allowDeleted = false): RecordingRow {
    const rec = this.d.audiolog.store.recording(id);
    if (!rec) throw new AccessRefused(404, `no recording ${id} (finnes ikke)`);
    if (rec.deletedAt !== null && !allowDeleted) throw new AccessRefused(404, `recording ${id} was deleted ${new Date(rec.deletedAt).toISOString()} (slettet)`);
    return rec;
  }

  /** Chain the access (with its reason), then make it visible (without it). Returns the chain entry. */
  log(action: AccessAction, who: Accessor, reason: string, recordingIds: readonly string[], extra: Record<string, unknown> = {}): ChainEntry {
    const at = this.d.now();
    const entry = this.d.audiolog.store.append(
      'access',
      recordingIds.length === 1 ? (recordingIds[0] as string) : null,
      { action, by: who.username, role: who.role, from: who.from, reason, recordings: recordingIds, ...extra },
      at,
    );
    const which =
      recordingIds.length === 0 ? 'the recording list' : recordingIds.length === 1 ? `recording ${recordingIds[0]}` : `${recordingIds.length} recordings`;
    const whichNb = recordingIds.length === 1 ? `opptak ${recordingIds[0]}` : recordingIds.length === 0 ? 'opptakslisten' : `${recordingIds.length} opptak`;
    this.d.event({
      kind: 'recording.access',
      severity: 'info',
      subsystem: 'recording',
      actor: who.username,
      en: `${who.username} (${who.role}) ${ACTION_EN[action]} ${which} (reason in access record #${entry.seq})`,
      nb: `${who.username} (${who.role}) ${ACTION_NB[action]} ${whichNb} (begrunnelsen står i tilgangsloggen, oppføring #${entry.seq})`,
      data: { action, recordings: recordingIds, chainSeq: entry.seq },
    });
    return entry;
  }

  /** The WAV of a recording, found and measured; nothing is logged (see `listen`). */
  async audioFile(id: string): Promise<{ file: string; size: number; recording: RecordingRow }> {
    const rec = this.recording(id);
    const file = this.d.audiolog.filePath(rec, FILE_AUDIO);
    const size = (
      await stat(file).catch(() => {
        throw new AccessRefused(409, `recording ${id}: ${FILE_AUDIO} is missing from the archive — run \`vaktpost audiolog verify\``);
      })
    ).size;
    return { file, size, recording: rec };
  }

  /** Listening to one recording: the access is chained (with the reason) before anything can be played. */
  async listen(id: string, who: Accessor, reason: string | undefined): Promise<{ file: string; size: number; recording: RecordingRow; accessSeq: number }> {
    const why = this.checkReason(reason);
    const a = await this.audioFile(id);
    const entry = this.log('listen', who, why, [id]);
    return { ...a, accessSeq: entry.seq };
  }

  /** Audio, metadata, hashes and the chain proof as a tar stream; the access is chained first. */
  export(ids: readonly string[], who: Accessor, reason: string | undefined): { stream: Readable; name: string; accessSeq: number } {
    const why = this.checkReason(reason);
    if (ids.length === 0) throw new AccessRefused(400, 'name at least one recording to export (minst ett opptak)');
    const recs = ids.map((id) => this.recording(id));
    const entry = this.log('export', who, why, ids);
    const stream = buildExport({
      store: this.d.audiolog.store,
      recordings: recs.map((r) => ({
        row: r,
        files: [FILE_AUDIO, FILE_METADATA, FILE_RECORD].map((f) => ({ name: f, file: this.d.audiolog.filePath(r, f) })),
      })),
      access: { by: who.username, role: who.role, reason: why, seq: entry.seq },
      now: this.d.now(),
    });
    const name = `vaktpost-audiolog-${new Date(this.d.now()).toISOString().slice(0, 19).replaceAll(':', '')}-${ids.length === 1 ? ids[0] : `${ids.length}`}.tar`;
    return { stream, name, accessSeq: entry.seq };
  }

  /** Listing shows caller numbers: logged too (a reason is asked for, not required). */
  list(who: Accessor, reason: string | undefined, opts: { limit: number; before?: number; since?: number; callId?: string; caller?: string }): RecordingRow[] {
    const rows = this.d.audiolog.store.recordings(opts);
    // The search itself is part of the access record: which caller and period were looked for.
    const searched = {
      ...(opts.callId ? { callId: opts.callId } : {}),
      ...(opts.caller ? { caller: opts.caller } : {}),
      ...(opts.since !== undefined ? { since: opts.since } : {}),
      ...(opts.before !== undefined ? { before: opts.before } : {}),
    };
    this.log('list', who, (reason ?? '').trim() || '(no reason given)', [], { count: rows.length, ...searched });
    return rows;
  }

  hold(id: string, who: Accessor, reason: string | undefined, caseRef: string): RecordingRow {
    const why = this.checkReason(reason);
    const rec = this.recording(id);
    if (rec.held) throw new AccessRefused(409, `recording ${id} is already on hold for ${rec.holdCase} (allerede holdt)`);
    const at = this.d.now();
    this.d.audiolog.store.setHold(id, true, caseRef, { id, by: who.username, role: who.role, reason: why, case: caseRef }, at);
    this.log('hold', who, why, [id], { case: caseRef });
    return this.recording(id);
  }

  release(id: string, who: Accessor, reason: string | undefined): RecordingRow {
    const why = this.checkReason(reason);
    const rec = this.recording(id);
    if (!rec.held) throw new AccessRefused(409, `recording ${id} is not on hold (ikke holdt)`);
    this.d.audiolog.store.setHold(id, false, null, { id, by: who.username, role: who.role, reason: why, case: rec.holdCase }, this.d.now());
    this.log('release', who, why, [id]);
    return this.recording(id);
  }

  /** The access log, newest first (from the chain). */
  accessLog(opts: {
    limit: number;
    beforeSeq?: number;
    recordingId?: string;
  }): Array<{ seq: number; at: number; recordingId: string | null } & Record<string, unknown>> {
    return this.d.audiolog.store
      .entriesOfKind('access', opts)
      .map((e) => ({ seq: e.seq, at: e.at, recordingId: e.recordingId, ...(JSON.parse(e.bodyJson) as Record<string, unknown>) }));
  }
}
