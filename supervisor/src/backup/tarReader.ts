/**
 * Reads the ustar archives audiolog/tar.ts writes (regular files only), streamed:
 * each entry's content goes to the caller chunk by chunk, so a backup with hours of
 * audio never sits in memory. Guarantees: an entry is reported only with a header whose
 * checksum is right; a short archive, a bad header or any entry type other than a
 * regular file is an error naming the offset; reading stops at the end-of-archive
 * blocks (anything after them is ignored, as tar does).
 */
import type { Readable } from 'node:stream';

export interface TarSink {
  write(chunk: Buffer): void;
  end(): void;
}

/** Called for every entry; returns where its content goes. */
export type OnEntry = (name: string, size: number) => TarSink;

export class TarFormatError extends Error {}

function field(h: Buffer, start: number, len: number): string {
  const b = h.subarray(start, start + len);
  const nul = b.indexOf(0);
  return b.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function parseOctal(h: Buffer, start: number, len: number, what: string, at: number): number {
  const s = field(h, start, len).trim();
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`tar: bad ${what} in the header at byte ${at}`);
  return Number.parseInt(s, 8);
}

function parseHeader(h: Buffer, at: number): { name: string; size: number } | null {
  if (h.every((b) => b === 0)) return null;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] as number);
  if (parseOctal(h, 148, 8, 'checksum', at) !== sum) throw new TarFormatError(`tar: the header at byte ${at} is damaged (checksum)`);
  const type = String.fromCharCode(h[156] as number);
  const base = field(h, 0, 100);
  const prefix = field(h, 345, 155);
  const name = prefix ? `${prefix}/${base}` : base;
  if (type !== '0' && type !== '\0') throw new TarFormatError(`tar: ${name} is not a regular file (type ${JSON.stringify(type)}): not a Vaktpost backup`);
  return { name, size: parseOctal(h, 124, 12, 'size', at) };
}

/** Reads the whole archive from `input`, handing each entry's bytes to the sink `onEntry` returns. */
export async function readTar(input: Readable, onEntry: OnEntry): Promise<void> {
  let buf: Buffer = Buffer.alloc(0);
  let offset = 0; // bytes of the archive consumed
  let entry: { sink: TarSink; left: number; pad: number } | null = null;
  let ended = false;
  for await (const chunk of input) {
    if (ended) continue;
    buf = buf.length === 0 ? (chunk as Buffer) : Buffer.concat([buf, chunk as Buffer]);
    for (;;) {
      if (entry) {
        if (entry.left > 0) {
          if (buf.length === 0) break;
          const part = buf.subarray(0, Math.min(entry.left, buf.length));
          entry.sink.write(part);
          entry.left -= part.length;
          buf = buf.subarray(part.length);
          offset += part.length;
          if (entry.left > 0) break;
        }
        if (buf.length < entry.pad) break;
        buf = buf.subarray(entry.pad);
        offset += entry.pad;
        entry.sink.end();
        entry = null;
      }
      if (buf.length < 512) break;
      const h = parseHeader(buf.subarray(0, 512), offset);
      buf = buf.subarray(512);
      offset += 512;
      if (!h) {
        ended = true;
        break;
      }
      entry = { sink: onEntry(h.name, h.size), left: h.size, pad: (512 - (h.size % 512)) % 512 };
    }
  }
  if (!ended) throw new TarFormatError(`tar: the archive ends early (after ${offset} bytes${entry ? ', inside an entry' : ''}): the file is cut short`);
}
