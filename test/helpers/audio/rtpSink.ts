/**
 * A UDP socket that plays the caller's ear: collects the RTP the announcement
 * sends, so a test can check that real audio — the recorded prompt — arrives,
 * not just a 200 OK.
 */
import dgram from 'node:dgram';

export interface RtpCapture {
  packets: number;
  payloadTypes: Set<number>;
  /** Payload bytes in arrival order (RTP header stripped). */
  payload: Buffer;
  firstAt: number | null;
  lastAt: number | null;
}

export interface RtpSink {
  readonly port: number;
  capture(): RtpCapture;
  close(): Promise<void>;
}

export async function startRtpSink(host = '127.0.0.1'): Promise<RtpSink> {
  const sock = dgram.createSocket('udp4');
  const chunks: Buffer[] = [];
  const pts = new Set<number>();
  let packets = 0;
  let firstAt: number | null = null;
  let lastAt: number | null = null;
  sock.on('message', (msg) => {
    if (msg.length < 12 || msg[0] === undefined || (msg[0] & 0xc0) !== 0x80) return; // not RTP v2
    const cc = msg[0] & 0x0f;
    const headerLen = 12 + cc * 4;
    packets++;
    pts.add((msg[1] ?? 0) & 0x7f);
    chunks.push(msg.subarray(headerLen));
    const now = performance.now();
    firstAt ??= now;
    lastAt = now;
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, host, () => resolve());
  });
  return {
    port: sock.address().port,
    capture: () => ({ packets, payloadTypes: new Set(pts), payload: Buffer.concat(chunks), firstAt, lastAt }),
    close: () => new Promise((r) => sock.close(() => r())),
  };
}

/**
 * Does `received` play `prompt` (looped)? True when the first 160-byte frame is
 * found in the prompt and everything after it follows the prompt byte for byte.
 */
export function playsPrompt(received: Buffer, prompt: Buffer): boolean {
  if (received.length < 160 || prompt.length < 160) return false;
  const head = received.subarray(0, 160);
  // The head may be silence that occurs in several places: try every match.
  for (let start = prompt.indexOf(head); start >= 0; start = prompt.indexOf(head, start + 1)) {
    let same = true;
    for (let i = 0; i < received.length && same; i++) same = received[i] === prompt[(start + i) % prompt.length];
    if (same) return true;
  }
  return false;
}
