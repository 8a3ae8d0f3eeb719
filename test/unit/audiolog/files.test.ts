/** WAV headers (as sox reads them), G.711, the tar writer (as tar reads it), archive ids. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import t from 'tap';
import { recordingId, relativeDir } from '../../../supervisor/src/audiolog/archive.js';
import { ALAW_TO_LINEAR, knownAudio, linearToUlaw, ULAW_TO_LINEAR } from '../../../supervisor/src/audiolog/g711.js';
import { tarStream } from '../../../supervisor/src/audiolog/tar.js';
import { channelOf, readWavInfo, wavHeader } from '../../../supervisor/src/audiolog/wav.js';

const run = promisify(execFile);

async function collect(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

t.test('stereo µ-law WAV: our header, sox agrees, channels come back', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-wav-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const frames = 8000;
  const data = Buffer.alloc(frames * 2);
  for (let i = 0; i < frames; i++) {
    data[i * 2] = i & 0xff;
    data[i * 2 + 1] = 0xff;
  }
  const file = path.join(dir, 'x.wav');
  await writeFile(file, Buffer.concat([wavHeader('mulaw', 2, 8000, frames), data]));
  const info = readWavInfo(await readFile(file));
  t.match(info, { format: 'mulaw', channels: 2, sampleRate: 8000, frames });
  t.ok(channelOf(await readFile(file), info, 0).equals(Buffer.from(Array.from({ length: frames }, (_, i) => i & 0xff))));
  const { stdout } = await run('sox', ['--i', file]);
  t.match(stdout, /Channels\s+: 2/);
  t.match(stdout, /Sample Encoding: 8-bit u-law/);
  t.match(stdout, /Duration\s+: 00:00:01\.00/);
  await writeFile(file, Buffer.concat([wavHeader('pcm16', 2, 8000, 10), Buffer.alloc(40)]));
  t.match((await run('sox', ['--i', file])).stdout, /16-bit Signed Integer PCM/);
});

t.test('G.711: tables and the encoder agree', async (t) => {
  let same = 0;
  for (let c = 0; c < 256; c++) if (linearToUlaw(ULAW_TO_LINEAR[c] as number) === c) same++;
  t.ok(same >= 255, `µ-law decode → encode returns the code (${same}/256; 0x7f and 0xff are both zero)`);
  t.equal(ALAW_TO_LINEAR[0xd5], 8, 'A-law idle pattern is +8');
  const k = knownAudio(1000);
  t.equal(k.length, 8000);
  t.ok(k.equals(knownAudio(1000)), 'known audio is deterministic');
  t.ok(
    k.some((b) => b !== 0xff),
    'and not silence',
  );
});

t.test('tar: a stream tar(1) lists and extracts', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-tar-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const src = path.join(dir, 'big.bin');
  const big = Buffer.alloc(100_001, 7);
  await writeFile(src, big);
  const long = `${'d'.repeat(80)}/${'f'.repeat(60)}.txt`;
  const tar = await collect(
    tarStream(
      [
        { name: 'a/x.txt', data: Buffer.from('hei\n') },
        { name: 'b/big.bin', file: src },
        { name: long, data: Buffer.from('long') },
      ],
      1_800_000_000,
    ),
  );
  t.equal(tar.length % 512, 0);
  await writeFile(path.join(dir, 'out.tar'), tar);
  const { stdout } = await run('tar', ['-tvf', 'out.tar'], { cwd: dir });
  t.match(stdout, /a\/x\.txt/);
  t.match(stdout, /100001/);
  await run('tar', ['-xf', 'out.tar'], { cwd: dir });
  t.ok((await readFile(path.join(dir, 'b/big.bin'))).equals(big), 'a file streamed in chunks comes back whole');
  t.equal(await readFile(path.join(dir, long), 'utf8'), 'long', 'long names use the ustar prefix');
});

t.test('archive ids are deterministic and dated (UTC)', async (t) => {
  const id = recordingId('rtpengine-meta-a%40b-0123456789abcdef.txt', Date.UTC(2026, 10, 22, 2, 43, 0));
  t.match(id, /^20261122T024300Z-[0-9a-f]{12}$/);
  t.equal(recordingId('rtpengine-meta-a%40b-0123456789abcdef.txt', Date.UTC(2026, 10, 22, 2, 43, 0)), id, 'the same file → the same id (a retry reuses it)');
  t.equal(relativeDir(id), `2026/11/22/${id}`);
  t.match(recordingId('x', null), /^undated-/);
});
