/** The audit: every connected call ends up recorded, incomplete, missing or lost. */
import t from 'tap';
import { type AuditFinding, CallAudit } from '../../../supervisor/src/audiolog/callAudit.js';
import { judgeRecording } from '../../../supervisor/src/audiolog/judge.js';
import { AudiologStore, type RecordingInput } from '../../../supervisor/src/store/audiologStore.js';
import { openDb } from '../../../supervisor/src/store/db.js';

const limits = { completeRatio: 0.9, incompleteMinMissingMs: 1500 };

function setup() {
  let now = 1_000_000;
  const store = new AudiologStore(openDb(':memory:'));
  const findings: AuditFinding[] = [];
  const audit = new CallAudit({ store, now: () => now, limits, graceMs: 10_000, maxCallMs: 3_600_000, onFinding: (f) => findings.push(f) });
  const connect = (callId: string, offered = true, test = false) =>
    audit.onCallEvent({
      type: 'connected',
      at: now,
      callId,
      caller: '4790000000',
      called: '116117',
      route: 'local',
      centre: null,
      recorded: offered,
      probe: test,
      fromTag: 'f',
      toTag: 't',
    });
  const end = (callId: string) => audit.onCallEvent({ type: 'ended', at: now, callId });
  const archive = (callId: string, capturedMs: number, status: RecordingInput['status'] = 'complete') => {
    const { row } = store.insertRecording(
      {
        id: `rec-${callId}`,
        source: `s-${callId}`,
        callId,
        kind: 'call',
        status,
        startedAt: now,
        endedAt: now,
        caller: null,
        called: null,
        route: null,
        centre: null,
        audioMs: capturedMs,
        connectedMs: null,
        dir: 'x',
        bytes: 1,
        summary: { capturedMs, reasons: status === 'incomplete' ? ['cut off'] : [] },
      },
      {},
      now,
    );
    audit.onRecording(row);
  };
  return { store, findings, audit, connect, end, archive, tick: (ms: number) => (now += ms) };
}

t.test('recorded: audio covers the call', async (t) => {
  const s = setup();
  s.connect('a');
  s.tick(60_000);
  s.end('a');
  s.archive('a', 59_800);
  t.equal(s.store.call('a')?.state, 'recorded');
  t.same(s.findings, []);
});

t.test('recording before the BYE event, or after: same verdict', async (t) => {
  const s = setup();
  s.connect('b');
  s.tick(30_000);
  s.archive('b', 29_900);
  t.equal(s.store.call('b')?.state, 'active', 'not settled before Kamailio saw the end');
  s.end('b');
  t.equal(s.store.call('b')?.state, 'recorded');
});

t.test('incomplete: less audio than Kamailio says the call lasted', async (t) => {
  const s = setup();
  s.connect('c');
  s.tick(60_000);
  s.end('c');
  s.archive('c', 20_000);
  t.equal(s.store.call('c')?.state, 'incomplete');
  t.match(s.findings, [{ type: 'incomplete', detail: /20\.0 s of audio for a 60\.0 s call/ }]);
});

t.test('missing: no recording within the grace time; not offered → said at connect', async (t) => {
  const s = setup();
  s.connect('d', false);
  t.match(s.findings, [{ type: 'notRecording' }], 'alarm at once when rtpengine did not take the call');
  s.tick(5000);
  s.end('d');
  s.audit.tick();
  t.equal(s.store.call('d')?.state, 'ended', 'within grace: still waiting');
  s.tick(10_001);
  s.audit.tick();
  t.equal(s.store.call('d')?.state, 'missing');
  t.match(s.findings[1], { type: 'missing', call: { callId: 'd' } });
  t.equal(s.audit.counts(3_600_000).missing, 1);
  s.archive('d', 4900);
  t.equal(s.store.call('d')?.state, 'recorded', 'a late recording still settles it');
});

t.test('test calls are audited but raise no patient-call alarms; lost calls', async (t) => {
  const s = setup();
  s.connect('e', false, true);
  s.end('e');
  s.tick(20_000);
  s.audit.tick();
  t.equal(s.store.call('e')?.state, 'missing');
  t.same(s.findings, []);
  s.connect('f');
  s.tick(3_600_001);
  s.audit.tick();
  t.equal(s.store.call('f')?.state, 'lost');
  t.match(s.findings, [{ type: 'lost' }]);
});

t.test('judge: the rules on their own', async (t) => {
  const st = (ms: number) => ({ caller: { samples: ms * 8 }, callTaker: { samples: 0 } });
  t.match(judgeRecording({ stats: st(9000), truncated: false, finished: true, connectedMs: 10_000, answered: true }, limits), { status: 'complete' });
  t.match(judgeRecording({ stats: st(5000), truncated: false, finished: true, connectedMs: 10_000, answered: true }, limits), { status: 'incomplete' });
  t.match(
    judgeRecording({ stats: st(1000), truncated: false, finished: true, connectedMs: 2400, answered: true }, limits),
    { status: 'complete' },
    'short calls: under the minimum missing time',
  );
  t.match(
    judgeRecording({ stats: st(0), truncated: false, finished: true, connectedMs: null, answered: false }, limits),
    { status: 'no-audio' },
    'unanswered, no audio: not a fault',
  );
  t.match(judgeRecording({ stats: st(0), truncated: false, finished: true, connectedMs: 5000, answered: true }, limits), {
    status: 'incomplete',
    reasons: [/no audio/],
  });
  t.match(judgeRecording({ stats: st(9000), truncated: true, finished: true, connectedMs: 9000, answered: true }, limits), {
    status: 'incomplete',
    reasons: [/cut off/],
  });
  t.match(judgeRecording({ stats: st(9000), truncated: false, finished: false, connectedMs: null, answered: true }, limits), {
    status: 'incomplete',
    reasons: [/rtpengine stopped/],
  });
});
