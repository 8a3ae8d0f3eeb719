/**
 * Records the announcement prompt ("ring 113 ved akutt sykdom") as raw 8 kHz
 * mono µ-law (G.711 PCMU, RTP payload type 0) — what SIPp's rtp_stream sends
 * as-is. Speech by espeak-ng (voice `nb`, then `en`), resampled by sox.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** µ-law silence (the encoding of 0). */
export const ULAW_SILENCE = 0xff;
/** 8000 samples/s, one byte per sample. */
export const ULAW_BYTES_PER_SECOND = 8000;

export interface PromptPart {
  text: string;
  /** espeak-ng voice, e.g. `nb` (bokmål) or `en`. */
  voice: string;
}

async function tool(cmd: string, args: string[], pkg: string): Promise<void> {
  try {
    await run(cmd, args, { timeout: 30_000 });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${cmd} not found — install the Debian package ${pkg}`);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** Speak one text into raw µ-law bytes. */
export async function speakUlaw(part: PromptPart): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-prompt-'));
  try {
    const wav = path.join(dir, 'speech.wav');
    const raw = path.join(dir, 'speech.ulaw');
    await tool('espeak-ng', ['-v', part.voice, '-s', '150', '-w', wav, part.text], 'espeak-ng');
    // -R: repeatable (sox seeds its dither with a fixed number), so the same text gives the same
    // bytes and `vaktpost apply` does not restart the announcement for a prompt that did not change.
    await tool('sox', ['-R', wav, '-r', '8000', '-c', '1', '-e', 'u-law', '-t', 'raw', raw], 'sox');
    const bytes = await readFile(raw);
    if (bytes.length < ULAW_BYTES_PER_SECOND / 4) {
      throw new Error(`espeak-ng produced only ${bytes.length} bytes for "${part.text}" (voice ${part.voice}) — is the voice installed?`);
    }
    return bytes;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Write the whole prompt (parts separated by `gapMs` of silence, and ending with
 * it so a looped prompt pauses between repeats) to `outFile`. Returns its length.
 */
export async function writePrompt(parts: readonly PromptPart[], outFile: string, gapMs = 700): Promise<{ bytes: number; durationMs: number }> {
  const gap = Buffer.alloc(Math.round((gapMs / 1000) * ULAW_BYTES_PER_SECOND), ULAW_SILENCE);
  const chunks: Buffer[] = [];
  for (const p of parts) chunks.push(await speakUlaw(p), gap);
  const all = Buffer.concat(chunks);
  await writeFile(outFile, all);
  return { bytes: all.length, durationMs: (all.length / ULAW_BYTES_PER_SECOND) * 1000 };
}
