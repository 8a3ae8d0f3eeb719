/**
 * Issue #16 (5), the reverse of one-way audio: both sides stop sending RTP for
 * the last 2.5 s of the call (both quiet, silence suppression, a hold without
 * re-INVITE). Every packet on the wire is recorded, yet the old judge said
 * "Recording incomplete — only 5.7 s of audio for a 8.0 s call". Now
 * rtpengine's per-stream counters show that the recording holds every packet
 * it received, so the pause is no gap: complete, recorded, no alarm.
 */
import t from 'tap';
import { talkingCalls } from '../../helpers/rtpengine.js';
import { waitFor } from '../../helpers/util.js';
import { startHarness } from './harness.js';

interface SideRecord {
  packets: number;
  capturedMs: number;
  sent: { packets: number; observedAt: number } | null;
}

const PAUSE_MS = 2500;

t.test('RTP pauses at the end of the call: complete, not incomplete', async (t) => {
  const h = await startHarness(t);
  const { lab, audiolog } = h;
  // Both sides stream their speech once after the ACK, then send nothing until the BYE.
  const talkMs = Math.max(lab.callerSpeech.durationMs, lab.takerSpeech.durationMs);
  const calls = await talkingCalls(t, lab, { holdMs: talkMs + PAUSE_MS });
  t.equal(calls.result.stats?.successful, 1, 'the call completed through Kamailio');
  const callId = calls.callIds.get(1) as string;
  const rec = await audiolog.waitForRecording(callId, 30_000);
  t.ok(rec, 'archived');
  if (!rec) return;

  // The case the old length rule got wrong: clearly less audio than the call lasted.
  const connectedMs = rec.connectedMs ?? 0;
  const capturedMs = Number(rec.summary.capturedMs);
  t.ok(
    capturedMs < connectedMs * 0.9 && connectedMs - capturedMs > 1500,
    `${capturedMs} ms of audio for a ${connectedMs} ms call: the length alone says incomplete`,
  );

  // rtpengine's counters: every packet it received from either side is in the recording.
  const sides = rec.summary.sides as { caller: SideRecord; callTaker: SideRecord };
  for (const side of ['caller', 'callTaker'] as const) {
    const s = sides[side];
    t.ok(s.sent && s.sent.packets > 100, `${side}: rtpengine counted ${s.sent?.packets} packets`);
    t.ok(s.packets >= (s.sent?.packets ?? Number.POSITIVE_INFINITY), `${side}: the recording holds all of them (${s.packets})`);
  }
  t.ok(
    typeof rec.summary.mediaAccountedUntil === 'number' && rec.endedAt !== null && rec.endedAt - Number(rec.summary.mediaAccountedUntil) <= 1500,
    "counted to within the tolerance of the call's end",
  );

  t.equal(rec.status, 'complete', 'judged complete: the pause is not a gap in the recording');
  t.same(rec.summary.reasons, [], 'no reason given');
  await waitFor(() => audiolog.store.call(callId)?.state === 'recorded', { timeoutMs: 30_000, what: 'the audit to settle the call' });
  t.pass('the audit files the call as recorded');
  t.notOk(
    h.events.some((e) => e.kind === 'recording.incomplete' || e.kind === 'recording.oneSided'),
    'no incomplete alarm and no one-way warning',
  );
});
