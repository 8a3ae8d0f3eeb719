/**
 * rtpengine's per-stream packet counters of the calls it is recording, as last
 * seen by the recording monitor (which asks rtpengine about every in-progress
 * recording each round). rtpengine forgets a call the moment Kamailio deletes
 * it (delete-delay 0), so the last round's count is the closest to the end we
 * get: at most one poll (1 s by default) before it.
 *
 * Memory only, bounded (the oldest call is dropped first): after a supervisor
 * restart the calls in progress are counted from then on, and a recording
 * without counts is judged by its length, as before.
 */
import type { RecordingMetadata } from '../../../hardware/rtpengine/metadata.js';
import type { StreamCount } from '../../../hardware/rtpengine/streamStats.js';
import { SIDES, type Side, sideMap } from './convert.js';
import type { SentCount } from './judge.js';

export interface CallCounts {
  /** Epoch ms the counts were taken. */
  at: number;
  streams: StreamCount[];
}

export class MediaCounters {
  private readonly byCall = new Map<string, CallCounts>();

  constructor(private readonly max = 2000) {}

  record(callId: string, streams: StreamCount[], at: number): void {
    this.byCall.delete(callId);
    this.byCall.set(callId, { at, streams });
    if (this.byCall.size > this.max) {
      const [oldest] = this.byCall.keys();
      if (oldest !== undefined) this.byCall.delete(oldest);
    }
  }

  get(callId: string): CallCounts | null {
    return this.byCall.get(callId) ?? null;
  }

  forget(callId: string): void {
    this.byCall.delete(callId);
  }
}

/**
 * What each side sent, by the ports in the recording's SDPs (the same rule that
 * assigns the recorded packets to sides). Null for a side without a port there.
 */
export function sentBySide(counts: CallCounts | null, meta: RecordingMetadata): Record<Side, SentCount | null> {
  const out: Record<Side, SentCount | null> = { caller: null, callTaker: null };
  if (!counts) return out;
  const ports = sideMap(meta);
  for (const side of SIDES) {
    if (![...ports.values()].includes(side)) continue;
    let packets = 0;
    let last: number | null = null;
    for (const s of counts.streams) {
      if (ports.get(s.port) !== side) continue;
      packets += s.packets;
      if (s.lastPacketMs !== null) last = Math.max(last ?? 0, s.lastPacketMs);
    }
    out[side] = { packets, lastPacketMs: last, observedAt: counts.at };
  }
  return out;
}
