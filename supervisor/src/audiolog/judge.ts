/**
 * Is a recording complete? (pure) Compares the audio actually captured with how
 * long the call was connected — the only check that catches rtpengine's silent
 * failures (disk full truncates the pcap without a log line; a killed rtpengine
 * leaves its files half-written; measured, ops/rtpengine/README.md).
 */
import type { ChannelStats } from './convert.js';

export interface JudgeInput {
  /** Captured samples per side (8 per ms). */
  stats: { caller: Pick<ChannelStats, 'samples'>; callTaker: Pick<ChannelStats, 'samples'> };
  /** The pcap ended inside a packet. */
  truncated: boolean;
  /** rtpengine finished the metadata (false: adopted in-progress file). */
  finished: boolean;
  /** How long the call was connected (ms), from Kamailio or rtpengine; null if unknown. */
  connectedMs: number | null;
  /** The call was answered (an answer SDP or Kamailio's word). */
  answered: boolean;
}

export interface JudgeLimits {
  completeRatio: number;
  incompleteMinMissingMs: number;
}

export interface Verdict {
  status: 'complete' | 'incomplete' | 'no-audio';
  capturedMs: number;
  /** Why it is not complete, in plain words (empty when complete). */
  reasons: string[];
}

export function judgeRecording(i: JudgeInput, limits: JudgeLimits): Verdict {
  const capturedMs = Math.round(Math.max(i.stats.caller.samples, i.stats.callTaker.samples) / 8);
  const reasons: string[] = [];
  if (capturedMs === 0) {
    if (!i.answered) return { status: 'no-audio', capturedMs, reasons: [] };
    reasons.push('no audio was captured for an answered call');
  }
  if (i.truncated) reasons.push('the recording file is cut off inside a packet (disk full, or rtpengine stopped while writing)');
  if (!i.finished) reasons.push('rtpengine stopped during the call: the recording ends where it stopped');
  if (i.connectedMs !== null && capturedMs > 0) {
    const missing = i.connectedMs - capturedMs;
    if (capturedMs < i.connectedMs * limits.completeRatio && missing > limits.incompleteMinMissingMs) {
      reasons.push(`only ${(capturedMs / 1000).toFixed(1)} s of audio for a ${(i.connectedMs / 1000).toFixed(1)} s call`);
    }
  }
  return { status: reasons.length > 0 ? 'incomplete' : 'complete', capturedMs, reasons };
}
