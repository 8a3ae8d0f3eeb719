/**
 * Acceptance 5 (issue #7): the supervisor killed (SIGKILL) during the ingest of
 * 20 real recorded calls — at every step of the ingest in turn and once at a
 * moment the test does not choose — and restarted: all 20 archived, each once;
 * the spool empty; the chain verifies; no half-built folders left.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { AudiologStore } from '../../../supervisor/src/store/audiologStore.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { verifyAudiolog } from '../../../supervisor/src/audiolog/verify.js';
import { startRecordingLab, talkingCalls } from '../../helpers/rtpengine.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';

const REPO = path.resolve(import.meta.dirname, '../../..');
const FIXTURE = path.join(import.meta.dirname, 'fixtures', 'ingestProcess.ts');

interface Run {
  child: ChildProcess;
  out: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startIngest(conf: object, crashAt?: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    cwd: REPO,
    env: { ...process.env, VAKTPOST_TEST_AUDIOLOG: JSON.stringify(conf), CRASH_AT: crashAt ?? '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  return { child, out: () => out, exited };
}

t.test('killed at any point of the ingest of 20 calls: after restart all 20 archived once', async (t) => {
  const scratch = await scratchDir('crash-ingest');
  t.teardown(() => scratch.cleanup());
  const lab = await startRecordingLab(t);
  const calls = await talkingCalls(t, lab, { calls: 20, rate: 10, holdMs: 1500, caller: '4790000005' });
  t.equal(calls.result.stats?.successful, 20, '20 calls recorded by rtpengine');
  const metaDir = path.join(lab.rtp.spoolDir, 'metadata');
  await waitFor(async () => (await readdir(metaDir)).length === 20, { timeoutMs: 30_000, what: '20 finished recordings in the spool' });

  const conf = { dataDir: path.join(scratch.dir, 'data'), spoolDir: lab.rtp.spoolDir, eventsPort: await freePort(), ngPort: lab.rtp.ngPort };
  const kills: string[] = [];
  // Every step of the ingest, in turn: crash right after it.
  for (const crashAt of ['converted:3', 'staged:2', 'renamed:2', 'committed:2', 'cleaned:1']) {
    const r = startIngest(conf, crashAt);
    t.teardown(() => r.child.kill('SIGKILL'));
    let timer: NodeJS.Timeout | undefined;
    const ex = await Promise.race([r.exited, new Promise<null>((res) => (timer = setTimeout(() => res(null), 60_000)))]);
    clearTimeout(timer);
    t.equal(
      ex?.signal,
      'SIGKILL',
      `killed at ${crashAt} (${
        r
          .out()
          .split('\n')
          .find((l) => l.startsWith('crashing')) ?? r.out().slice(-300)
      })`,
    );
    kills.push(crashAt);
  }
  // And at a moment of the kernel's choosing: right after the next commit is reported.
  {
    const r = startIngest(conf);
    t.teardown(() => r.child.kill('SIGKILL'));
    await waitFor(() => /committed/.test(r.out()), { timeoutMs: 60_000, what: 'the ingest to commit one more' });
    r.child.kill('SIGKILL');
    await r.exited;
    kills.push('SIGKILL from outside');
  }
  // Restart for good.
  const r = startIngest(conf);
  t.teardown(async () => {
    r.child.kill('SIGTERM');
    await r.exited;
  });
  const db = openDb(path.join(conf.dataDir, 'vaktpost.db'));
  t.teardown(() => db.close());
  const store = new AudiologStore(db);
  await waitFor(() => store.countRecordings() === 20, { timeoutMs: 90_000, what: 'all 20 recordings archived' });
  // Give it a moment to do anything wrong (archive one twice) — then check.
  await waitFor(async () => (await readdir(metaDir)).length === 0 && (await readdir(path.join(lab.rtp.spoolDir, 'pcaps'))).length === 0, {
    timeoutMs: 30_000,
    what: 'the spool to be emptied',
  });
  const rows = store.recordings({ limit: 100 });
  t.equal(rows.length, 20, `20 recordings after ${kills.length} kills (${kills.join(', ')})`);
  t.equal(new Set(rows.map((x) => x.source)).size, 20, 'each rtpengine file archived once');
  t.same([...new Set(rows.map((x) => x.callId))].sort(), [...calls.callIds.values()].sort(), 'exactly the 20 calls SIPp made');
  t.equal(store.chain(0, 1000).filter((e) => e.kind === 'recording').length, 20, 'twenty recording entries in the chain, no duplicates');
  t.ok(
    rows.every((x) => x.caller === '4790000005'),
    'every one carries its caller number',
  );
  const v = await verifyAudiolog({ store, archiveDir: path.join(conf.dataDir, 'audiolog') });
  t.ok(v.ok, `the chain and every file verify (${v.problems.map((p) => p.message).join(' | ')})`);
  const top = await readdir(path.join(conf.dataDir, 'audiolog'));
  t.notOk(top.includes('.staging') && (await readdir(path.join(conf.dataDir, 'audiolog', '.staging'))).length > 0, 'no half-built staging folders left');
});
