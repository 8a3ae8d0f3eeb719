/** RTP (RFC 3550) header parsing: just what turning captured packets back into audio needs. */

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  /** Payload without header, CSRCs, extension or padding (a view). */
  payload: Buffer;
}

/** RTCP packet types 200–204 share the byte where RTP has marker+PT (RFC 5761 §4). */
function looksLikeRtcp(b1: number): boolean {
  return b1 >= 200 && b1 <= 204;
}

/** Null when the datagram is not an RTP v2 packet (RTCP, STUN, garbage, or cut short). */
export function parseRtp(d: Buffer): RtpPacket | null {
  if (d.length < 12) return null;
  const b0 = d[0] as number;
  const b1 = d[1] as number;
  if (b0 >> 6 !== 2 || looksLikeRtcp(b1)) return null;
  const cc = b0 & 0x0f;
  let off = 12 + cc * 4;
  if ((b0 & 0x10) !== 0) {
    if (d.length < off + 4) return null;
    off += 4 + d.readUInt16BE(off + 2) * 4;
  }
  let end = d.length;
  if ((b0 & 0x20) !== 0) {
    const pad = d[d.length - 1] as number;
    if (pad === 0 || pad > end - off) return null;
    end -= pad;
  }
  if (off > end) return null;
  return {
    payloadType: b1 & 0x7f,
    marker: (b1 & 0x80) !== 0,
    seq: d.readUInt16BE(2),
    timestamp: d.readUInt32BE(4),
    ssrc: d.readUInt32BE(8),
    payload: d.subarray(off, end),
  };
}
