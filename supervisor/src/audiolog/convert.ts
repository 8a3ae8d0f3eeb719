/**
 * pcap → two time-aligned audio channels (caller, call-taker), bit-exact: every
 * sample is an RTP payload byte exactly as it arrived; nothing is decoded,
 * mixed or resampled. Pure (Buffers in, arrays out) — it runs in a worker thread.
 *
 * Which side sent a packet: rtpengine's metadata holds the SDPs it SENT. Ports
 * in its rewritten offer are where the call-taker sends to; ports in its
 * rewritten answer are where the caller sends to. So a packet's destination
 * port names its side (source addresses are unreliable behind NAT/SBCs).
 *
 * Where a packet goes on the timeline: by its RTP timestamp relative to the
 * first packet of its SSRC, anchored at that packet's capture time. A new SSRC
 * (centre switch, re-INVITE) or a timestamp jump that disagrees with the capture
 * clock by more than 2 s is re-anchored by capture time — never on top of audio
 * already placed. Gaps (loss, silence suppression) hold the codec's silence.
 */
import { readPcap, type UdpPacket } from '../../../hardware/rtpengine/pcap.js';
import { parseRtp } from '../../../hardware/rtpengine/rtp.js';
import type { RecordingMetadata } from '../../../hardware/rtpengine/metadata.js';
import { type G711, SILENCE } from './g711.js';

export const SAMPLE_RATE = 8000;
/** Re-anchor when RTP time and capture time disagree by more than this (samples). */
const REANCHOR_SAMPLES = 2 * SAMPLE_RATE;

export type Side = 'caller' | 'callTaker';
export const SIDES: readonly Side[] = ['caller', 'callTaker'];

export interface ChannelStats {
  packets: number;
  /** Samples of audio actually received (sum of payload lengths). */
  samples: number;
  duplicates: number;
  /** Packets not placed: before the start, unknown codec, DTMF/CN. */
  ignored: number;
  reanchors: number;
  ssrcs: number[];
  codec: G711 | null;
  /** Capture time (epoch µs) of the first and last audio packet. */
  firstUs: number | null;
  lastUs: number | null;
  /** Where this side's packets came from (ip:port), for the record. */
  sources: string[];
}

export interface ConvertedAudio {
  /** Per side: one G.711 code per sample, the same length for both. */
  channels: Record<Side, Uint8Array>;
  /** Codec per side (null = no audio from that side). */
  frames: number;
  /** Epoch µs of sample 0 (the first audio packet of either side). */
  startUs: number | null;
  stats: Record<Side, ChannelStats>;
  /** The pcap ended inside a record (disk full, rtpengine killed). */
  truncated: boolean;
  /** Things a listener or auditor should know (unassigned packets, guessed sides). */
  warnings: string[];
}

interface Anchor {
  baseTs: number;
  basePos: number;
}

class Track {
  buf: Uint8Array = new Uint8Array(0);
  end = 0;
  readonly anchors = new Map<number, Anchor>();
  readonly seen = new Set<number>();
  readonly stats: ChannelStats = {
    packets: 0,
    samples: 0,
    duplicates: 0,
    ignored: 0,
    reanchors: 0,
    ssrcs: [],
    codec: null,
    firstUs: null,
    lastUs: null,
    sources: [],
  };

  ensure(n: number, fill: number): void {
    if (n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(n, Math.ceil(this.buf.length * 1.5), SAMPLE_RATE * 10));
    next.fill(fill);
    next.set(this.buf.subarray(0, this.end));
    if (this.buf.length > this.end) next.fill(fill, this.end);
    this.buf = next;
  }
}

function codecOf(pt: number, rtpmap: Record<number, string>): G711 | 'ignore' | null {
  const name = (rtpmap[pt] ?? (pt === 0 ? 'PCMU/8000' : pt === 8 ? 'PCMA/8000' : pt === 13 ? 'CN/8000' : '')).toUpperCase();
  if (name.startsWith('PCMU/8000')) return 'mulaw';
  if (name.startsWith('PCMA/8000')) return 'alaw';
  if (name.startsWith('TELEPHONE-EVENT') || name.startsWith('CN/')) return 'ignore';
  return null;
}

/**
 * rtpengine's port → the side that sends to it (by the SDP ports rtpengine handed
 * out). Also names the side of rtpengine's own per-stream counters (their `local port`).
 */
export function sideMap(meta: RecordingMetadata | null): Map<number, Side> {
  const m = new Map<number, Side>();
  for (const s of meta?.sdps ?? []) {
    const side: Side | null = s.mode === 'offer' ? 'callTaker' : s.mode === 'answer' ? 'caller' : null;
    if (!side) continue;
    for (const p of s.audioPorts) if (!m.has(p)) m.set(p, side);
  }
  return m;
}

