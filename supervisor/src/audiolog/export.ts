/**
 * An export bundle (tar) for a complaint, supervision or compensation case:
 *
 *   README.txt            what this is and how to check it (bokmål + English)
 *   <id>/audio.wav …      the recording's files, as archived
 *   SHA256SUMS            the files' SHA-256 as recorded in the chain (`sha256sum -c`)
 *   chain-proof.json      the recordings' own chain entries in full, and every link
 *                         from the first of them to the chain's head (other entries
 *                         by digest only: no other caller's data leaves the box)
 *   verify-bundle.mjs     a dependency-free checker: `node verify-bundle.mjs`
 *
 * The export's own access entry is in the chain before the bundle is built, so
 * the head in the proof already records who exported it and why.
 */
import type { Readable } from 'node:stream';
import type { AudiologStore, RecordingRow } from '../store/audiologStore.js';
import { bodyDigest, type ChainEntry } from './chain.js';
import { type TarEntry, tarStream } from './tar.js';

export interface ExportInput {
  store: AudiologStore;
  recordings: Array<{ row: RecordingRow; files: Array<{ name: string; file: string }> }>;
  access: { by: string; role: string; reason: string; seq: number };
  now: number;
}

export const VERIFY_BUNDLE_SCRIPT = `// Checks a Vaktpost audio-log export: node verify-bundle.mjs  (Node 18+, no dependencies)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
const sha = (b) => createHash('sha256').update(b).digest('hex');
const proof = JSON.parse(readFileSync('chain-proof.json', 'utf8'));
let bad = 0;
const fail = (m) => { bad++; console.log('FAIL ' + m); };
// 1. The links from the first exported entry to the head are unbroken.
let prev = null;
for (const l of proof.links) {
  if (prev && (l.seq !== prev.seq + 1 || l.prevHash !== prev.hash)) fail('chain broken at seq ' + l.seq);
  const h = sha(l.prevHash + '\\n' + l.seq + '\\n' + l.at + '\\n' + l.kind + '\\n' + (l.recordingId ?? '') + '\\n' + l.bodySha256);
  if (h !== l.hash) fail('link seq ' + l.seq + ' does not hash to its hash');
  prev = l;
}
if (prev && prev.hash !== proof.head.hash) fail('the links do not end at the head');
const bySeq = new Map(proof.links.map((l) => [l.seq, l]));
// 2. Each recording's entries are in those links, body for body.
const sums = new Map(readFileSync('SHA256SUMS', 'utf8').trim().split('\\n').map((l) => { const [h, ...n] = l.split('  '); return [n.join('  '), h]; }));
for (const [id, entries] of Object.entries(proof.recordings)) {
  for (const e of entries) {
    const l = bySeq.get(e.seq);
    if (!l || l.bodySha256 !== sha(e.bodyJson) || l.hash !== e.hash) fail(id + ': entry seq ' + e.seq + ' is not the one in the chain');
    if (e.kind === 'recording') {
      for (const [name, want] of Object.entries(JSON.parse(e.bodyJson).files)) {
        if (sums.get(id + '/' + name) !== want) fail(id + '/' + name + ': SHA256SUMS differs from the chain');
        let got = null;
        try { got = sha(readFileSync(id + '/' + name)); } catch { fail(id + '/' + name + ' missing'); continue; }
        if (got !== want) fail(id + '/' + name + ' was altered');
      }
    }
  }
}
console.log(bad === 0 ? 'OK: files match the chain, chain intact up to head seq ' + proof.head.seq + ' (' + proof.head.hash + ')' : bad + ' problem(s)');
process.exit(bad === 0 ? 0 : 1);
`;

function readme(i: ExportInput, head: ChainEntry): string {
  const ids = i.recordings.map((r) => r.row.id).join(', ');
  return [
    'Vaktpost – eksport fra lydloggen / audio-log export',
    '',
    `Opptak / recordings: ${ids}`,
    `Eksportert / exported: ${new Date(i.now).toISOString()} av/by ${i.access.by} (${i.access.role})`,
    `Begrunnelse / reason: ${i.access.reason}`,
    `Tilgangen er ført i kjeden som / the access is chain entry seq ${i.access.seq}; kjedens hode / chain head: seq ${head.seq} ${head.hash}`,
    '',
    'Lydfilene er WAV, 8 kHz, venstre kanal = innringer, høyre = sykepleier, bit for bit slik de kom over nettet.',
    'The audio is WAV, 8 kHz, left = caller, right = call-taker, bit for bit as received on the wire.',
    '',
    'Kontroll / check:  sha256sum -c SHA256SUMS   and   node verify-bundle.mjs',
    'chain-proof.json: hash = SHA-256(prevHash \\n seq \\n at \\n kind \\n recordingId \\n SHA-256(bodyJson))',
    '',
  ].join('\n');
}

export function buildExport(i: ExportInput): Readable {
  const head = i.store.head();
  if (!head) throw new Error('the audio-log chain is empty');
  const recordings: Record<string, ChainEntry[]> = {};
  let firstSeq = head.seq;
  const sums: string[] = [];
  for (const r of i.recordings) {
    const entries = i.store.entriesFor(r.row.id);
    recordings[r.row.id] = entries;
    for (const e of entries) firstSeq = Math.min(firstSeq, e.seq);
    const rec = entries.find((e) => e.kind === 'recording');
    const files = rec ? ((JSON.parse(rec.bodyJson) as { files?: Record<string, string> }).files ?? {}) : {};
    for (const [name, h] of Object.entries(files)) sums.push(`${h}  ${r.row.id}/${name}`);
  }
  const links: Array<Omit<ChainEntry, 'bodyJson'> & { bodySha256: string }> = [];
  for (let after = firstSeq - 1; ; ) {
    const batch = i.store.chain(after, 1000);
    if (batch.length === 0) break;
    for (const e of batch) {
      if (e.seq > head.seq) break;
      links.push({ seq: e.seq, at: e.at, kind: e.kind, recordingId: e.recordingId, bodySha256: bodyDigest(e.bodyJson), prevHash: e.prevHash, hash: e.hash });
    }
    after = (batch[batch.length - 1] as ChainEntry).seq;
    if (after >= head.seq) break;
  }
  const proof = {
    format: 'vaktpost-audiolog-proof/1',
    hash: 'SHA-256(prevHash \\n seq \\n at \\n kind \\n recordingId \\n SHA-256(bodyJson))',
    exportedAt: i.now,
    access: i.access,
    head: { seq: head.seq, hash: head.hash },
    recordings,
    links,
  };
  const entries: TarEntry[] = [{ name: 'README.txt', data: Buffer.from(readme(i, head)) }];
  for (const r of i.recordings) for (const f of r.files) entries.push({ name: `${r.row.id}/${f.name}`, file: f.file });
  entries.push({ name: 'SHA256SUMS', data: Buffer.from(`${sums.join('\n')}\n`) });
  entries.push({ name: 'chain-proof.json', data: Buffer.from(`${JSON.stringify(proof, null, 1)}\n`) });
  entries.push({ name: 'verify-bundle.mjs', data: Buffer.from(VERIFY_BUNDLE_SCRIPT) });
  return tarStream(entries, Math.floor(i.now / 1000));
}
