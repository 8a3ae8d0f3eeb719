/**
 * WAV (RIFF) headers for the archived recordings: 8 kHz, two channels (left =
 * caller, right = call-taker), either G.711 as received (µ-law format 7, A-law
 * format 6: one byte per sample, exactly the RTP payload bytes) or 16-bit PCM
 * (format 1) when the two sides used different G.711 laws. Non-PCM formats get
 * the `fact` chunk the spec asks for; sox, ffmpeg and browsers read all three.
 */

export type WavFormat = 'mulaw' | 'alaw' | 'pcm16';

const FORMAT_TAG: Record<WavFormat, number> = { pcm16: 1, alaw: 6, mulaw: 7 };

export interface WavInfo {
  format: WavFormat;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  frames: number;
  /** Byte offset of the sample data. */
  dataOffset: number;
  dataBytes: number;
}

export function bytesPerSample(format: WavFormat): number {
  return format === 'pcm16' ? 2 : 1;
}

/** The header for `frames` frames; the sample data follows it directly. */
export function wavHeader(format: WavFormat, channels: number, sampleRate: number, frames: number): Buffer {
  const bps = bytesPerSample(format);
  const dataBytes = frames * channels * bps;
  const pcm = format === 'pcm16';
  const fmtSize = pcm ? 16 : 18;
  const factSize = pcm ? 0 : 12;
  const header = Buffer.alloc(12 + 8 + fmtSize + factSize + 8);
  let o = 0;
  header.write('RIFF', o);
  header.writeUInt32LE(4 + 8 + fmtSize + factSize + 8 + dataBytes + (dataBytes % 2), 4);
  header.write('WAVE', 8);
  o = 12;
  header.write('fmt ', o);
  header.writeUInt32LE(fmtSize, o + 4);
  header.writeUInt16LE(FORMAT_TAG[format], o + 8);
  header.writeUInt16LE(channels, o + 10);
  header.writeUInt32LE(sampleRate, o + 12);
  header.writeUInt32LE(sampleRate * channels * bps, o + 16);
  header.writeUInt16LE(channels * bps, o + 20);
  header.writeUInt16LE(bps * 8, o + 22);
  if (!pcm) header.writeUInt16LE(0, o + 24); // cbSize
  o += 8 + fmtSize;
  if (!pcm) {
    header.write('fact', o);
    header.writeUInt32LE(4, o + 4);
    header.writeUInt32LE(frames, o + 8);
    o += 12;
  }
  header.write('data', o);
  header.writeUInt32LE(dataBytes, o + 4);
  return header;
}

export class WavFormatError extends Error {}

/** Parse a WAV header (ours or any simple RIFF/WAVE file). */
export function readWavInfo(buf: Buffer): WavInfo {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  let o = 12;
  let fmt: { tag: number; channels: number; rate: number; bits: number } | null = null;
  while (o + 8 <= buf.length) {
    const id = buf.toString('latin1', o, o + 4);
    const size = buf.readUInt32LE(o + 4);
    if (id === 'fmt ') {
      fmt = { tag: buf.readUInt16LE(o + 8), channels: buf.readUInt16LE(o + 10), rate: buf.readUInt32LE(o + 12), bits: buf.readUInt16LE(o + 22) };
    } else if (id === 'data') {
      if (!fmt) throw new WavFormatError('data chunk before fmt chunk');
      const format: WavFormat | undefined = fmt.tag === 7 ? 'mulaw' : fmt.tag === 6 ? 'alaw' : fmt.tag === 1 && fmt.bits === 16 ? 'pcm16' : undefined;
      if (!format) throw new WavFormatError(`unsupported WAV format tag ${fmt.tag} / ${fmt.bits} bits`);
      const frameBytes = fmt.channels * bytesPerSample(format);
      const dataBytes = Math.min(size, buf.length - (o + 8));
      return {
        format,
        channels: fmt.channels,
        sampleRate: fmt.rate,
        bitsPerSample: fmt.bits,
        frames: Math.floor(dataBytes / frameBytes),
        dataOffset: o + 8,
        dataBytes,
      };
    }
    o += 8 + size + (size % 2);
  }
  throw new WavFormatError('no data chunk');
}

/** One channel's samples as raw bytes (G.711 codes, or little-endian int16 pairs). */
export function channelOf(buf: Buffer, info: WavInfo, channel: number): Buffer {
  const bps = bytesPerSample(info.format);
  const out = Buffer.alloc(info.frames * bps);
  const stride = info.channels * bps;
  for (let f = 0; f < info.frames; f++) {
    const src = info.dataOffset + f * stride + channel * bps;
    for (let k = 0; k < bps; k++) out[f * bps + k] = buf[src + k] as number;
  }
  return out;
}
