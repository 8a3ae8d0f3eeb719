/**
 * `vaktpost audiolog verify` while the supervisor archives (the chaos kill test):
 * the chain and the index are read from one snapshot, so a recording committed
 * half-way through a verify is in neither part; a folder on disk the snapshot does
 * not know is looked up again (committed since, or its rtpengine file still in the
 * spool — an ingest cut short by a kill) before it is called tampering. Real
 * tampering is still reported.
 */
import { rmSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { FILE_AUDIO, FILE_RECORD, relativeDir, sha256File } from '../../../supervisor/src/audiolog/archive.js';
import { runAudiologCli } from '../../../supervisor/src/audiolog/cli.js';
import { verifyAudiolog } from '../../../supervisor/src/audiolog/verify.js';
import { AudiologStore } from '../../../supervisor/src/store/audiologStore.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { scratchDir } from '../../helpers/util.js';

async function setup(t: { teardown(fn: () => unknown): void }) {
  const scratch = await scratchDir('verify-live');
  t.teardown(() => scratch.cleanup());
  const dataDir = path.join(scratch.dir, 'data');
  const archiveDir = path.join(dataDir, 'audiolog');
  const spoolDir = path.join(scratch.dir, 'spool');
  for (const d of ['pcaps', 'tmp', 'metadata']) await mkdir(path.join(spoolDir, d), { recursive: true });
  await mkdir(archiveDir, { recursive: true });
  const db = openDb(path.join(dataDir, 'vaktpost.db'));
  t.teardown(() => db.close());
  const store = new AudiologStore(db);
  const configFile = path.join(scratch.dir, 'vaktpost.yaml');
  await writeFile(configFile, `box:\n  dataDir: ${dataDir}\naudiolog:\n  enabled: false\n  rtpengine: { spoolDir: ${spoolDir} }\n`);
  let n = 0;
  /** An archived folder as the ingest leaves it after its rename (before its commit). */
  const folder = async (callId: string) => {
    n++;
    const id = `20260110T1200${String(n).padStart(2, '0')}Z-${String(n).padStart(12, '0')}`;
    const source = `rtpengine-meta-${callId}-${String(n).padStart(16, '0')}.txt`;
    const rel = relativeDir(id);
    const dir = path.join(archiveDir, rel);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, FILE_AUDIO), `audio of ${callId}`);
    await writeFile(path.join(dir, FILE_RECORD), JSON.stringify({ id, source, callId }));
    return { id, source, callId, rel, files: { [FILE_AUDIO]: await sha256File(path.join(dir, FILE_AUDIO)) } };
  };
  /** The ingest's commit: chain entry + index row. */
  const commit = (f: Awaited<ReturnType<typeof folder>>) =>
    store.insertRecording(
      {
        id: f.id,
        source: f.source,
        callId: f.callId,
        kind: 'call',
        status: 'complete',
        startedAt: Date.UTC(2026, 0, 10, 12),
        endedAt: null,
        caller: null,
        called: null,
        route: null,
        centre: null,
        audioMs: 1000,
        connectedMs: null,
        dir: f.rel,
        bytes: 10,
        summary: { files: f.files },
      },
      { id: f.id, source: f.source, callId: f.callId, dir: f.rel, files: f.files },
      Date.now(),
    );
  return { dataDir, archiveDir, spoolDir, store, configFile, folder, commit };
}

t.test('a recording committed while verify reads is in neither the chain part nor the index part', async (t) => {
  const s = await setup(t);
  for (const c of ['a', 'b', 'c']) s.commit(await s.folder(c));
  const late = await s.folder('late');
  // The commit lands after verify has read the first chunk of the chain, before it reads the index.
  const live = s.store.readView.bind(s.store);
  s.store.readView = () => {
    const view = live();
    const chain = view.store.chain.bind(view.store);
    let committed = false;
    view.store.chain = (after, limit) => {
      const out = chain(after, limit);
      if (!committed) {
        committed = true;
        s.commit(late);
      }
      return out;
    };
    return view;
  };
  const r = await verifyAudiolog({ store: s.store, archiveDir: s.archiveDir, chunk: 1 });
  t.same(r.problems, [], 'no "has no chain entry", no "in the archive but not in the chain"');
  t.ok(r.ok);
  t.equal(r.recordings, 3, 'the index as of the snapshot');
  t.equal(r.headSeq, 3, 'the head the snapshot saw');
  s.store.readView = live;
  const again = await verifyAudiolog({ store: s.store, archiveDir: s.archiveDir });
  t.match(again, { ok: true, recordings: 4, headSeq: 4 }, 'the next verify sees it');
});

t.test('a recording deleted by retention after the snapshot: its files being gone is no problem', async (t) => {
  const s = await setup(t);
  const f = await s.folder('old');
  s.commit(f);
  const live = s.store.readView.bind(s.store);
  s.store.readView = () => {
    const view = live();
    s.store.markDeleted(f.id, { id: f.id, reason: 'retention' }, Date.now());
    rmSync(path.join(s.archiveDir, f.rel), { recursive: true, force: true });
    return view;
  };
  const r = await verifyAudiolog({ store: s.store, archiveDir: s.archiveDir });
  t.same(r.problems, []);
  t.equal(r.files, 1, 'its file was looked for');
});

t.test('a folder a kill left between rename and commit: the CLI sees its rtpengine file in the spool', async (t) => {
  const s = await setup(t);
  s.commit(await s.folder('a'));
  const cut = await s.folder('cut');
  await writeFile(path.join(s.spoolDir, 'metadata', cut.source), 'rtpengine metadata');
  const out: string[] = [];
  const io = { out: (x: string) => out.push(x), err: (x: string) => out.push(x) };
  t.equal(await runAudiologCli(['verify', '-c', s.configFile], '/nonexistent', io), 0, `pending ingest is not tampering: ${out.join('')}`);
  // The same folder with no rtpengine file waiting: an index entry removed.
  await rm(path.join(s.spoolDir, 'metadata', cut.source));
  out.length = 0;
  t.equal(await runAudiologCli(['verify', '-c', s.configFile], '/nonexistent', io), 1, 'a folder nobody is ingesting is reported');
  t.match(out.join(''), new RegExp(`${cut.id}.*is in the archive .* but not in the chain`));
});

t.test('a folder committed after the snapshot (or whose ingest commits during the last look) is fine; a planted one is not', async (t) => {
  const s = await setup(t);
  s.commit(await s.folder('a'));
  const soon = await s.folder('soon');
  const planted = await s.folder('planted');
  // Commits while verify waits for its last look at the folders it cannot explain.
  const timer = setTimeout(() => s.commit(soon), 100);
  t.teardown(() => clearTimeout(timer));
  const r = await verifyAudiolog({ store: s.store, archiveDir: s.archiveDir, pendingSources: new Set(), recheckMs: 1000 });
  t.same(
    r.problems.map((p) => p.recordingId),
    [planted.id],
    'only the planted folder',
  );
  t.match(r.problems[0]?.message, /but not in the chain — its index entry was removed/);
});

t.test('tampering in the index is still found through the snapshot', async (t) => {
  const s = await setup(t);
  const a = await s.folder('a');
  s.commit(a);
  s.commit(await s.folder('b'));
  s.store.db.prepare('DELETE FROM audiolog_recordings WHERE id = ?').run(a.id);
  const r = await verifyAudiolog({ store: s.store, archiveDir: s.archiveDir, recheckMs: 0 });
  t.notOk(r.ok);
  t.match(r.problems, [{ recordingId: a.id, message: /index row was deleted/ }]);
});
