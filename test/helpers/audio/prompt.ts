/**
 * The announcement prompt for tests, recorded at test time with espeak-ng + sox
 * (hardware/sip/prompt.ts, the same code the box uses) from the default texts
 * in the calls config — no audio binaries in the repo.
 */
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { announcementSchema } from '../../../supervisor/src/config/calls.js';
import { writePrompt } from '../../../hardware/sip/prompt.js';
import { scratchDir } from '../util.js';

export interface TestPrompt {
  file: string;
  bytes: Buffer;
  durationMs: number;
}

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

/** Record the default bokmål + English prompt into a scratch dir (removed in teardown). */
export async function makeTestPrompt(t: TeardownHost): Promise<TestPrompt> {
  const scratch = await scratchDir('prompt');
  t.teardown(() => scratch.cleanup());
  const defaults = announcementSchema.parse({ uris: ['sip:announcement@127.0.0.1'] });
  const file = path.join(scratch.dir, 'ring-113.ulaw');
  const { durationMs } = await writePrompt(
    [
      { text: defaults.textNb, voice: 'nb' },
      { text: defaults.textEn, voice: 'en' },
    ],
    file,
  );
  return { file, bytes: await readFile(file), durationMs };
}
