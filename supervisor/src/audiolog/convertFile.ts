/**
 * One recording's conversion on disk: read rtpengine's pcap and metadata, write
 * the stereo WAV (left = caller, right = call-taker) with its SHA-256 computed
 * from the very bytes written, fsync it. Runs inside the conversion worker
 * (convertWorker.ts) so an hour-long call never blocks the supervisor's loop.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { parseMetadataFile, type RecordingMetadata } from '../../../hardware/rtpengine/metadata.js';
import { type ChannelStats, convertPcap, SAMPLE_RATE, type Side } from './convert.js';
import { decodeTable } from './g711.js';
import { type WavFormat, wavHeader } from './wav.js';

export interface ConvertJob {
  pcapFile: string;
  /** rtpengine's metadata text (may be a tmp file's partial content). */
  metadataText: string;
  wavFile: string;
}

export interface ConvertSummary {
  wavSha256: string;
  wavBytes: number;
  pcapSha256: string;
  pcapBytes: number;
  format: WavFormat;
  frames: number;
  /** Length of the WAV (ms). */
  audioMs: number;
  /** Epoch ms of the first sample (null: no audio at all). */
  startMs: number | null;
  stats: Record<Side, ChannelStats>;
  truncated: boolean;
  warnings: string[];
}

const CHUNK_FRAMES = 64 * 1024;

export function convertFile(job: ConvertJob): ConvertSummary {
  let pcap: Buffer;
  try {
    pcap = readFileSync(job.pcapFile);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'ENOENT') throw err;
    // rtpengine opens the pcap at the first packet: no file = no audio at all.
    pcap = Buffer.alloc(0);
  }
  const pcapSha256 = createHash('sha256').update(pcap).digest('hex');
  const meta: RecordingMetadata = parseMetadataFile(job.metadataText);
  const audio = convertPcap(pcap, meta);
  const codecs = [audio.stats.caller.codec, audio.stats.callTaker.codec].filter((c) => c !== null);
  const format: WavFormat = codecs.length === 0 ? 'mulaw' : codecs.every((c) => c === codecs[0]) ? (codecs[0] as WavFormat) : 'pcm16';

  const hash = createHash('sha256');
  const fd = openSync(job.wavFile, 'w', 0o600);
  let written = 0;
  const write = (b: Buffer) => {
    hash.update(b);
    let off = 0;
    while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    written += b.length;
  };
  try {
    write(wavHeader(format, 2, SAMPLE_RATE, audio.frames));
    const { caller, callTaker } = audio.channels;
    for (let f0 = 0; f0 < audio.frames; f0 += CHUNK_FRAMES) {
      const n = Math.min(CHUNK_FRAMES, audio.frames - f0);
      if (format === 'pcm16') {
        const lc = decodeTable(audio.stats.caller.codec ?? 'mulaw');
        const lt = decodeTable(audio.stats.callTaker.codec ?? 'mulaw');
        const out = Buffer.alloc(n * 4);
        for (let i = 0; i < n; i++) {
          out.writeInt16LE(lc[caller[f0 + i] as number] as number, i * 4);
          out.writeInt16LE(lt[callTaker[f0 + i] as number] as number, i * 4 + 2);
        }
        write(out);
      } else {
        const out = Buffer.alloc(n * 2);
        for (let i = 0; i < n; i++) {
          out[i * 2] = caller[f0 + i] as number;
          out[i * 2 + 1] = callTaker[f0 + i] as number;
        }
        write(out);
      }
    }
    // RIFF chunks are word-aligned.
    if (written % 2 === 1) write(Buffer.alloc(1));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return {
    wavSha256: hash.digest('hex'),
    wavBytes: written,
    pcapSha256,
    pcapBytes: pcap.length,
    format,
    frames: audio.frames,
    audioMs: Math.round((audio.frames / SAMPLE_RATE) * 1000),
    startMs: audio.startUs === null ? null : Math.round(audio.startUs / 1000),
    stats: audio.stats,
    truncated: audio.truncated,
    warnings: audio.warnings,
  };
}
