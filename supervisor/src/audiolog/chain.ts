/**
 * The audio log's hash chain (pure). Every fact about the archive — a recording
 * archived, deleted, put on or released from legal hold, listened to or
 * exported, a call that went unrecorded — is one entry whose hash covers the
 * previous entry's hash and the entry's own stored bytes:
 *
 *   hash = SHA-256( prevHash \n seq \n at \n kind \n recordingId \n SHA-256(bodyJson) )
 *
 * Changing, removing or reordering any entry breaks every hash after it, and a
 * removed entry also leaves a gap in `seq`. The body is stored as canonical JSON
 * (sorted keys), so the hash is recomputed from the stored text as it is. The
 * body enters only by its digest: an export proves one recording's place in the
 * chain with the other entries' digests, without their contents (other callers'
 * numbers, other people's access reasons).
 */
import { createHash } from 'node:crypto';

export const GENESIS_HASH = '0'.repeat(64);

export const CHAIN_KINDS = ['recording', 'deletion', 'hold', 'release', 'access', 'unrecorded'] as const;
export type ChainKind = (typeof CHAIN_KINDS)[number];

export interface ChainEntry {
  seq: number;
  at: number;
  kind: ChainKind;
  recordingId: string | null;
  /** Canonical JSON of the body, exactly as stored and hashed. */
  bodyJson: string;
  prevHash: string;
  hash: string;
}

/** JSON with object keys sorted at every level: one text per value. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = sortKeys(x);
    }
    return out;
  }
  return v;
}

export function bodyDigest(bodyJson: string): string {
  return createHash('sha256').update(bodyJson).digest('hex');
}

/** The link hash from the body's digest (what an export's proof carries for other entries). */
export function linkHash(prevHash: string, e: { seq: number; at: number; kind: string; recordingId: string | null; bodySha256: string }): string {
  return createHash('sha256')
    .update(`${prevHash}\n${e.seq}\n${e.at}\n${e.kind}\n${e.recordingId ?? ''}\n${e.bodySha256}`)
    .digest('hex');
}

export function entryHash(prevHash: string, e: Pick<ChainEntry, 'seq' | 'at' | 'kind' | 'recordingId' | 'bodyJson'>): string {
  return linkHash(prevHash, { ...e, bodySha256: bodyDigest(e.bodyJson) });
}

export interface ChainProblem {
  seq: number;
  recordingId: string | null;
  kind: 'gap' | 'link' | 'hash' | 'body';
  message: string;
}

/**
 * Check a run of entries (ascending seq) that should continue from `prev`
 * (the entry before the run, or genesis). Streaming-friendly: feed chunks,
 * passing the last entry of one chunk as `prev` of the next.
 */
export function verifyChainRun(entries: readonly ChainEntry[], prev: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH }): ChainProblem[] {
  const problems: ChainProblem[] = [];
  let expectSeq = prev.seq + 1;
  let prevHash = prev.hash;
  for (const e of entries) {
    const name = e.recordingId ? `recording ${e.recordingId}` : `${e.kind} entry`;
    if (e.seq !== expectSeq) {
      problems.push({
        seq: expectSeq,
        recordingId: null,
        kind: 'gap',
        message:
          e.seq > expectSeq
            ? `${e.seq - 1 > expectSeq ? `chain entries ${expectSeq}–${e.seq - 1} are` : `chain entry ${expectSeq} is`} missing (deleted from the index) before seq ${e.seq} (${name})`
            : `chain entry seq ${e.seq} (${name}) is out of order`,
      });
    }
    if (e.prevHash !== prevHash) {
      problems.push({
        seq: e.seq,
        recordingId: e.recordingId,
        kind: 'link',
        message: `seq ${e.seq} (${name}) does not link to the entry before it (prev_hash differs)`,
      });
    }
    if (entryHash(e.prevHash, e) !== e.hash) {
      problems.push({
        seq: e.seq,
        recordingId: e.recordingId,
        kind: 'hash',
        message: `seq ${e.seq} (${name}) was altered: its hash does not match its content`,
      });
    }
    try {
      JSON.parse(e.bodyJson);
    } catch {
      problems.push({ seq: e.seq, recordingId: e.recordingId, kind: 'body', message: `seq ${e.seq} (${name}) has a body that is not JSON` });
    }
    expectSeq = e.seq + 1;
    prevHash = e.hash;
  }
  return problems;
}
