/**
 * Issue #16 (5), one-way audio: real Kamailio + rtpengine, a SIPp caller who
 * talks and a SIPp centre whose call-taker answers with an SDP and then sends
 * no RTP at all. The recording used to be archived "complete" with no alarm
 * (the judge took the longer side). Now: status `one-sided`, the silent side
 * named in a warning in Norwegian and English (with its message key), and
 * rtpengine's own per-stream counters in the record showing that the
 * call-taker really sent nothing — so it is not a recording fault, and the
 * audit files the call as recorded, not incomplete.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import { talkingCalls } from '../../helpers/rtpengine.js';
import { waitFor } from '../../helpers/util.js';
import { soxStats, startHarness } from './harness.js';

interface SideRecord {
  packets: number;
  sent: { packets: number; observedAt: number } | null;
}

t.test('one-way audio: recorded as one-sided, with a warning naming the silent side', async (t) => {
  const h = await startHarness(t, { lab: { silentCentres: true } });
  const { lab, audiolog } = h;
  const calls = await talkingCalls(t, lab, { caller: '4790001616' });
  t.equal(calls.result.stats?.successful, 1, 'the call completed through Kamailio');
  const callId = calls.callIds.get(1) as string;
  const rec = await audiolog.waitForRecording(callId, 30_000);
  t.ok(rec, 'archived');
  if (!rec) return;

  t.equal(rec.status, 'one-sided', 'not "complete": only one side is in the recording');
  t.equal(rec.summary.silentSide, 'callTaker', 'the silent side is the call-taker');
  t.same(rec.summary.notes, [{ key: 'recording.oneSided', params: { side: 'callTaker' } }], 'as a message key with the side');

  // The evidence: rtpengine counted the caller's packets and none from the call-taker.
  const sides = rec.summary.sides as { caller: SideRecord; callTaker: SideRecord };
  t.ok(sides.caller.sent && sides.caller.sent.packets > 100, `rtpengine counted the caller's packets (${sides.caller.sent?.packets})`);
  t.ok(sides.caller.packets >= (sides.caller.sent?.packets ?? Number.POSITIVE_INFINITY), 'every one of them is in the recording');
  t.equal(sides.callTaker.sent?.packets, 0, 'rtpengine received no packet from the call-taker: no media was sent');
  t.equal(sides.callTaker.packets, 0, 'and the recording holds none');

  // The audio itself: the caller's channel carries speech, the call-taker's is silence.
  const wav = audiolog.filePath(rec, 'audio.wav');
  t.ok((await soxStats(wav, 1)).rmsDb > -40, 'caller channel carries speech');
  t.ok((await soxStats(wav, 2)).rmsDb < -80, 'call-taker channel is silence');
  const record = JSON.parse(await readFile(audiolog.filePath(rec, 'record.json'), 'utf8')) as { status: string; reasonsNb: string[] };
  t.equal(record.status, 'one-sided', 'record.json says so too');
  t.match(record.reasonsNb[0], /operatøren ved sentralen sendte ingen lyd/, 'with the reason in Norwegian');
  const chained = JSON.parse(audiolog.store.entry(rec.chainSeq)?.bodyJson ?? '{}') as { status?: string };
  t.equal(chained.status, 'one-sided', 'and the chain entry');

  // The warning, in both languages, naming the silent side and the call.
  const warning = h.events.find((e) => e.kind === 'recording.oneSided');
  t.ok(warning, 'a one-way audio warning');
  t.equal(warning?.severity, 'warn');
  t.match(warning?.en ?? '', /the call-taker sent no audio for the whole call/, `en: ${warning?.en}`);
  t.match(warning?.en ?? '', callId, 'names the call');
  t.match(warning?.en ?? '', /4790001616/, 'and the caller');
  t.match(warning?.nb ?? '', /operatøren ved sentralen sendte ingen lyd i hele samtalen/, `nb: ${warning?.nb}`);
  t.match(warning?.data, { key: 'recording.oneSided', params: { side: 'callTaker' } });

  // Not a recording fault: the audit files the call as recorded, no incomplete alarm.
  await waitFor(() => audiolog.store.call(callId)?.state === 'recorded', { timeoutMs: 30_000, what: 'the audit to settle the call' });
  t.notOk(
    h.events.some((e) => e.kind === 'recording.incomplete'),
    'no "incomplete" alarm',
  );
});
