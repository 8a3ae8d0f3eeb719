/**
 * The backup's container: what audiolog/tar.ts writes, backup/tarReader.ts reads back byte
 * for byte (empty files, exact 512-byte multiples, names that need the ustar prefix); a file
 * cut short or a damaged header is an error, never a shorter archive; manifest.json refuses
 * paths that would leave their folder and a format newer than this build reads.
 */
import { Readable } from 'node:stream';
import t from 'tap';
import { BACKUP_FORMAT_VERSION, parseManifest } from '../../../supervisor/src/backup/manifest.js';
import { readTar } from '../../../supervisor/src/backup/tarReader.js';
import { type TarEntry, tarStream } from '../../../supervisor/src/audiolog/tar.js';

async function bytesOf(entries: TarEntry[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of tarStream(entries, 1_800_000_000)) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Feeds the archive in awkward chunk sizes, so entry and header boundaries fall mid-chunk. */
async function read(archive: Buffer, chunk = 333): Promise<Map<string, Buffer>> {
  const got = new Map<string, Buffer>();
  const chunks: Buffer[] = [];
  for (let i = 0; i < archive.length; i += chunk) chunks.push(archive.subarray(i, i + chunk));
  await readTar(Readable.from(chunks), (name, size) => {
    const parts: Buffer[] = [];
    return {
      write: (b) => parts.push(Buffer.from(b)),
      end: () => {
        const all = Buffer.concat(parts);
        if (all.length !== size) throw new Error(`${name}: ${all.length} ≠ ${size}`);
        got.set(name, all);
      },
    };
  });
  return got;
}

t.test('what the writer writes, the reader reads back exactly', async (t) => {
  const long = `audio/2026/12/07/${'x'.repeat(90)}/${'y'.repeat(60)}.wav`;
  const entries = [
    { name: 'manifest.json', data: Buffer.from('{}\n') },
    { name: 'data/empty', data: Buffer.alloc(0) },
    { name: 'data/exact', data: Buffer.alloc(1024, 7) },
    { name: long, data: Buffer.from(Array.from({ length: 5000 }, (_, i) => i % 251)) },
  ];
  const archive = await bytesOf(entries);
  for (const chunk of [1, 333, 512, 1 << 20]) {
    const got = await read(archive, chunk);
    t.same(
      [...got.keys()],
      entries.map((e) => e.name),
      `names in order (chunks of ${chunk})`,
    );
    for (const e of entries) t.ok(got.get(e.name)?.equals(e.data), `${e.name.slice(0, 30)}: same bytes`);
  }
});

t.test('a cut-short or damaged archive is an error', async (t) => {
  const archive = await bytesOf([
    { name: 'manifest.json', data: Buffer.from('{}\n') },
    { name: 'data/vaktpost.db', data: Buffer.alloc(3000, 1) },
  ]);
  await t.rejects(read(archive.subarray(0, 2000)), /ends early \(after 2000 bytes, inside an entry\)/, 'cut inside an entry');
  await t.rejects(read(archive.subarray(0, archive.length - 1024)), /ends early/, 'cut before the end blocks');
  const bad = Buffer.from(archive);
  bad[10] = 0x41; // in the first header's name: its checksum no longer matches
  await t.rejects(read(bad), /header at byte 0 is damaged/);
});

t.test('manifest.json: paths stay inside their folder; newer formats are refused', async (t) => {
  const sha = 'a'.repeat(64);
  const base = {
    format: 'vaktpost-backup',
    formatVersion: 1,
    vaktpostVersion: '0.1.0',
    schemaVersion: 8,
    createdAt: '2026-12-07T00:00:00Z',
    box: 'b',
    withAudio: false,
    files: [{ path: 'data/vaktpost.db', size: 1, sha256: sha }],
  };
  t.equal(parseManifest(JSON.stringify(base)).files.length, 1);
  for (const p of ['data/../etc/passwd', '/etc/passwd', 'data//x', 'other/x', 'data/./x']) {
    t.throws(() => parseManifest(JSON.stringify({ ...base, files: [...base.files, { path: p, size: 1, sha256: sha }] })), /not valid/, `refused: ${p}`);
  }
  t.throws(() => parseManifest(JSON.stringify({ ...base, formatVersion: BACKUP_FORMAT_VERSION + 1 })), /format version 2, newer than this Vaktpost reads/);
  t.throws(() => parseManifest(JSON.stringify({ ...base, format: 'tar' })), /not a Vaktpost backup/);
  t.throws(() => parseManifest(JSON.stringify({ ...base, files: [] })), /lists no data\/vaktpost\.db/);
  t.throws(() => parseManifest(JSON.stringify({ ...base, files: [base.files[0], base.files[0]] })), /twice/);
});
