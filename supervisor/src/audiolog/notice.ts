/**
 * The recording notice callers hear as their call is answered ("Samtalen blir
 * tatt opp. This call is recorded."): spoken by espeak-ng (bokmål, then
 * English), written as an 8 kHz µ-law mono WAV that rtpengine plays into the
 * call (`calls.recording.notice`). A real voice recording can replace it.
 *
 * Why the supervisor and not the Kamailio cfg plays it: rtpengine's "play media"
 * does not hold back the other side's audio, and holding it back needs an
 * "unblock" a few seconds later, which a proxy's reply route cannot schedule.
 */
import { writeFile } from 'node:fs/promises';
import type { RtpengineNg } from '../../../hardware/rtpengine/ng.js';
import { speakUlaw } from '../../../hardware/sip/prompt.js';
import { wavHeader } from './wav.js';

export async function writeNoticeFile(texts: { textNb: string; textEn: string }, file: string): Promise<{ durationMs: number }> {
  const gap = Buffer.alloc(2400, 0xff);
  const audio = Buffer.concat([await speakUlaw({ text: texts.textNb, voice: 'nb' }), gap, await speakUlaw({ text: texts.textEn, voice: 'en' })]);
  await writeFile(file, Buffer.concat([wavHeader('mulaw', 1, 8000, audio.length), audio, audio.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]), {
    mode: 0o644,
  });
  return { durationMs: (audio.length / 8000) * 1000 };
}

/**
 * Plays the notice to the caller of a just-answered call, through rtpengine:
 * the call-taker's audio to the caller is held back while it plays ("block
 * media" — otherwise the caller would get both streams interleaved), then let
 * through again. The call-taker hears the caller all along.
 */
export class RecordingNotice {
  constructor(
    private readonly ng: Pick<RtpengineNg, 'command'>,
    private readonly file: string,
  ) {}

  async play(callId: string, callerTag: string, callTakerTag: string): Promise<number> {
    await this.ng.command({ command: 'block media', 'call-id': callId, 'from-tag': callTakerTag });
    let durationMs = 0;
    try {
      // rtpengine plays to the party named by from-tag.
      const r = await this.ng.command({ command: 'play media', 'call-id': callId, 'from-tag': callerTag, file: this.file });
      durationMs = typeof r.duration === 'number' ? r.duration : 0;
    } finally {
      const unblock = () => this.ng.command({ command: 'unblock media', 'call-id': callId, 'from-tag': callTakerTag }).catch(() => undefined);
      if (durationMs > 0) setTimeout(() => void unblock(), durationMs + 100).unref();
      else await unblock();
    }
    return durationMs;
  }
}
