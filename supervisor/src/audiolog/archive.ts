/**
 * Where recordings live: `<archiveDir>/<YYYY>/<MM>/<DD>/<id>/` holding
 * `audio.wav`, `metadata.txt` (rtpengine's, verbatim), `record.json` (the
 * record's own description, so an archive folder names itself even if its index
 * row is gone) and optionally `call.pcap`. Folders 0700, files 0600: only the
 * supervisor's user reads the patient record; everyone else goes through the API.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open } from 'node:fs/promises';
import path from 'node:path';

export const STAGING = '.staging';
export const FILE_AUDIO = 'audio.wav';
export const FILE_METADATA = 'metadata.txt';
export const FILE_RECORD = 'record.json';
export const FILE_PCAP = 'call.pcap';

/** Deterministic: the same rtpengine file always gets the same id (a retried ingest reuses it). */
export function recordingId(source: string, startedMs: number | null): string {
  const h = createHash('sha256').update(source).digest('hex').slice(0, 12);
  if (startedMs === null || !Number.isFinite(startedMs)) return `undated-${h}`;
  const iso = new Date(startedMs).toISOString(); // 2026-11-22T02:34:04.035Z
  return `${iso.slice(0, 10).replaceAll('-', '')}T${iso.slice(11, 19).replaceAll(':', '')}Z-${h}`;
}

/** `YYYY/MM/DD/<id>` (UTC) relative to the archive root. */
export function relativeDir(id: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T/.exec(id);
  return m ? path.posix.join(m[1] as string, m[2] as string, m[3] as string, id) : path.posix.join('undated', id);
}

/** mkdir -p with owner-only permissions on every folder it creates (and the leaf). */
export async function mkdirPrivate(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

/** fsync a directory so a rename into it survives a power cut. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** SHA-256 of a file, streamed (never the whole file in memory). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
}