export function convertPackets(packets: readonly UdpPacket[], meta: RecordingMetadata | null, truncated = false): ConvertedAudio {
  const warnings: string[] = [];
  const ports = sideMap(meta);
  const rtpmap: Record<number, string> = {};
  for (const s of meta?.sdps ?? []) Object.assign(rtpmap, s.rtpmap);
  if (ports.size === 0) warnings.push('no SDP in the metadata: sides assigned by order of appearance (first sender = caller)');

  // First pass: parse, assign sides, find the common start.
  const flowSide = new Map<string, Side>();
  type Item = { side: Side; tsUs: number; rtp: NonNullable<ReturnType<typeof parseRtp>>; src: string };
  const items: Item[] = [];
  let unassigned = 0;
  for (const p of packets) {
    const rtp = parseRtp(p.payload);
    if (!rtp) continue;
    const src = `${p.srcIp}:${p.srcPort}`;
    let side = ports.get(p.dstPort) ?? flowSide.get(src);
    if (!side && ports.size === 0) {
      const used = new Set(flowSide.values());
      side = !used.has('caller') ? 'caller' : !used.has('callTaker') ? 'callTaker' : undefined;
    }
    if (!side) {
      unassigned++;
      continue;
    }
    if (!flowSide.has(src)) flowSide.set(src, side);
    items.push({ side, tsUs: p.tsUs, rtp, src });
  }
  if (unassigned > 0) warnings.push(`${unassigned} RTP packets went to ports not in any SDP and were left out`);

  const tracks: Record<Side, Track> = { caller: new Track(), callTaker: new Track() };
  // The codec decides the fill value; both sides' fills are fixed once known.
  let startUs: number | null = null;
  for (const it of items) {
    const c = codecOf(it.rtp.payloadType, rtpmap);
    if (c === 'mulaw' || c === 'alaw') {
      if (startUs === null || it.tsUs < startUs) startUs = it.tsUs;
      const st = tracks[it.side].stats;
      if (st.codec === null) st.codec = c;
    }
  }
  for (const it of items) {
    const tr = tracks[it.side];
    const st = tr.stats;
    const codec = codecOf(it.rtp.payloadType, rtpmap);
    if (codec !== 'mulaw' && codec !== 'alaw') {
      st.ignored++;
      continue;
    }
    // A side that switched law mid-call keeps its first law; the others are counted.
    if (codec !== st.codec) {
      st.ignored++;
      if (!warnings.some((w) => w.startsWith(`${it.side} switched`))) warnings.push(`${it.side} switched codec mid-call; ${codec} packets left out`);
      continue;
    }
    const { seq, timestamp: ts, ssrc, payload } = it.rtp;
    const key = ssrc * 65536 + seq;
    const wallPos = Math.round(((it.tsUs - (startUs as number)) * SAMPLE_RATE) / 1e6);
    let a = tr.anchors.get(ssrc);
    if (!a) {
      a = { baseTs: ts, basePos: Math.max(wallPos, tr.anchors.size > 0 ? tr.end : 0) };
      tr.anchors.set(ssrc, a);
      st.ssrcs.push(ssrc);
      tr.seen.clear();
    }
    let pos = a.basePos + ((ts - a.baseTs) | 0);
    if (Math.abs(pos - wallPos) > REANCHOR_SAMPLES) {
      a.baseTs = ts;
      a.basePos = Math.max(wallPos, tr.end);
      pos = a.basePos;
      st.reanchors++;
      tr.seen.clear();
    }
    if (tr.seen.has(key)) {
      st.duplicates++;
      continue;
    }
    if (pos < 0) {
      st.ignored++;
      continue;
    }
    tr.seen.add(key);
    // Bound memory of the duplicate filter: seq numbers wrap at 65536 anyway.
    if (tr.seen.size > 4096) tr.seen.clear();
    tr.ensure(pos + payload.length, SILENCE[st.codec]);
    tr.buf.set(payload, pos);
    if (pos + payload.length > tr.end) tr.end = pos + payload.length;
    st.packets++;
    st.samples += payload.length;
    st.firstUs ??= it.tsUs;
    st.lastUs = it.tsUs;
    if (!st.sources.includes(it.src) && st.sources.length < 8) st.sources.push(it.src);
  }

  const frames = Math.max(tracks.caller.end, tracks.callTaker.end);
  const channels = {} as Record<Side, Uint8Array>;
  for (const side of SIDES) {
    const tr = tracks[side];
    const fill = SILENCE[tr.stats.codec ?? tracks[side === 'caller' ? 'callTaker' : 'caller'].stats.codec ?? 'mulaw'];
    const out = new Uint8Array(frames);
    out.fill(fill);
    out.set(tr.buf.subarray(0, Math.min(tr.end, frames)));
    channels[side] = out;
  }
  return { channels, frames, startUs, stats: { caller: tracks.caller.stats, callTaker: tracks.callTaker.stats }, truncated, warnings };
}

/** Convenience: straight from the pcap bytes. */
export function convertPcap(pcap: Buffer, meta: RecordingMetadata | null): ConvertedAudio {
  const r = readPcap(pcap);
  const out = convertPackets(r.packets, meta, r.truncated);
  if (r.truncated) out.warnings.push(`the pcap ends inside a packet after ${r.goodBytes} bytes (disk full or rtpengine stopped while writing)`);
  return out;
}
