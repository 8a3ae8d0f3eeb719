/**
 * The periodic known-audio test call, end to end through the real Kamailio
 * (probe + test number → the announcement, no centre rung), rtpengine, the
 * spool, the ingest and the archive: the caller channel must be the known audio
 * bit for bit. With rtpengine dead the same test says so.
 */
import t from 'tap';
import { startHarness } from './harness.js';

t.test('known-audio test call: ok when recording works, fail when it does not', async (t) => {
  const h = await startHarness(t, { testCall: true, audiolog: { testCall: { durationMs: 2000, timeoutMs: 20_000 } } });
  const tc = h.audiolog.testCall;
  t.ok(tc, 'the test call monitor is configured');
  if (!tc) return;
  const ok = await tc.runNow();
  t.ok(ok.ok, `test call passes: ${ok.detail}`);
  const rec = h.audiolog.store.recording(ok.recordingId ?? '');
  t.equal(rec?.kind, 'test', 'archived as a test recording (shorter retention, no patient alarms)');
  t.equal(rec?.route, 'announcement', 'answered by the announcement, not a centre');
  const st = await h.lab.local.proc.currentStats();
  t.equal((st?.incoming ?? 0) - (st?.autoAnswered ?? 0), 0, 'the local centre was not rung (only keepalives reached it)');
  const sig = [...h.signals].reverse().find((s) => s.key === 'recording.testCall');
  t.match(sig, { status: 'ok', value: true }, 'recording.testCall ok');

  await h.lab.rtp.kill('SIGKILL');
  const bad = await tc.runNow();
  t.notOk(bad.ok, `with rtpengine dead the test call fails: ${bad.detail}`);
  t.match(bad.detail, /not recorded: rtpengine did not take the call/, 'and says why, without waiting out the deadline');
  const sig2 = [...h.signals].reverse().find((s) => s.key === 'recording.testCall');
  t.match(sig2, { status: 'fail' }, 'recording.testCall fail');
  t.notOk(
    h.events.some((e) => e.kind === 'recording.unrecorded'),
    'the test call is not reported as a patient call without recording',
  );
});
