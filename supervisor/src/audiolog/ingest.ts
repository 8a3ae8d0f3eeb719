/**
 * Moves one finished rtpengine recording from the spool into the archive:
 *
 *   1. already in the index (by rtpengine's file name)? → only tidy the spool
 *   2. convert pcap → stereo WAV in `<archive>/.staging/<id>/` (worker thread)
 *   3. copy the metadata, hash every file, write record.json, fsync
 *   4. rename the staging folder to `<archive>/YYYY/MM/DD/<id>` (atomic)
 *   5. ONE transaction: chain entry + index row
 *   6. delete the spool files
 *
 * Idempotent and resumable: a crash before 5 leaves the spool untouched and at
 * most a folder with no index row, which the retry replaces (the conversion is
 * deterministic); a crash after 5 leaves spool files the retry finds indexed and
 * just deletes. Nothing is lost, nothing archived twice.
 */
import { copyFile, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { callIdFromSpoolName, parseMetadataFile, parseVaktpostMetadata } from '../../../hardware/rtpengine/metadata.js';
import type { AudiologStore, CallRow, RecordingRow } from '../store/audiologStore.js';
import { FILE_AUDIO, FILE_METADATA, FILE_PCAP, FILE_RECORD, fsyncDir, mkdirPrivate, recordingId, relativeDir, sha256File, STAGING } from './archive.js';
import type { ChannelStats } from './convert.js';
import type { Converter } from './converter.js';
import { type JudgeLimits, judgeRecording, type Verdict } from './judge.js';
import { type CallCounts, sentBySide } from './mediaCounters.js';
import type { RtpengineRestart } from './rtpengineRestarts.js';

export type IngestStep = 'converted' | 'staged' | 'renamed' | 'committed' | 'cleaned';

export interface IngesterDeps {
  store: AudiologStore;
  converter: Pick<Converter, 'convert'>;
  archiveDir: string;
  spoolDir: string;
  keepPcap: boolean;
  limits: JudgeLimits;
  now: () => number;
  /** Kamailio's view of the call, if it told us (caller, route, connected time). */
  callInfo?: (callId: string) => CallRow | null;
  /** rtpengine's packet counters of the call, as last seen while it was recorded. */
  mediaCounts?: (callId: string) => CallCounts | null;
  /** The rtpengine restart that cut a recording made from `from` to `to` (null: never finished). */
  restartDuring?: (from: number, to: number | null) => RtpengineRestart | null;
  /** Crash-test hook: called after each step (tests kill the process here). */
  faultPoint?: (step: IngestStep, source: string) => void;
}

export type IngestResult =
  | { outcome: 'archived'; recording: RecordingRow; verdict: Verdict }
  | { outcome: 'duplicate'; recording: RecordingRow }
  | { outcome: 'gone' };

export class Ingester {
  constructor(private readonly d: IngesterDeps) {}

  private get metadataDir(): string {
    return path.join(this.d.spoolDir, 'metadata');
  }

  /** A pcap path from a metadata file is only trusted inside the spool's pcaps/ folder. */
  private pcapPath(fromMeta: string, source: string): string {
    const pcaps = path.join(this.d.spoolDir, 'pcaps');
    const resolved = path.resolve(fromMeta);
    if (fromMeta && path.dirname(resolved) === pcaps) return resolved;
    // rtpengine's spool seen under another mount path (tests, a moved spool): same file name.
    return path.join(pcaps, path.basename(fromMeta || source.replace(/^rtpengine-meta-/, '').replace(/\.txt$/, '.pcap')));
  }

  /** Startup: half-built staging folders of a crashed ingest are discarded (their spool files remain). */
  async discardStaging(): Promise<void> {
    await rm(path.join(this.d.archiveDir, STAGING), { recursive: true, force: true });
  }

  async ingest(source: string): Promise<IngestResult> {
    const metaFile = path.join(this.metadataDir, source);
    let text: string;
    try {
      text = await readFile(metaFile, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { outcome: 'gone' };
      throw err;
    }
    const meta = parseMetadataFile(text);
    const pcapFile = this.pcapPath(meta.pcapPath, source);

    const existing = this.d.store.recordingBySource(source);
    if (existing) {
      await this.tidySpool(metaFile, pcapFile);
      return { outcome: 'duplicate', recording: existing };
    }

    const fields = parseVaktpostMetadata(meta.metadata);
    const callId = fields.callid ?? callIdFromSpoolName(source) ?? source;
    const firstSdpMs = meta.sdps[0]?.startedMs ?? null;
    const id = recordingId(source, firstSdpMs);
    const rel = relativeDir(id);
    const staging = path.join(this.d.archiveDir, STAGING, id);
    const final = path.join(this.d.archiveDir, rel);

    await rm(staging, { recursive: true, force: true });
    await mkdirPrivate(staging);
    const summary = await this.d.converter.convert({ pcapFile, metadataText: text, wavFile: path.join(staging, FILE_AUDIO) });
    this.d.faultPoint?.('converted', source);

    await writeFile(path.join(staging, FILE_METADATA), text, { mode: 0o600 });
    const files: Record<string, string> = { [FILE_AUDIO]: summary.wavSha256, [FILE_METADATA]: await sha256File(path.join(staging, FILE_METADATA)) };
    if (this.d.keepPcap && summary.pcapBytes > 0) {
      await copyFile(pcapFile, path.join(staging, FILE_PCAP));
      files[FILE_PCAP] = await sha256File(path.join(staging, FILE_PCAP));
    }

    // Kamailio's view fills in what rtpengine's metadata cannot know (an adopted file has no metadata string).
    const call = this.d.callInfo?.(callId) ?? null;
    const answerSdp = meta.sdps.find((s) => s.mode === 'answer');
    const kamailioMs = call?.endedAt != null ? call.endedAt - call.connectedAt : null;
    const rtpengineMs = meta.terminatedMs !== null && answerSdp ? meta.terminatedMs - answerSdp.startedMs : null;
    const connectedMs = kamailioMs ?? (rtpengineMs !== null ? Math.round(rtpengineMs) : null);
    const finished = meta.callEnd !== null;
    const startedAt = Math.round(firstSdpMs ?? summary.startMs ?? this.d.now());
    const sent = sentBySide(this.d.mediaCounts?.(callId) ?? null, meta);
    // Every RTP packet of a side that reached the file, whether placed in the audio or not.
    const inFile = (c: ChannelStats) => c.packets + c.ignored + c.duplicates;
    const restart = this.d.restartDuring?.(startedAt, finished ? meta.terminatedMs : null) ?? null;
    const verdict = judgeRecording(
      {
        sides: {
          caller: { samples: summary.stats.caller.samples, packets: inFile(summary.stats.caller), sent: sent.caller },
          callTaker: { samples: summary.stats.callTaker.samples, packets: inFile(summary.stats.callTaker), sent: sent.callTaker },
        },
        truncated: summary.truncated,
        finished,
        connectedMs,
        endedAt: call?.endedAt ?? meta.terminatedMs,
        answered: answerSdp !== undefined || call !== null,
        restart: restart ? { at: restart.upSince } : null,
      },
      this.d.limits,
    );
    const endedAt =
      meta.terminatedMs !== null
        ? Math.round(meta.terminatedMs)
        : (call?.endedAt ?? (summary.stats.caller.lastUs ? Math.round(summary.stats.caller.lastUs / 1000) : null));
    const bytes = summary.wavBytes + Buffer.byteLength(text) + (files[FILE_PCAP] ? summary.pcapBytes : 0);
    const record = {
      id,
      source,
      callId,
      kind: fields.test === '1' || call?.test ? 'test' : 'call',
      status: verdict.status,
      reasons: verdict.reasons,
      reasonsNb: verdict.reasonsNb,
      notes: verdict.notes,
      silentSide: verdict.silentSide,
      caller: fields.caller ?? call?.caller ?? null,
      called: fields.called ?? call?.called ?? null,
      route: fields.route || call?.route || null,
      centre: fields.centre || call?.centre || null,
      startedAt,
      endedAt,
      connectedMs,
      audioMs: summary.audioMs,
      capturedMs: verdict.capturedMs,
      format: summary.format,
      dir: rel,
      files,
      sides: {
        caller: { ...summary.stats.caller, capturedMs: Math.round(summary.stats.caller.samples / 8), sent: sent.caller },
        callTaker: { ...summary.stats.callTaker, capturedMs: Math.round(summary.stats.callTaker.samples / 8), sent: sent.callTaker },
      },
      pcap: { sha256: summary.pcapSha256, bytes: summary.pcapBytes, truncated: summary.truncated },
      warnings: summary.warnings,
    } as const;
    await writeFile(path.join(staging, FILE_RECORD), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 });
    const fh = await open(path.join(staging, FILE_RECORD), 'r');
    await fh.sync();
    await fh.close();
    await fsyncDir(staging);
    this.d.faultPoint?.('staged', source);

    await mkdirPrivate(path.dirname(final));
    // A folder with no index row is a previous attempt that crashed before committing.
    await rm(final, { recursive: true, force: true });
    await rename(staging, final);
    await fsyncDir(path.dirname(final));
    this.d.faultPoint?.('renamed', source);

    const { row } = this.d.store.insertRecording(
      {
        id,
        source,
        callId,
        kind: record.kind,
        status: verdict.status,
        startedAt,
        endedAt,
        caller: record.caller,
        called: record.called,
        route: record.route,
        centre: record.centre,
        audioMs: summary.audioMs,
        connectedMs,
        dir: rel,
        bytes,
        summary: {
          files,
          reasons: verdict.reasons,
          reasonsNb: verdict.reasonsNb,
          notes: verdict.notes,
          silentSide: verdict.silentSide,
          mediaAccountedUntil: verdict.mediaAccountedUntil,
          ...(restart ? { rtpengineRestart: restart } : {}),
          capturedMs: verdict.capturedMs,
          format: summary.format,
          sides: record.sides,
          pcap: record.pcap,
          warnings: summary.warnings,
          // When rtpengine deleted the call (null: it never finished the file): the call's end
          // for the audit when Kamailio's end event was lost.
          rtpengineEndedAt: finished && meta.terminatedMs !== null ? Math.round(meta.terminatedMs) : null,
        },
      },
      // The chain entry carries what proves the file: its hashes, and what the call was.
      {
        id,
        source,
        callId,
        kind: record.kind,
        status: verdict.status,
        caller: record.caller,
        called: record.called,
        route: record.route,
        centre: record.centre,
        startedAt,
        endedAt,
        audioMs: summary.audioMs,
        capturedMs: verdict.capturedMs,
        dir: rel,
        files,
      },
      this.d.now(),
    );
    this.d.faultPoint?.('committed', source);
    await this.tidySpool(metaFile, pcapFile);
    this.d.faultPoint?.('cleaned', source);
    return { outcome: 'archived', recording: row, verdict };
  }

  private async tidySpool(metaFile: string, pcapFile: string): Promise<void> {
    // pcap first: a crash in between leaves the metadata file, which leads here again.
    await unlink(pcapFile).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await unlink(metaFile).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  /**
   * Adopt an in-progress file rtpengine abandoned (it was killed mid-call): move it
   * to metadata/ under the name rtpengine would have used, so the normal ingest
   * archives what was recorded — marked incomplete. Returns the new name.
   */
  async adopt(tmpName: string): Promise<string | null> {
    const from = path.join(this.d.spoolDir, 'tmp', tmpName);
    const name = tmpName.replace(/\.tmp$/, '.txt');
    try {
      await stat(from);
    } catch {
      return null;
    }
    await rename(from, path.join(this.metadataDir, name));
    return name;
  }
}
