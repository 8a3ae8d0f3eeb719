/**
 * The judge on its own (pure): each channel against what rtpengine counted on
 * that side's stream (issue #16: one-way audio was "complete"; a pause in the
 * RTP was "incomplete"), and the cause of a cut-off named when it is known.
 */
import t from 'tap';
import { type JudgeInput, judgeRecording, type SentCount } from '../../../supervisor/src/audiolog/judge.js';
import { NOTES } from '../../../supervisor/src/audiolog/verdictText.js';

const limits = { completeRatio: 0.9, incompleteMinMissingMs: 1500 };
const END = 1_800_000_000_000;

/** A side that sent `ms` of 20 ms packets (160 samples each), `recordedMs` of which are in the file. */
function side(ms: number, o: { recordedMs?: number; counted?: boolean; countedAt?: number } = {}) {
  const recorded = o.recordedMs ?? ms;
  const sent: SentCount | null =
    o.counted === false ? null : { packets: ms / 20, lastPacketMs: ms > 0 ? END - 1000 : null, observedAt: o.countedAt ?? END - 500 };
  return { samples: recorded * 8, packets: recorded / 20, sent };
}

function input(over: Partial<JudgeInput> & Pick<JudgeInput, 'sides'>): JudgeInput {
  return { truncated: false, finished: true, connectedMs: 10_000, endedAt: END, answered: true, restart: null, ...over };
}

t.test('both sides talked the whole call: complete', async (t) => {
  const v = judgeRecording(input({ sides: { caller: side(9800), callTaker: side(9800) } }), limits);
  t.match(v, { status: 'complete', reasons: [], silentSide: null, capturedMs: 9800 });
  t.equal(v.mediaAccountedUntil, END - 500, "rtpengine's last count proves the file up to then");
});

t.test('one-way audio: the call-taker sent nothing → one-sided, naming the silent side', async (t) => {
  const v = judgeRecording(input({ sides: { caller: side(9800), callTaker: side(0) } }), limits);
  t.equal(v.status, 'one-sided', 'not complete: the recording holds one side only');
  t.equal(v.silentSide, 'callTaker');
  t.same(v.notes, [{ key: 'recording.oneSided', params: { side: 'callTaker' } }], 'a message key with the side as its parameter');
  t.match(v.reasons[0], /the call-taker sent no audio/);
  t.match(v.reasonsNb[0], /operatøren ved sentralen sendte ingen lyd/);
  const caller = judgeRecording(input({ sides: { caller: side(0), callTaker: side(9800) } }), limits);
  t.match(caller, { status: 'one-sided', silentSide: 'caller' });
  t.match(caller.reasonsNb[0], /innringeren sendte ingen lyd/);
});

t.test('early media of an unanswered call flows one way by nature: not one-sided', async (t) => {
  const v = judgeRecording(input({ answered: false, connectedMs: null, sides: { caller: side(0), callTaker: side(3000) } }), limits);
  t.match(v, { status: 'complete', silentSide: null, notes: [] });
});

t.test('without rtpengine counters a silent side is still one-sided (the file is the wire)', async (t) => {
  const v = judgeRecording(input({ sides: { caller: side(9800, { counted: false }), callTaker: side(0, { counted: false }) } }), limits);
  t.match(v, { status: 'one-sided', silentSide: 'callTaker' });
  t.equal(v.mediaAccountedUntil, null);
});

t.test('media sent but not recorded: rtpengine received packets the file lacks → incomplete', async (t) => {
  const v = judgeRecording(input({ sides: { caller: side(9800), callTaker: side(9800, { recordedMs: 0 }) } }), limits);
  t.equal(v.status, 'incomplete', 'a silent channel whose side DID send is a recording fault, not one-way audio');
  t.equal(v.silentSide, null);
  t.match(v.notes, [{ key: 'recording.sentNotRecorded', params: { side: 'callTaker', sent: 490, recorded: 0 } }]);
  t.match(v.reasons[0], /media was sent but not recorded: rtpengine received 490 packets from the call-taker, the recording holds 0/);
  t.equal(v.mediaAccountedUntil, null, 'nothing proven');
  const partial = judgeRecording(input({ sides: { caller: side(9800, { recordedMs: 2700 }), callTaker: side(9800, { recordedMs: 2700 }) } }), limits);
  t.equal(partial.status, 'incomplete', 'disk full: both sides lost packets');
  t.equal(partial.notes.filter((n) => n.key === 'recording.sentNotRecorded').length, 2, 'each side judged on its own');
  const stray = judgeRecording(input({ sides: { caller: side(9800), callTaker: side(9800, { recordedMs: 9760 }) } }), limits);
  t.equal(stray.status, 'complete', 'two stray packets (within 1 %) are not a loss');
});

