/**
 * Callers are told the call is recorded (`calls.recording.notice.enabled`): as
 * the call is answered, rtpengine plays the notice to the caller while the
 * call-taker's audio is held back, then lets it through. Checked at the
 * caller's own RTP socket; the call is recorded as usual.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { readWavInfo } from '../../../supervisor/src/audiolog/wav.js';
import { findExact } from '../../../supervisor/src/monitors/recordingTestCall.js';
import { startRtpSink } from '../../helpers/audio/rtpSink.js';
import { runCaller } from '../../helpers/sipp.js';
import { scratchDir } from '../../helpers/util.js';
import { startHarness } from './harness.js';

t.test('the recording notice is played to the caller on answer, then the call-taker is heard', async (t) => {
  const scratch = await scratchDir('notice');
  t.teardown(() => scratch.cleanup());
  const file = path.join(scratch.dir, 'notice.wav');
  const h = await startHarness(t, { recording: { notice: { enabled: true, file } } });
  const wav = await readFile(file);
  const info = readWavInfo(wav);
  const notice = wav.subarray(info.dataOffset, info.dataOffset + info.dataBytes);
  t.ok(notice.length > 8000, `the notice was spoken and written at start (${(notice.length / 8000).toFixed(1)} s)`);

  const sink = await startRtpSink();
  t.teardown(() => sink.close());
  const r = await runCaller(t, { kamailioPort: h.lab.kam.sipPort, calls: 1, rate: 1, holdMs: notice.length / 8 + 2500, rtpPort: sink.port, number: '116117' });
  t.equal(r.stats?.successful, 1, 'the call completed');
  const heard = sink.capture().payload;
  const at = findExact(heard, notice.subarray(800, 800 + 8000));
  t.ok(at >= 0 && at < 8000, `the caller hears the notice at the start (at byte ${at})`);
  // The call-taker's first seconds were held back (dropped) while the notice played.
  const taker = findExact(heard, h.lab.takerSpeech.bytes.subarray(8000 * 5, 8000 * 6));
  t.ok(taker > at, `and the call-taker after it (at byte ${taker})`);
  const callId = [...(await h.audiolog.store.callsInState(['active', 'ended', 'recorded']))].map((c) => c.callId)[0] ?? '';
  t.ok(await h.audiolog.waitForRecording(callId, 30_000), 'the call is recorded');
  t.notOk(
    h.events.some((e) => e.kind === 'recording.noticeFailed'),
    'no notice failure reported',
  );
});
