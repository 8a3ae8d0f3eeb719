/**
 * Kamailio's call records, end to end with the real daemon: what the rendered
 * cfg writes (acc + db_flatstore) is read exactly once — re-reads, a new
 * reader, lost offsets and half-written lines never double or lose a call;
 * rotation through Kamailio's own `flatstore.k_rotate` keeps every record; a
 * vanished directory is recreated and Kamailio made to reopen; and a record
 * that cannot be written never costs a call.
 */
import { appendFile, rm, writeFile } from 'node:fs/promises';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { assembleCalls } from '../../../supervisor/src/core/evidence.js';
import { CallRecordIngester } from '../../../supervisor/src/evidence/ingest.js';
import { renderKamailio } from '../../../supervisor/src/reconcilers/kamailio/render.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { EvidenceStore } from '../../../supervisor/src/store/evidenceStore.js';
import { startKamailio } from '../../helpers/kamailio.js';
import { describeCaller, runCaller, startCentre, waitSipReady } from '../../helpers/sipp.js';
import { makeTestPrompt } from '../../helpers/audio/prompt.js';
import { startAnnouncement } from '../../helpers/sipp.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

t.test('call records: exactly once, through rotation and a vanished directory; never in the way of a call', async (t) => {
  const { dir, cleanup } = await scratchDir('evidence-records');
  t.teardown(cleanup);
  const recordsDir = path.join(dir, 'calls');
  const prompt = await makeTestPrompt(t);
  const [local, backup, ann] = await Promise.all([startCentre(t, 'local'), startCentre(t, 'backup'), startAnnouncement(t, prompt.file)]);
  await Promise.all([local, backup, ann].map((u) => waitSipReady(u)));
  const kam = await startKamailio(t, { centres: { local: [local.uri], backup: [backup.uri] }, announcementUris: [ann.uri] });
  // Records on, but the directory does not exist yet.
  await writeFile(path.join(kam.dir, 'kamailio.cfg'), renderKamailio({ ...kam.input, callRecords: { dir: recordsDir } }).cfg);
  await kam.restart();

  const lost = await runCaller(t, { kamailioPort: kam.sipPort, calls: 3, rate: 10, holdMs: 100, timeoutS: 20 });
  t.same(lost.answersPerRole, { local: 3 }, `calls are answered although no record can be written (${describeCaller(lost)})`);
  t.match(kam.log(), /db_flatstore.*No such file or directory/, 'Kamailio says why the record was not written');

  const db = openDb(path.join(dir, 'vaktpost.db'));
  t.teardown(() => db.close());
  const store = new EvidenceStore(db);
  let reopens = 0;
  const reopen = async () => {
    reopens++;
    await kam.rpc.call('flatstore.k_rotate');
  };
  const ingester = new CallRecordIngester({ dir: recordsDir, store, now: Date.now, reopen });
  await ingester.ensureDir();

  // SIPp can see the BYE's 200 a moment before Kamailio's acc has written the last
  // record: read until the expected records are in (then a further pass must add none).
  const ingestUntil = async (expected: number) => {
    let added = 0;
    let rejected = 0;
    const problems: string[] = [];
    await waitFor(
      async () => {
        const r = await ingester.ingestNow();
        added += r.added;
        rejected += r.rejected;
        problems.push(...r.problems);
        return added >= expected;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `${expected} call records` },
    ).catch(() => undefined);
    return { added, rejected, problems };
  };
  const first = await runCaller(t, { kamailioPort: kam.sipPort, calls: 5, rate: 10, holdMs: 100, timeoutS: 20 });
  t.same(first.answersPerRole, { local: 5 }, describeCaller(first));
  const r1 = await ingestUntil(5 * 3);
  t.equal(r1.rejected, 0, `every line parsed (${r1.problems.join('; ')})`);
  t.equal(r1.added, 5 * 3, 'arrived + answered + ended for each of the 5 calls');
  const calls = () => assembleCalls(store.milestonesForArrivals(0, Date.now() + 1), Date.now(), 900_000);
  t.equal(calls().length, 5);
  t.ok(
    calls().every((c) => c.outcome === 'answered' && c.answeredBy === 'local' && c.endedAt !== null && c.callerId === 'caller' && c.called === '116117'),
    'answered by local, ended, with caller and called number',
  );
  t.equal((await ingester.ingestNow()).added, 0, 'a second pass adds nothing');
  t.equal((await new CallRecordIngester({ dir: recordsDir, store, now: Date.now }).ingestNow()).added, 0, 'nor does a new reader (offsets are in the store)');
  db.prepare('DELETE FROM call_record_files').run();
  const reread = await new CallRecordIngester({ dir: recordsDir, store, now: Date.now }).ingestNow();
  t.ok(reread.lines >= 15, 'with the offsets lost, the files are read again …');
  t.equal(reread.added, 0, '… and nothing is doubled');

  // A line still being written is left for the next pass.
  const half = path.join(recordsDir, 'vaktpost_calls_999.log');
  await writeFile(half, 'INVITE|tagX||manual-1@test||arrived|1795314162|1795314162.1');
  t.equal((await ingester.ingestNow()).added, 0, 'half a line is not taken');
  await appendFile(half, '00000||4790000009||116117|0\n');
  t.equal((await ingester.ingestNow()).added, 1, 'once the line is complete it is');
  await rm(half);

  // Rotation through Kamailio: renamed, reopened, read out, deleted — nothing lost.
  const rot = await ingester.rotate(reopen);
  t.ok(rot.rotated >= 1 && rot.deleted === rot.rotated, rot.detail);
  t.same(
    readdirSync(recordsDir).filter((f) => f.includes('.log.')),
    [],
    'no rotated file left behind',
  );
  const second = await runCaller(t, { kamailioPort: kam.sipPort, calls: 4, rate: 10, holdMs: 100, timeoutS: 20 });
  t.same(second.answersPerRole, { local: 4 });
  t.equal((await ingestUntil(4 * 3)).added, 4 * 3, 'calls after the rotation land in fresh files');
  t.equal(calls().length, 5 + 1 + 4, 'every call once');

  // Someone deletes the directory while Kamailio runs.
  await rm(recordsDir, { recursive: true });
  await ingester.ingestNow();
  t.equal(reopens, 2, 'the reader recreated it and asked Kamailio to reopen');
  const third = await runCaller(t, { kamailioPort: kam.sipPort, calls: 2, rate: 10, holdMs: 100, timeoutS: 20 });
  t.same(third.answersPerRole, { local: 2 });
  t.equal((await ingestUntil(2 * 3)).added, 2 * 3, 'records are written again after the reopen');
  t.equal((await ingester.ingestNow()).added, 0, 'and nothing twice');
  t.equal(calls().length, 12);
});
