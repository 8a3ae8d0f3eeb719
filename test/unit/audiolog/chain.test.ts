/** The hash chain and the store that keeps it: append-only, every change detectable and named. */
import t from 'tap';
import { canonicalJson, entryHash, GENESIS_HASH, verifyChainRun } from '../../../supervisor/src/audiolog/chain.js';
import { AudiologStore, type RecordingInput } from '../../../supervisor/src/store/audiologStore.js';
import { openDb } from '../../../supervisor/src/store/db.js';

const rec = (id: string, source: string): RecordingInput => ({
  id,
  source,
  callId: `${id}@x`,
  kind: 'call',
  status: 'complete',
  startedAt: 1000,
  endedAt: 2000,
  caller: '4790000000',
  called: '116117',
  route: 'local',
  centre: null,
  audioMs: 1000,
  connectedMs: 1000,
  dir: `2026/01/01/${id}`,
  bytes: 100,
  summary: { capturedMs: 1000 },
});

t.test('canonical JSON: one text per value', async (t) => {
  t.equal(canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 1 }], c: null } }), '{"a":{"c":null,"d":[1,{"y":1,"z":0}]},"b":1}');
  t.equal(canonicalJson({ a: undefined, b: 2 }), '{"b":2}');
});

t.test('append, link, verify', async (t) => {
  const store = new AudiologStore(openDb(':memory:'));
  t.equal(store.head(), null);
  store.insertRecording(rec('r1', 's1'), { id: 'r1', files: { 'audio.wav': 'aa' } }, 10);
  store.insertRecording(rec('r2', 's2'), { id: 'r2', files: { 'audio.wav': 'bb' } }, 11);
  store.append('access', 'r1', { by: 'kari', reason: 'sak' }, 12);
  const all = store.chain(0, 100);
  t.same(
    all.map((e) => [e.seq, e.kind]),
    [
      [1, 'recording'],
      [2, 'recording'],
      [3, 'access'],
    ],
  );
  t.equal(all[0]?.prevHash, GENESIS_HASH);
  t.equal(all[1]?.prevHash, all[0]?.hash, 'each entry links to the one before');
  t.same(verifyChainRun(all), [], 'intact chain verifies');
  t.throws(() => store.insertRecording(rec('r3', 's1'), {}, 13), /UNIQUE/, 'one recording per rtpengine file (idempotency)');
  t.equal(store.chain(0, 100).length, 3, 'and the refused duplicate left no chain entry (one transaction)');
  t.throws(() => store.db.prepare('UPDATE audiolog_chain SET at = 0 WHERE seq = 1').run(), /append-only/);
  t.throws(() => store.db.prepare('DELETE FROM audiolog_chain WHERE seq = 1').run(), /append-only/);
});

t.test('tampering is named', async (t) => {
  const store = new AudiologStore(openDb(':memory:'));
  for (const i of [1, 2, 3, 4]) store.insertRecording(rec(`r${i}`, `s${i}`), { id: `r${i}` }, i);
  const entries = store.chain(0, 100);
  // changed body
  const changed = entries.map((e) => (e.seq === 2 ? { ...e, bodyJson: '{"id":"r2","evil":1}' } : e));
  t.match(verifyChainRun(changed), [{ seq: 2, recordingId: 'r2', kind: 'hash' }], 'a changed entry is named by seq and recording');
  // removed entry
  const removed = entries.filter((e) => e.seq !== 3);
  const p = verifyChainRun(removed);
  t.match(p, [
    { seq: 3, kind: 'gap' },
    { seq: 4, kind: 'link' },
  ]);
  t.match(p[0]?.message, /chain entry 3 is missing/);
  // a forger who also rewrites every later hash is still caught at the first changed body… by the files and index (verify.ts); the chain itself stays consistent
  const e = entries[0];
  if (e) t.equal(entryHash(e.prevHash, e), e.hash, 'hash is a function of the stored row');
});

t.test('calls: first word wins; verdicts', async (t) => {
  const store = new AudiologStore(openDb(':memory:'));
  const base = { callId: 'c1', connectedAt: 100, caller: '1', called: '2', route: 'local', centre: null, offered: true, test: false };
  t.ok(store.callConnected(base));
  t.notOk(store.callConnected({ ...base, connectedAt: 999 }), 'a retransmitted 200 does not overwrite');
  t.equal(store.callEnded('c1', 500)?.state, 'ended');
  t.equal(store.callEnded('c1', 900)?.endedAt, 500, 'the first BYE counts');
  store.decideCall('c1', 'missing', null, 'no recording', 600, { callId: 'c1' });
  t.equal(store.call('c1')?.state, 'missing');
  t.equal(store.entriesOfKind('unrecorded', { limit: 5 }).length, 1, 'the gap is chained');
  t.equal(store.calls({ limit: 10, states: ['missing'], decidedSince: 0 }).length, 1);
});

t.test('search: by caller (anywhere in the number) and by time, newest first', async (t) => {
  const store = new AudiologStore(openDb(':memory:'));
  const at = (id: string, caller: string, startedAt: number): RecordingInput => ({ ...rec(id, `s-${id}`), caller, startedAt, endedAt: startedAt + 1000 });
  store.insertRecording(at('a', '+4790012345', 1_000), {}, 1);
  store.insertRecording(at('b', '4790012345', 2_000), {}, 2);
  store.insertRecording(at('c', '4722334455', 3_000), {}, 3);
  const ids = (o: Parameters<AudiologStore['recordings']>[0]) => store.recordings(o).map((r) => r.id);
  t.same(ids({ limit: 10, caller: '90012345' }), ['b', 'a'], 'part of the number finds both forms, newest first');
  t.same(ids({ limit: 10, caller: '+4790012345' }), ['a'], 'with the + only the E.164 form');
  t.same(ids({ limit: 10, since: 2_000 }), ['c', 'b'], 'since is inclusive');
  t.same(ids({ limit: 10, since: 1_500, before: 3_000 }), ['b'], 'before is exclusive');
  t.same(ids({ limit: 10, caller: '4722', before: 3_000 }), [], 'caller and time together');
  t.throws(() => store.recordings({ limit: 10, caller: '4%' }), /LIKE wildcards/, 'a wildcard never reaches SQL');
});
