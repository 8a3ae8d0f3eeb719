/**
 * Reader for the classic pcap files rtpengine's `recording-method=pcap` writes
 * (one per call, every packet rtpengine received for it, with its IP/UDP
 * headers: `recording-format=eth` → linktype 1, `raw` → linktype 101/228).
 * Pure and synchronous over a Buffer: it runs inside the conversion worker.
 *
 * A file cut short (disk full, rtpengine killed) ends in a partial record: the
 * reader stops there and says so (`truncated`), it never throws for it.
 */

export interface UdpPacket {
  /** Capture time, µs since the epoch (rtpengine's receive time). */
  tsUs: number;
  srcIp: string;
  srcPort: number;
  dstIp: string;
  dstPort: number;
  /** UDP payload (a view into the file buffer). */
  payload: Buffer;
}

export interface PcapReadResult {
  linktype: number;
  packets: UdpPacket[];
  /** Records that were not IPv4/IPv6 + UDP (ignored). */
  skipped: number;
  /** The file ended inside a record header or body. */
  truncated: boolean;
  /** Bytes of the file that were read as whole records (incl. the 24-byte header). */
  goodBytes: number;
}

export class PcapFormatError extends Error {}

const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const LINK_IPV4 = 228;
const LINK_IPV6 = 229;
const LINK_LINUX_SLL = 113;

function ipv4(b: Buffer, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

function ipv6(b: Buffer, o: number): string {
  const parts: string[] = [];
  for (let k = 0; k < 8; k++) parts.push(b.readUInt16BE(o + k * 2).toString(16));
  return parts.join(':');
}

/** Parse an IP datagram; returns null for anything that is not whole UDP. */
function udpFromIp(frame: Buffer, o: number, tsUs: number): UdpPacket | null {
  if (o >= frame.length) return null;
  const version = (frame[o] ?? 0) >> 4;
  let l4: number;
  let src: string;
  let dst: string;
  let end: number;
  if (version === 4) {
    const ihl = ((frame[o] ?? 0) & 0x0f) * 4;
    if (ihl < 20 || o + ihl > frame.length) return null;
    if (frame[o + 9] !== 17) return null;
    const total = frame.readUInt16BE(o + 2);
    // rtpengine writes total length 0 in some versions; trust the capture length then.
    end = total >= ihl ? Math.min(frame.length, o + total) : frame.length;
    src = ipv4(frame, o + 12);
    dst = ipv4(frame, o + 16);
    l4 = o + ihl;
  } else if (version === 6) {
    if (o + 40 > frame.length || frame[o + 6] !== 17) return null;
    src = ipv6(frame, o + 8);
    dst = ipv6(frame, o + 24);
    l4 = o + 40;
    end = frame.length;
  } else {
    return null;
  }
  if (l4 + 8 > end) return null;
  const udpLen = frame.readUInt16BE(l4 + 4);
  const payloadEnd = udpLen >= 8 ? Math.min(end, l4 + udpLen) : end;
  return {
    tsUs,
    srcIp: src,
    srcPort: frame.readUInt16BE(l4),
    dstIp: dst,
    dstPort: frame.readUInt16BE(l4 + 2),
    payload: frame.subarray(l4 + 8, payloadEnd),
  };
}

export function readPcap(buf: Buffer): PcapReadResult {
  if (buf.length < 24) {
    if (buf.length === 0) return { linktype: LINK_ETHERNET, packets: [], skipped: 0, truncated: true, goodBytes: 0 };
    throw new PcapFormatError(`pcap file is only ${buf.length} bytes (no 24-byte header)`);
  }
  const magic = buf.readUInt32LE(0);
  let le: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4) [le, nano] = [true, false];
  else if (magic === 0xa1b23c4d) [le, nano] = [true, true];
  else if (magic === 0xd4c3b2a1) [le, nano] = [false, false];
  else if (magic === 0x4d3cb2a1) [le, nano] = [false, true];
  else throw new PcapFormatError(`not a pcap file (magic 0x${magic.toString(16)}); pcapng is not supported`);
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const linktype = u32(20) & 0x0fffffff;
  const packets: UdpPacket[] = [];
  let skipped = 0;
  let o = 24;
  let truncated = false;
  while (o < buf.length) {
    if (o + 16 > buf.length) {
      truncated = true;
      break;
    }
    const sec = u32(o);
    const frac = u32(o + 4);
    const incl = u32(o + 8);
    if (o + 16 + incl > buf.length) {
      truncated = true;
      break;
    }
    const frame = buf.subarray(o + 16, o + 16 + incl);
    const tsUs = sec * 1_000_000 + (nano ? Math.floor(frac / 1000) : frac);
    o += 16 + incl;
    let p: UdpPacket | null = null;
    if (linktype === LINK_ETHERNET) {
      let off = 12;
      let type = frame.length >= 14 ? frame.readUInt16BE(12) : 0;
      while (type === 0x8100 && frame.length >= off + 6) {
        off += 4;
        type = frame.readUInt16BE(off);
      }
      if (type === 0x0800 || type === 0x86dd) p = udpFromIp(frame, off + 2, tsUs);
    } else if (linktype === LINK_RAW || linktype === LINK_IPV4 || linktype === LINK_IPV6) {
      p = udpFromIp(frame, 0, tsUs);
    } else if (linktype === LINK_LINUX_SLL) {
      p = udpFromIp(frame, 16, tsUs);
    } else {
      throw new PcapFormatError(`pcap linktype ${linktype} is not supported (expected 1, 101, 113, 228 or 229)`);
    }
    if (p) packets.push(p);
    else skipped++;
  }
  return { linktype, packets, skipped, truncated, goodBytes: truncated ? o : buf.length };
}
