/**
 * rtpengine's own count of the media it received, per RTP stream, from an ng
 * `query` (or `delete`) answer. Pure.
 *
 * Layout (rtpengine 10.5, measured): `tags.<tag>.medias[].streams[]`, each
 * stream with `local port` (rtpengine's port the other end sends TO — the same
 * port rtpengine wrote into the SDP it sent, so it names the side exactly as
 * the recording's metadata does), `flags` (`RTP` or `RTCP`), `last packet`
 * (epoch seconds; set at creation too, so meaningless while `packets` is 0) and
 * `stats: {packets, bytes, errors}`.
 *
 * Guarantees: never throws on an odd answer (missing pieces are skipped); RTCP
 * streams are left out (they carry no audio); ports are unique (a port seen
 * twice keeps the larger count).
 */
import type { BencodeValue } from './bencode.js';

export interface StreamCount {
  /** rtpengine's local port the media arrived on. */
  port: number;
  packets: number;
  bytes: number;
  /** Epoch ms of the last packet (null while none arrived). */
  lastPacketMs: number | null;
}

type Dict = { [key: string]: BencodeValue };

function dict(v: BencodeValue | undefined): Dict | null {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v) ? v : null;
}

function list(v: BencodeValue | undefined): BencodeValue[] {
  return Array.isArray(v) ? v : [];
}

function num(v: BencodeValue | undefined): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' || Buffer.isBuffer(v) ? Number(v.toString()) : Number.NaN;
  return Number.isFinite(n) ? n : null;
}

function text(v: BencodeValue): string {
  return typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('utf8') : '';
}

/** Every RTP stream of the call with what rtpengine received on it. */
export function rtpStreamCounts(answer: Dict): StreamCount[] {
  const byPort = new Map<number, StreamCount>();
  const tags = dict(answer.tags);
  for (const tag of Object.values(tags ?? {})) {
    for (const media of list(dict(tag)?.medias)) {
      for (const s of list(dict(media)?.streams)) {
        const st = dict(s);
        if (!st) continue;
        const flags = list(st.flags).map(text);
        if (flags.includes('RTCP')) continue;
        const port = num(st['local port']);
        const stats = dict(st.stats);
        const packets = num(stats?.packets);
        if (port === null || packets === null) continue;
        const last = num(st['last packet']);
        const count: StreamCount = { port, packets, bytes: num(stats?.bytes) ?? 0, lastPacketMs: packets > 0 && last !== null ? last * 1000 : null };
        const had = byPort.get(port);
        if (!had || had.packets < count.packets) byPort.set(port, count);
      }
    }
  }
  return [...byPort.values()];
}

/** `statistics.totalstatistics.uptime` in seconds (null if the answer has none). */
export function uptimeSeconds(statistics: Dict): number | null {
  return num(dict(dict(statistics.statistics)?.totalstatistics)?.uptime);
}
