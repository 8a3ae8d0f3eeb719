/**
 * The 48-byte NTP packet header (RFC 5905 §7.3), without extension fields or
 * MACs — all an SNTP client or a test server needs.
 */
import { type NtpTimestamp, isZeroTimestamp } from './timestamp.js';

export const NTP_PACKET_SIZE = 48;

export const NTP_MODE = { symmetricActive: 1, symmetricPassive: 2, client: 3, server: 4, broadcast: 5 } as const;

/** Leap indicator: 0 none, 1 insert, 2 delete, 3 = clock not synchronised. */
export type LeapIndicator = 0 | 1 | 2 | 3;

export interface NtpPacket {
  leap: LeapIndicator;
  version: number;
  mode: number;
  stratum: number;
  /** log2 seconds. */
  poll: number;
  /** log2 seconds (signed). */
  precision: number;
  rootDelayS: number;
  rootDispersionS: number;
  /** 4 raw bytes: ASCII code for stratum 0/1 (kiss code / clock name), IPv4 address above. */
  refId: Buffer;
  reference: NtpTimestamp;
  origin: NtpTimestamp;
  receive: NtpTimestamp;
  transmit: NtpTimestamp;
}

const ZERO: NtpTimestamp = { seconds: 0, fraction: 0 };

export function emptyPacket(overrides: Partial<NtpPacket> = {}): NtpPacket {
  return {
    leap: 0,
    version: 4,
    mode: NTP_MODE.client,
    stratum: 0,
    poll: 0,
    precision: 0,
    rootDelayS: 0,
    rootDispersionS: 0,
    refId: Buffer.alloc(4),
    reference: ZERO,
    origin: ZERO,
    receive: ZERO,
    transmit: ZERO,
    ...overrides,
  };
}

/** NTP short format: unsigned 16.16 fixed point seconds. */
function writeShort(buf: Buffer, offset: number, s: number): void {
  buf.writeUInt32BE(Math.min(0xffffffff, Math.max(0, Math.round(s * 65536))), offset);
}

function writeTs(buf: Buffer, offset: number, ts: NtpTimestamp): void {
  buf.writeUInt32BE(ts.seconds >>> 0, offset);
  buf.writeUInt32BE(ts.fraction >>> 0, offset + 4);
}

function readTs(buf: Buffer, offset: number): NtpTimestamp {
  return { seconds: buf.readUInt32BE(offset), fraction: buf.readUInt32BE(offset + 4) };
}

export function encodePacket(p: NtpPacket): Buffer {
  const buf = Buffer.alloc(NTP_PACKET_SIZE);
  buf.writeUInt8(((p.leap & 0x3) << 6) | ((p.version & 0x7) << 3) | (p.mode & 0x7), 0);
  buf.writeUInt8(p.stratum & 0xff, 1);
  buf.writeInt8(Math.max(-128, Math.min(127, p.poll)), 2);
  buf.writeInt8(Math.max(-128, Math.min(127, p.precision)), 3);
  writeShort(buf, 4, p.rootDelayS);
  writeShort(buf, 8, p.rootDispersionS);
  p.refId.copy(buf, 12, 0, 4);
  writeTs(buf, 16, p.reference);
  writeTs(buf, 24, p.origin);
  writeTs(buf, 32, p.receive);
  writeTs(buf, 40, p.transmit);
  return buf;
}

/** Returns null for anything shorter than a header: such datagrams are not NTP. */
export function decodePacket(buf: Buffer): NtpPacket | null {
  if (buf.length < NTP_PACKET_SIZE) return null;
  const b0 = buf.readUInt8(0);
  return {
    leap: ((b0 >> 6) & 0x3) as LeapIndicator,
    version: (b0 >> 3) & 0x7,
    mode: b0 & 0x7,
    stratum: buf.readUInt8(1),
    poll: buf.readInt8(2),
    precision: buf.readInt8(3),
    rootDelayS: buf.readUInt32BE(4) / 65536,
    rootDispersionS: buf.readUInt32BE(8) / 65536,
    refId: Buffer.from(buf.subarray(12, 16)),
    reference: readTs(buf, 16),
    origin: readTs(buf, 24),
    receive: readTs(buf, 32),
    transmit: readTs(buf, 40),
  };
}

export function sameTimestamp(a: NtpTimestamp, b: NtpTimestamp): boolean {
  return a.seconds === b.seconds && a.fraction === b.fraction;
}

/** Human form of a reference id: kiss code / clock name at stratum 0–1, dotted IPv4 (or IPv6 hash) above. */
export function refIdText(stratum: number, refId: Buffer): string {
  if (stratum <= 1)
    return refId
      .toString('ascii')
      .replace(/[^\x20-\x7e]/g, '')
      .trim();
  return Array.from(refId).join('.');
}

export { isZeroTimestamp };