t.test('a pause in the RTP is not incomplete when the counters match the file', async (t) => {
  // Both sides paused for the last 2.3 s of an 8.0 s call: 5.7 s of audio, every packet recorded.
  const paused = input({ connectedMs: 8000, sides: { caller: side(5700), callTaker: side(5700) } });
  t.match(judgeRecording(paused, limits), { status: 'complete', reasons: [] });
  // The same file with nobody counting: the length is all there is to go on.
  const uncounted = judgeRecording(
    input({ connectedMs: 8000, sides: { caller: side(5700, { counted: false }), callTaker: side(5700, { counted: false }) } }),
    limits,
  );
  t.match(uncounted, { status: 'incomplete', notes: [{ key: 'recording.short', params: { capturedS: '5.7', connectedS: '8.0' } }] });
  // Counted, but the last count is 4 s before the end: the tail is not proven.
  const stale = judgeRecording(
    input({ connectedMs: 8000, sides: { caller: side(5700, { countedAt: END - 4000 }), callTaker: side(5700, { countedAt: END - 4000 }) } }),
    limits,
  );
  t.equal(stale.status, 'incomplete', 'an unproven tail longer than incompleteMinMissingMs falls back to the length check');
});

t.test('no audio at all', async (t) => {
  t.match(judgeRecording(input({ answered: false, connectedMs: null, sides: { caller: side(0), callTaker: side(0) } }), limits), {
    status: 'no-audio',
    reasons: [],
  });
  t.match(judgeRecording(input({ sides: { caller: side(0), callTaker: side(0) } }), limits), {
    status: 'incomplete',
    notes: [{ key: 'recording.nothingSent' }],
  });
  t.match(judgeRecording(input({ sides: { caller: side(0, { counted: false }), callTaker: side(0, { counted: false }) } }), limits), {
    status: 'incomplete',
    notes: [{ key: 'recording.noAudio' }],
  });
});

t.test('cut off: the cause is named when it is known, not guessed', async (t) => {
  const full = { caller: side(9800, { counted: false }), callTaker: side(9800, { counted: false }) };
  const disk = judgeRecording(input({ truncated: true, sides: full }), limits);
  t.match(disk, { status: 'incomplete', notes: [{ key: 'recording.cutOffWrite' }] });
  t.match(disk.reasons[0], /rtpengine finished it: writing to the spool failed/);
  const killed = judgeRecording(input({ truncated: true, finished: false, sides: full }), limits);
  t.same(
    killed.notes.map((n) => n.key),
    ['recording.stopped', 'recording.cutOffStopped'],
  );
  t.match(killed.reasons[0], /rtpengine stopped during the call/);
  const restart = { at: Date.UTC(2026, 11, 7, 23, 10, 5) };
  const restarted = judgeRecording(input({ truncated: true, finished: false, restart, sides: full }), limits);
  t.same(
    restarted.notes.map((n) => n.key),
    ['recording.stoppedRestart'],
    'one reason, the restart',
  );
  t.match(restarted.reasons[0], /it was restarted \(2026-12-07T23:10:05\.000Z\)/);
  t.match(restarted.reasonsNb[0], /den ble startet på nytt \(2026-12-07T23:10:05\.000Z\)/);
});

t.test('every note has both languages, and they differ', async (t) => {
  for (const [key, text] of Object.entries(NOTES)) {
    const p = { side: 'callTaker' as const, sent: 10, recorded: 2, capturedS: '1.0', connectedS: '2.0', at: 'T' };
    t.not(text.en(p), text.nb(p), `${key}: Norwegian is not the English text`);
    t.notMatch(text.en(p), /undefined/, `${key} en`);
    t.notMatch(text.nb(p), /undefined/, `${key} nb`);
  }
});
