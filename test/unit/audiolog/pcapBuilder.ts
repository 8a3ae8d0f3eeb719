/** Builds classic pcap files the way rtpengine writes them (Ethernet + IPv4 + UDP + RTP), for unit tests. */

export interface TestPacket {
  tsUs: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ts: number;
  ssrc: number;
  pt?: number;
  payload: Buffer;
}

export function rtpPacket(p: Pick<TestPacket, 'seq' | 'ts' | 'ssrc' | 'pt' | 'payload'>): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = p.pt ?? 0;
  h.writeUInt16BE(p.seq & 0xffff, 2);
  h.writeUInt32BE(p.ts >>> 0, 4);
  h.writeUInt32BE(p.ssrc >>> 0, 8);
  return Buffer.concat([h, p.payload]);
}

export function pcapFile(packets: readonly TestPacket[]): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(65535, 16);
  head.writeUInt32LE(1, 20);
  const recs: Buffer[] = [head];
  for (const p of packets) {
    const rtp = rtpPacket(p);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(p.srcPort, 0);
    udp.writeUInt16BE(p.dstPort, 2);
    udp.writeUInt16BE(8 + rtp.length, 4);
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + 8 + rtp.length, 2);
    ip[8] = 64;
    ip[9] = 17;
    ip.set([127, 0, 0, 1], 12);
    ip.set([127, 0, 0, 1], 16);
    const eth = Buffer.alloc(14);
    eth.writeUInt16BE(0x0800, 12);
    const frame = Buffer.concat([eth, ip, udp, rtp]);
    const rh = Buffer.alloc(16);
    rh.writeUInt32LE(Math.floor(p.tsUs / 1e6), 0);
    rh.writeUInt32LE(p.tsUs % 1e6, 4);
    rh.writeUInt32LE(frame.length, 8);
    rh.writeUInt32LE(frame.length, 12);
    recs.push(rh, frame);
  }
  return Buffer.concat(recs);
}

/** rtpengine's metadata for a call whose offer SDP port is `offerPort` (call-taker sends there) and answer port `answerPort` (caller sends there). */
export function metadataText(o: {
  offerPort: number;
  answerPort: number;
  startMs?: number;
  endMs?: number | null;
  metadata?: string;
  codec?: string;
  pt?: number;
}): string {
  const start = o.startMs ?? 1_795_313_983_811.625;
  const sdp = (port: number) =>
    `v=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio ${port} RTP/AVP ${o.pt ?? 0}\r\na=rtpmap:${o.pt ?? 0} ${o.codec ?? 'PCMU/8000'}\r\na=sendrecv\r\na=rtcp:${port + 1}\r\n`;
  let text = `/spool/pcaps/call%40x-0123456789abcdef.pcap\n\n\nTimestamp started ms: ${start}\nSDP mode: offer\nSDP before RTP packet: 1\n\n${sdp(o.offerPort)}\nTimestamp started ms: ${start + 20}\nSDP mode: answer\nSDP before RTP packet: 1\n\n${sdp(o.answerPort)}`;
  if (o.endMs !== null) {
    text += `\nTimestamp terminated ms(first monologue): ${o.endMs ?? start + 5000}\n\ncall start time: 2026-11-22T02:19:43\ncall end time: 2026-11-22T02:19:48\n\n\n${o.metadata ?? 'vaktpost=1|caller=3437'}\n`;
  }
  return text;
}

/**
 * A two-party call as rtpengine's pcap holds it: `frames` 20 ms PCMU frames each way, the
 * caller (port 4000 → 30014, SSRC 1) and the call-taker (5000 → 30000, SSRC 2, 5 µs later),
 * each side's payload a slowly changing byte so the two channels tell apart.
 */
export function twoPartyCall(startMs: number, frames: number): TestPacket[] {
  const pkts: TestPacket[] = [];
  for (let i = 0; i < frames; i++) {
    const tsUs = (startMs + i * 20) * 1000;
    pkts.push({ tsUs, srcPort: 4000, dstPort: 30014, seq: i, ts: i * 160, ssrc: 1, payload: Buffer.alloc(160, 0x20 + (i % 50)) });
    pkts.push({ tsUs: tsUs + 5, srcPort: 5000, dstPort: 30000, seq: i, ts: i * 160, ssrc: 2, payload: Buffer.alloc(160, 0x90 + (i % 50)) });
  }
  return pkts;
}
