/** The audit: every connected call ends up recorded, incomplete, missing or lost. */
import t from 'tap';
import { type AuditFinding, CallAudit } from '../../../supervisor/src/audiolog/callAudit.js';
import { AudiologStore, type RecordingInput } from '../../../supervisor/src/store/audiologStore.js';
import { EvidenceStore } from '../../../supervisor/src/store/evidenceStore.js';
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
  const archive = (callId: string, capturedMs: number, status: RecordingInput['status'] = 'complete', extra: Record<string, unknown> = {}) => {
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
        summary: { capturedMs, reasons: status === 'incomplete' ? ['cut off'] : [], ...extra },
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

t.test('a pause in the RTP is not missing audio: rtpengine counted every packet up to the end (issue #16)', async (t) => {
  const s = setup();
  s.connect('p');
  s.tick(8000);
  s.end('p');
  // 5.7 s of audio for an 8.0 s call, but rtpengine's last count (0.5 s before the end) matched the file.
  s.archive('p', 5700, 'complete', { mediaAccountedUntil: 1_000_000 + 7500 });
  t.equal(s.store.call('p')?.state, 'recorded', 'both sides paused at the end: recorded, not incomplete');
  t.same(s.findings, []);
  s.connect('q');
  s.tick(8000);
  s.end('q');
  s.archive('q', 5700, 'complete', { mediaAccountedUntil: 1_008_000 + 2000 });
  t.equal(s.store.call('q')?.state, 'incomplete', 'counted only until 6 s before the end: the length check still applies');
  t.match(s.findings, [{ type: 'incomplete', detail: /5\.7 s of audio for a 8\.0 s call/, detailNb: /5\.7 s lyd for en samtale på 8\.0 s/ }]);
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

// ---- across a restart (the chaos kill test) -------------------------------------------

/** One store, audited by one "process" after another: a restart is a new CallAudit. */
function restartable() {
  let now = 1_000_000;
  const db = openDb(':memory:');
  const store = new AudiologStore(db);
  const findings: AuditFinding[] = [];
  let ready = true;
  let pending = new Set<string>();
  const newAudit = () =>
    new CallAudit({
      store,
      now: () => now,
      limits,
      graceMs: 10_000,
      maxCallMs: 3_600_000,
      onFinding: (f) => findings.push(f),
      ready: () => ready,
      pendingCallIds: () => pending,
    });
  let audit = newAudit();
  const connected = (callId: string) =>
    audit.onCallEvent({
      type: 'connected',
      at: now,
      callId,
      caller: '4790000000',
      called: '116117',
      route: 'local',
      centre: null,
      recorded: true,
      probe: false,
      fromTag: 'f',
      toTag: 't',
    });
  const record = (callId: string, o: { startedAt: number; capturedMs: number; rtpengineEndedAt: number | null }) =>
    store.insertRecording(
      {
        id: `rec-${callId}`,
        source: `rtpengine-meta-${callId}-0000000000000001.txt`,
        callId,
        kind: 'call',
        status: 'complete',
        startedAt: o.startedAt,
        endedAt: o.rtpengineEndedAt,
        caller: null,
        called: null,
        route: null,
        centre: null,
        audioMs: o.capturedMs,
        connectedMs: null,
        dir: 'x',
        bytes: 1,
        summary: { capturedMs: o.capturedMs, reasons: [], rtpengineEndedAt: o.rtpengineEndedAt },
      },
      {},
      now,
    ).row;
  return {
    store,
    findings,
    get audit() {
      return audit;
    },
    connected,
    record,
    restart: () => {
      audit = newAudit();
    },
    setReady: (r: boolean) => {
      ready = r;
    },
    setPending: (ids: string[]) => {
      pending = new Set(ids);
    },
    kamailioEnded: (callId: string, at: number) =>
      new EvidenceStore(db).ingest(
        [{ callId, fromTag: 'f', event: 'ended', at, code: null, role: 'local', caller: null, pai: null, called: null, probe: false, source: 'acc' }],
        null,
        now,
      ),
    now: () => now,
    tick: (ms: number) => (now += ms),
  };
}

t.test('restart: a call that ended while the supervisor was down is not "missing" while its recording waits in the spool', async (t) => {
  const s = restartable();
  s.connected('r1');
  s.tick(30_000);
  s.audit.onCallEvent({ type: 'ended', at: s.now(), callId: 'r1' });
  // Killed now; down for a minute; the recording sits in the spool.
  s.tick(60_000);
  s.setReady(false);
  s.setPending(['r1']);
  s.restart();
  s.audit.tick();
  t.equal(s.store.call('r1')?.state, 'ended', 'the grace did not run while the supervisor was down');
  s.tick(10_001);
  s.audit.tick();
  t.equal(s.store.call('r1')?.state, 'ended', 'no verdict before the spool found at start-up is ingested');
  s.setReady(true);
  s.audit.tick();
  t.equal(s.store.call('r1')?.state, 'ended', 'its recording is still waiting in the spool: no verdict');
  t.same(s.findings, [], 'no alarm');
  t.equal(s.store.entriesOfKind('unrecorded', { limit: 5 }).length, 0, 'no "unrecorded" chain entry');
  s.setPending([]);
  s.audit.onRecording(s.record('r1', { startedAt: s.now() - 100_000, capturedMs: 29_900, rtpengineEndedAt: s.now() - 71_000 }));
  t.equal(s.store.call('r1')?.state, 'recorded');
  t.same(s.findings, []);
});

t.test('restart: the grace runs from the start of this process, then a call with no recording is missing', async (t) => {
  const s = restartable();
  s.connected('r2');
  s.tick(5000);
  s.audit.onCallEvent({ type: 'ended', at: s.now(), callId: 'r2' });
  s.tick(120_000);
  s.restart();
  s.tick(9000);
  s.audit.tick();
  t.equal(s.store.call('r2')?.state, 'ended', 'within the grace counted from the start');
  s.tick(1001);
  s.audit.tick();
  t.equal(s.store.call('r2')?.state, 'missing', 'nothing in the spool, the grace over: missing');
  t.match(s.findings, [{ type: 'missing', call: { callId: 'r2' } }]);
});

t.test("restart: a call whose end event was lost is closed from Kamailio's call records", async (t) => {
  const s = restartable();
  s.connected('r3');
  const connectedAt = s.now();
  s.tick(20_000);
  // The supervisor is down when the call ends: no end event. Its recording arrives after the restart.
  s.restart();
  s.audit.onRecording(s.record('r3', { startedAt: connectedAt, capturedMs: 19_900, rtpengineEndedAt: null }));
  t.equal(s.store.call('r3')?.state, 'active', 'no word of the end yet (the recording does not say)');
  s.audit.tick();
  t.equal(s.store.call('r3')?.state, 'active');
  s.kamailioEnded('r3', connectedAt + 20_000);
  s.tick(1000);
  s.audit.tick();
  t.match(s.store.call('r3'), { state: 'recorded', endedAt: connectedAt + 20_000, detail: /Kamailio's call records/ });
  // Hours later: nothing is "lost".
  s.tick(3_600_001);
  s.audit.tick();
  t.equal(s.store.call('r3')?.state, 'recorded');
  t.same(s.findings, [], 'no "call lost" warning');
});

t.test('restart: a call whose end event was lost is closed from the end rtpengine wrote into its recording', async (t) => {
  const s = restartable();
  s.connected('r4');
  const connectedAt = s.now();
  s.tick(15_000);
  const rtpEnd = s.now();
  s.tick(5000);
  s.restart();
  // Ended before this process started: closed as soon as the recording is archived.
  s.audit.onRecording(s.record('r4', { startedAt: connectedAt, capturedMs: 14_900, rtpengineEndedAt: rtpEnd }));
  t.match(s.store.call('r4'), { state: 'recorded', endedAt: rtpEnd, detail: /rtpengine's end/ });
  t.same(s.findings, []);
});

t.test('running: a finished recording closes an active call only once its end event is past the grace', async (t) => {
  const s = restartable();
  s.tick(1000);
  s.connected('r5');
  const connectedAt = s.now();
  s.tick(10_000);
  s.audit.onRecording(s.record('r5', { startedAt: connectedAt, capturedMs: 9900, rtpengineEndedAt: s.now() }));
  t.equal(s.store.call('r5')?.state, 'active', 'the end event may just be late');
  s.tick(5000);
  s.audit.tick();
  t.equal(s.store.call('r5')?.state, 'active');
  s.tick(5001);
  s.audit.tick();
  t.match(s.store.call('r5'), { state: 'recorded', endedAt: connectedAt + 10_000 });
  t.same(s.findings, []);
});

t.test('restart: "lost" is counted from the start of this process, and needs the spool ingested', async (t) => {
  const s = restartable();
  s.connected('r6');
  s.tick(3_600_000 + 5000);
  s.setReady(false);
  s.restart();
  s.audit.tick();
  t.equal(s.store.call('r6')?.state, 'active', 'not given up at once after a restart');
  s.tick(3_600_000);
  s.audit.tick();
  t.equal(s.store.call('r6')?.state, 'active', 'not before the spool is ingested');
  s.setReady(true);
  s.audit.tick();
  t.equal(s.store.call('r6')?.state, 'lost', 'no end anywhere: lost');
  t.match(s.findings, [{ type: 'lost' }]);
});
