/**
 * Acceptance 1 and 2 (issue #7): real Kamailio + rtpengine + SIPp streaming
 * Norwegian speech both ways. Each call is archived as a stereo WAV whose two
 * channels are non-silent (sox stats), bit-exact to what was streamed, within
 * the call; the metadata carries the caller number; the chain verifies —
 * and stops verifying, naming the recording, when a byte is flipped or an index
 * row is deleted.
 */
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { channelOf, readWavInfo } from '../../../supervisor/src/audiolog/wav.js';
import type { RecordingRow } from '../../../supervisor/src/store/audiologStore.js';
import { verifyAudiolog } from '../../../supervisor/src/audiolog/verify.js';
import { talkingCalls } from '../../helpers/rtpengine.js';
import { waitFor } from '../../helpers/util.js';
import { findBytes, soxStats, startHarness } from './harness.js';

t.test('talking calls are archived bit-exact, chained, and tampering is caught', async (t) => {
  const h = await startHarness(t);
  const { lab, audiolog } = h;
  const calls = await talkingCalls(t, lab, { calls: 2, rate: 5, caller: '4791234567' });
  t.equal(calls.result.stats?.successful, 2, 'both calls completed through Kamailio');

  const recs: Array<{ n: number; rec: RecordingRow }> = [];
  for (const [n, callId] of calls.callIds) {
    const rec = await audiolog.waitForRecording(callId, 30_000);
    t.ok(rec, `call ${n} (${callId}) archived`);
    if (!rec) return;
    recs.push({ n, rec });
  }

  for (const { n, rec } of recs) {
    const wavFile = audiolog.filePath(rec, 'audio.wav');
    const wav = await readFile(wavFile);
    const info = readWavInfo(wav);
    t.equal(info.channels, 2, 'stereo');
    t.equal(info.format, 'mulaw', 'µ-law as on the wire');
    // sox's own reading: both channels carry speech.
    const left = await soxStats(wavFile, 1);
    const right = await soxStats(wavFile, 2);
    t.ok(left.rmsDb > -40 && right.rmsDb > -40, `both channels non-silent (caller ${left.rmsDb} dB, call-taker ${right.rmsDb} dB RMS)`);

    // Bit-exact: the caller channel holds the caller's speech byte for byte; the
    // call-taker channel the nurse's speech up to the caller's hang-up.
    const callerCh = channelOf(wav, info, 0);
    const takerCh = channelOf(wav, info, 1);
    t.ok(findBytes(callerCh, lab.callerSpeech.bytes) >= 0, 'caller channel = the streamed caller speech, bit for bit');
    const at = findBytes(takerCh, lab.takerSpeech.bytes.subarray(0, 8000 * 4));
    t.ok(at >= 0, 'call-taker channel = the streamed call-taker speech, bit for bit');
    t.ok(
      takerCh.subarray(at).equals(lab.takerSpeech.bytes.subarray(0, takerCh.length - at)),
      'the call-taker speech runs bit-exact to the end of the recording',
    );

    // Length against the call as SIPp (the caller) saw it: answer → BYE answered. The audio
    // runs from the first RTP after the ACK to the call-taker's last before the BYE reached it;
    // what the call has beyond that is signalling (ACK and BYE relayed through Kamailio, the
    // BYE's 200 coming back): machine speed, not the recording. So the tolerance is the audio's:
    // never longer than the call (nothing from outside it; 100 ms = five 20 ms packets of
    // placement jitter), never shorter than the caller's speech it holds bit-exact (above).
    const answered = calls.answeredAt.get(n);
    const done = calls.doneAt.get(n);
    t.ok(answered && done, 'caller logged answer and end');
    const callMs = (done as number) - (answered as number);
    const wavMs = left.lengthS * 1000;
    t.ok(wavMs <= callMs + 100, `WAV ${left.lengthS} s is no longer than the call (${callMs} ms)`);
    t.ok(wavMs >= lab.callerSpeech.durationMs, `WAV ${left.lengthS} s holds the caller's ${lab.callerSpeech.durationMs} ms of speech`);
    t.comment(`call ${n}: ${(callMs - wavMs).toFixed(0)} ms of the call is signalling around the audio`);
    t.equal(rec.status, 'complete', 'judged complete');

    // Metadata: the caller number travels Kamailio → rtpengine → archive.
    t.equal(rec.caller, '4791234567', 'index carries the caller number');
    t.equal(rec.called, '116117', 'and the number called');
    t.equal(rec.route, 'local', 'and the route that answered');
    const record = JSON.parse(await readFile(audiolog.filePath(rec, 'record.json'), 'utf8')) as { caller: string; callId: string };
    t.equal(record.caller, '4791234567', 'record.json carries the caller number');
    t.equal(record.callId, rec.callId);
    const chainBody = JSON.parse(audiolog.store.entry(rec.chainSeq)?.bodyJson ?? '{}') as { caller?: string; files?: Record<string, string> };
    t.equal(chainBody.caller, '4791234567', 'the chain entry carries it too');
    t.match(
      await readFile(audiolog.filePath(rec, 'metadata.txt'), 'utf8'),
      /caller=34373931323334353637/,
      "rtpengine's metadata (hex caller) archived verbatim",
    );

    // Owner-only archive.
    t.equal((await stat(path.dirname(wavFile))).mode & 0o777, 0o700, 'recording folder is owner-only');
    t.equal((await stat(wavFile)).mode & 0o777, 0o600, 'audio file is owner-only');
    t.equal((await stat(audiolog.archiveDir)).mode & 0o777, 0o700, 'archive root is owner-only');
  }

  // Kamailio's view matched by Call-ID.
  await waitFor(() => recs.every(({ rec }) => audiolog.store.call(rec.callId)?.state === 'recorded'), {
    timeoutMs: 30_000,
    what: 'the audit to match both calls',
  });
  t.pass("the audit matched both of Kamailio's calls to their recordings");
  t.same(await readdir(path.join(lab.rtp.spoolDir, 'metadata')), [], 'the spool is emptied once archived');
  t.same(await readdir(path.join(lab.rtp.spoolDir, 'pcaps')), [], 'pcaps too');

  const ok = await verifyAudiolog({ store: audiolog.store, archiveDir: audiolog.archiveDir });
  t.ok(ok.ok, `verify passes: ${JSON.stringify(ok.problems)}`);
  t.equal(ok.recordings, 2);
  t.ok(ok.files >= 4);

  // 2a. One flipped byte in an archived WAV.
  const [first, second] = recs.map((r) => r.rec);
  if (!first || !second) return;
  const victim = audiolog.filePath(first, 'audio.wav');
  const original = await readFile(victim);
  const flipped = Buffer.from(original);
  flipped[original.length - 100] = (flipped[original.length - 100] as number) ^ 0x01;
  await writeFile(victim, flipped);
  const v1 = await verifyAudiolog({ store: audiolog.store, archiveDir: audiolog.archiveDir });
  t.notOk(v1.ok, 'verify fails after one flipped byte');
  t.ok(
    v1.problems.some((p) => p.recordingId === first.id && /audio\.wav was altered/.test(p.message)),
    `names ${first.id}: ${v1.problems.map((p) => p.message).join(' | ')}`,
  );
  await writeFile(victim, original);
  t.ok((await verifyAudiolog({ store: audiolog.store, archiveDir: audiolog.archiveDir })).ok, 'restored: verifies again');

  // 2b. One index row deleted (a tamperer drops the append-only trigger first).
  h.db.exec('DROP TRIGGER audiolog_chain_no_delete');
  h.db.prepare('DELETE FROM audiolog_chain WHERE seq = ?').run(first.chainSeq);
  const v2 = await verifyAudiolog({ store: audiolog.store, archiveDir: audiolog.archiveDir });
  t.notOk(v2.ok, 'verify fails after one chain row is deleted');
  t.ok(
    v2.problems.some((p) => p.recordingId === first.id),
    `names ${first.id}: ${v2.problems.map((p) => p.message).join(' | ')}`,
  );
  t.ok(
    v2.problems.some((p) => /missing/.test(p.message) && p.seq === first.chainSeq),
    'and says which chain entry is missing',
  );
  // The next entry's broken link is reported at that entry; its own files and row are fine.
  t.notOk(
    v2.problems.some((p) => p.recordingId === second.id && !/does not link/.test(p.message)),
    `no other fault is put on ${second.id}`,
  );
});
