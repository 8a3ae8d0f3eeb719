/**
 * A minimal ustar writer (POSIX tar): regular files only, streamed, so an export
 * of hour-long recordings never sits whole in memory. Every tar tool reads it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

export type TarEntry = { name: string; data: Buffer } | { name: string; file: string };

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

export function tarHeader(name: string, size: number, mtimeS: number): Buffer {
  const h = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`tar: name too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(0o600, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtimeS), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('vaktpost', 265, 'ascii');
  h.write('vaktpost', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

export function tarStream(entries: readonly TarEntry[], mtimeS = Math.floor(Date.now() / 1000)): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for (const e of entries) {
      if ('data' in e) {
        yield tarHeader(e.name, e.data.length, mtimeS);
        yield e.data;
        if (e.data.length % 512) yield Buffer.alloc(512 - (e.data.length % 512));
      } else {
        const size = (await stat(e.file)).size;
        yield tarHeader(e.name, size, mtimeS);
        let sent = 0;
        for await (const chunk of createReadStream(e.file)) {
          const b = chunk as Buffer;
          // A file that grew after stat would corrupt the archive: never send more than the header says.
          const part = b.subarray(0, Math.max(0, size - sent));
          sent += part.length;
          yield part;
        }
        if (sent !== size) throw new Error(`tar: ${e.file} shrank while being exported`);
        if (size % 512) yield Buffer.alloc(512 - (size % 512));
      }
    }
    yield Buffer.alloc(1024);
  }
  return Readable.from(gen());
}
