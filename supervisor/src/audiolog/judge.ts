/**
 * Is a recording complete? (pure) Each channel is judged on its own, against
 * what rtpengine itself counted on that side's stream during the call:
 *
 *  - a side whose packets rtpengine received but the recording lacks: media
 *    was sent but NOT recorded → incomplete (disk full, rtpengine stopped);
 *  - a side that sent nothing at all (rtpengine received no packet from it):
 *    the recording is faithful to the wire, but one-sided → `one-sided`, with a
 *    note naming the silent side (one-way audio: a NAT, a muted phone, a
 *    broken headset — worth a warning, not a recording fault);
 *  - a pause in the RTP (silence suppression, hold, both sides quiet at the
 *    end) is not a gap in the recording when rtpengine's counters show that
 *    every packet it received up to its last count is in the file.
 *
 * Without rtpengine's counters (the supervisor was not watching the call) the
 * length of the captured audio against the connected time is the only check
 * left — the one that also catches rtpengine's silent failures (disk full
 * truncates the pcap without a log line; a killed rtpengine leaves its files
 * half-written; measured, ops/rtpengine/README.md).
 */
import { SIDES, type Side } from './convert.js';
import { type Note, noteText } from './verdictText.js';

/** rtpengine's own count of what it received from one side (ng `query`, last seen during the call). */
export interface SentCount {
  packets: number;
  /** Epoch ms of the last packet it received (null: none). */
  lastPacketMs: number | null;
  /** Epoch ms the count was taken. */
  observedAt: number;
}

export interface SideEvidence {
  /** Captured audio samples (8 per ms). */
  samples: number;
  /** Every RTP packet of this side in the recording (placed, duplicates, left out). */
  packets: number;
  /** What rtpengine received from this side; null when nobody asked it during the call. */
  sent: SentCount | null;
}

export interface JudgeInput {
  sides: Record<Side, SideEvidence>;
  /** The pcap ended inside a packet. */
  truncated: boolean;
  /** rtpengine finished the metadata (false: adopted in-progress file). */
  finished: boolean;
  /** How long the call was connected (ms), from Kamailio or rtpengine; null if unknown. */
  connectedMs: number | null;
  /** Epoch ms the call ended (Kamailio or rtpengine); null if unknown. */
  endedAt: number | null;
  /** The call was answered (an answer SDP or Kamailio's word). */
  answered: boolean;
  /** rtpengine was seen restarting while this recording was being made (epoch ms it came back). */
  restart: { at: number } | null;
}

export interface JudgeLimits {
  completeRatio: number;
  incompleteMinMissingMs: number;
}

export type VerdictStatus = 'complete' | 'one-sided' | 'incomplete' | 'no-audio';

export interface Verdict {
  status: VerdictStatus;
  /** Audio captured on the longer side (ms). */
  capturedMs: number;
  /** Why it is not complete, in English (empty when complete). */
  reasons: string[];
  /** The same in Norwegian. */
  reasonsNb: string[];
  /** The same as message keys with parameters. */
  notes: Note[];
  /** The side that sent no audio at all (status `one-sided`), else null. */
  silentSide: Side | null;
  /**
   * Epoch ms up to which rtpengine's counters prove that every packet it received
   * from either side is in the recording (null: not proven). The audit then does
   * not count a pause in the RTP before that as missing audio.
   */
  mediaAccountedUntil: number | null;
}

/** Packets rtpengine may count that never reach the file (the odd stray); more is a loss. */
function lossTolerance(sent: number): number {
  return Math.max(2, Math.floor(sent * 0.01));
}

export function judgeRecording(i: JudgeInput, limits: JudgeLimits): Verdict {
  const capturedMs = Math.round(Math.max(i.sides.caller.samples, i.sides.callTaker.samples) / 8);
  const notes: Note[] = [];
  let incomplete = false;
  const fault = (n: Note) => {
    notes.push(n);
    incomplete = true;
  };
  const at = i.restart ? new Date(i.restart.at).toISOString() : undefined;

  const silent: Side[] = [];
  let lossy = false;
  for (const side of SIDES) {
    const s = i.sides[side];
    if (s.sent && s.sent.packets - s.packets > lossTolerance(s.sent.packets)) {
      lossy = true;
      fault({ key: 'recording.sentNotRecorded', params: { side, sent: s.sent.packets, recorded: s.packets } });
    } else if (s.packets === 0 && (s.sent === null || s.sent.packets === 0)) silent.push(side);
  }
  const counted = SIDES.every((s) => i.sides[s].sent !== null);
  const mediaAccountedUntil = counted && !lossy ? Math.min(...SIDES.map((s) => (i.sides[s].sent as SentCount).observedAt)) : null;

  let silentSide: Side | null = null;
  if (capturedMs === 0) {
    if (!i.answered && !lossy) return { status: 'no-audio', capturedMs, reasons: [], reasonsNb: [], notes: [], silentSide: null, mediaAccountedUntil };
    if (!lossy) fault({ key: counted && silent.length === 2 ? 'recording.nothingSent' : 'recording.noAudio', params: {} });
  } else if (silent.length === 1 && i.answered) {
    // (Unanswered: early media flows one way by nature — not one-way audio.)
    silentSide = silent[0] as Side;
    notes.push({ key: 'recording.oneSided', params: { side: silentSide } });
  }

  if (!i.finished) fault({ key: i.restart ? 'recording.stoppedRestart' : 'recording.stopped', params: at ? { at } : {} });
  if (i.truncated && !(i.restart && !i.finished)) {
    fault({ key: i.restart ? 'recording.cutOffRestart' : i.finished ? 'recording.cutOffWrite' : 'recording.cutOffStopped', params: at ? { at } : {} });
  }

  if (i.connectedMs !== null && capturedMs > 0) {
    // Counted to within the tolerance of the end: a shorter capture is a pause in the RTP, not a loss.
    const accounted = mediaAccountedUntil !== null && i.endedAt !== null && i.endedAt - mediaAccountedUntil <= limits.incompleteMinMissingMs;
    const missing = i.connectedMs - capturedMs;
    if (!accounted && capturedMs < i.connectedMs * limits.completeRatio && missing > limits.incompleteMinMissingMs) {
      fault({ key: 'recording.short', params: { capturedS: (capturedMs / 1000).toFixed(1), connectedS: (i.connectedMs / 1000).toFixed(1) } });
    }
  }

  const status: VerdictStatus = incomplete ? 'incomplete' : silentSide ? 'one-sided' : 'complete';
  const texts = notes.map(noteText);
  return {
    status,
    capturedMs,
    reasons: texts.map((t) => t.en),
    reasonsNb: texts.map((t) => t.nb),
    notes,
    silentSide: status === 'one-sided' ? silentSide : null,
    mediaAccountedUntil,
  };
}
