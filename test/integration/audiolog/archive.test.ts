/**
 * The archive side without call daemons: finished rtpengine files (built like
 * rtpengine writes them) dropped into a spool are picked up by the watcher,
 * converted in the worker and chained; retention deletes what is past its time
 * unless held, and records each deletion; the CLI verifies and exports.
 */
import { mkdir, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { runAudiologCli } from '../../../supervisor/src/audiolog/cli.js';
import { type AudiologEvent, createAudioLog } from '../../../supervisor/src/audiolog/service.js';
import { verifyAudiolog } from '../../../supervisor/src/audiolog/verify.js';
import { audiologSchema, resolveAudiologConfig } from '../../../supervisor/src/config/audiolog.js';
import { callRecordingSchema } from '../../../supervisor/src/config/calls.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';
import { metadataText, pcapFile, twoPartyCall } from '../../unit/audiolog/pcapBuilder.js';

const YEAR = 365.25 * 86_400_000;

async function dropRecording(spool: string, name: string, callId: string, caller: string, startMs: number): Promise<void> {
  const pcapName = `${name}.pcap`;
  const pkts = twoPartyCall(startMs, 150);
  await writeFile(path.join(spool, 'pcaps', pcapName), pcapFile(pkts));
  const hex = (s: string) => Buffer.from(s).toString('hex');
  const meta = metadataText({
    offerPort: 30000,
    answerPort: 30014,
    startMs,
    endMs: startMs + 3000,
    metadata: `vaktpost=1|callid=${hex(callId)}|caller=${hex(caller)}|called=${hex('116117')}`,
  }).replace(/^.*\n/, `${path.join(spool, 'pcaps', pcapName)}\n`);
  // rtpengine's order: write in tmp/, rename into metadata/ (the "done" signal).
  await writeFile(path.join(spool, 'tmp', `rtpengine-meta-${name}.tmp`), meta);
  await rename(path.join(spool, 'tmp', `rtpengine-meta-${name}.tmp`), path.join(spool, 'metadata', `rtpengine-meta-${name}.txt`));
}

t.test('spool → archive; retention with legal hold; CLI verify and export', async (t) => {
  const scratch = await scratchDir('archive');
  t.teardown(() => scratch.cleanup());
  const spool = path.join(scratch.dir, 'spool');
  for (const d of ['pcaps', 'tmp', 'metadata']) await mkdir(path.join(spool, d), { recursive: true });
  const dataDir = path.join(scratch.dir, 'data');
  await mkdir(dataDir);
  const db = openDb(path.join(dataDir, 'vaktpost.db'));
  t.teardown(() => db.close());
  let now = Date.UTC(2026, 0, 10, 12, 0, 0);
  const events: AudiologEvent[] = [];
  const audiolog = createAudioLog({
    cfg: resolveAudiologConfig(audiologSchema.parse({ rtpengine: { spoolDir: spool }, testCall: { enabled: false } }), dataDir),
    calls: {
      recording: callRecordingSchema.parse({ enabled: true, eventsPort: await freePort() }),
      sip: { address: '127.0.0.1', port: 5060, transports: ['udp'] },
    },
    db,
    clock: { now: () => now, monotonic: () => performance.now() },
    log: silentLogger(),
    event: (e) => events.push(e),
    testCall: false,
  });
  await audiolog.start();
  t.teardown(() => audiolog.stop());

  const t0 = Date.UTC(2026, 0, 10, 11, 0, 0);
  await dropRecording(spool, 'old%40x-0000000000000001', 'old@x', '4790000010', t0);
  await dropRecording(spool, 'held%40x-0000000000000002', 'held@x', '4790000011', t0 + 60_000);
  await dropRecording(spool, 'new%40x-0000000000000003', 'new@x', '4790000012', t0 + 120_000);
  await waitFor(() => audiolog.store.countRecordings() === 3, { timeoutMs: 30_000, what: 'three recordings archived by the watcher' });
  // The store is committed first and the spool tidied after it (a crash in between re-ingests
  // idempotently), so the last file leaves the spool a moment after the third row appears.
  await waitFor(async () => (await readdir(path.join(spool, 'metadata'))).length === 0, { timeoutMs: 30_000, what: 'the spool to be tidied after the commit' });
  t.same(await readdir(path.join(spool, 'metadata')), [], 'spool emptied');
  const [oldRec] = audiolog.store.recordingsByCallId('old@x');
  const [heldRec] = audiolog.store.recordingsByCallId('held@x');
  t.match(oldRec, { caller: '4790000010', status: 'complete', audioMs: 3000 });
  t.equal((await stat(path.join(dataDir, 'audiolog'))).mode & 0o777, 0o700, 'archive under <dataDir>/audiolog, owner-only');

  // Legal hold on one; then three years and a day pass for the first two.
  const held = audiolog.store.setHold(heldRec?.id ?? '', true, 'NPE-2026-1', { by: 'kari', reason: 'erstatningssak' }, now);
  t.equal(held.kind, 'hold');
  now = t0 + 3 * YEAR + 90_000; // past three years for the first two, not for the third
  const r1 = await audiolog.applyRetention();
  t.same(r1.deleted, [oldRec?.id], 'only the expired, unheld recording is deleted');
  await t.rejects(stat(audiolog.filePath(oldRec as { dir: string }, 'audio.wav')), 'its files are gone');
  t.ok(audiolog.store.recording(heldRec?.id ?? '')?.deletedAt === null, 'the held one stays');
  const del = audiolog.store.entriesOfKind('deletion', { limit: 5 });
  t.match(JSON.parse(del[0]?.bodyJson ?? '{}'), { id: oldRec?.id, reason: 'retention', callId: 'old@x' }, 'the deletion is in the chain');
  t.match(events.find((e) => e.kind === 'recording.retention')?.en, /1 recording/);

  // The CLI, on the same files.
  const cfgFile = path.join(scratch.dir, 'vaktpost.yaml');
  await writeFile(cfgFile, `box:\n  dataDir: ${dataDir}\n`);
  const out: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
  t.equal(await runAudiologCli(['verify', '-c', cfgFile], '/nonexistent', io), 0, `verify: ${out.join('')}`);
  t.match(out.join(''), /^OK: \d+ chain entries, 3 recordings/m);
  out.length = 0;
  t.equal(
    await runAudiologCli(['export', heldRec?.id ?? '', '-c', cfgFile, '--out', path.join(scratch.dir, 'x.tar')], '/nonexistent', io),
    2,
    'export without --reason refused',
  );
  t.match(out.join(''), /reason of at least/);
  out.length = 0;
  t.equal(
    await runAudiologCli(
      ['export', heldRec?.id ?? '', '-c', cfgFile, '--reason', 'NPE-2026-1 dokumentasjon', '--out', path.join(scratch.dir, 'x.tar')],
      '/nonexistent',
      io,
    ),
    0,
    out.join(''),
  );
  t.ok((await stat(path.join(scratch.dir, 'x.tar'))).size > 48_000, 'the bundle is written');
  t.match(JSON.parse(audiolog.store.entriesOfKind('access', { limit: 1 })[0]?.bodyJson ?? '{}'), {
    action: 'export',
    role: 'root',
    reason: 'NPE-2026-1 dokumentasjon',
  });
  t.equal(
    await runAudiologCli(['export', 'nonexistent-0000', '-c', cfgFile, '--reason', 'some reason here', '--out', path.join(scratch.dir, 'y.tar')], '/x', io),
    3,
    'unknown recording: exit 3',
  );

  // Flip a byte: the CLI fails and names the recording.
  const wavFile = audiolog.filePath(heldRec as { dir: string }, 'audio.wav');
  const wav = await readFile(wavFile);
  wav[200] = (wav[200] as number) ^ 0x80;
  await writeFile(wavFile, wav);
  out.length = 0;
  t.equal(await runAudiologCli(['verify', '-c', cfgFile], '/nonexistent', io), 1, 'verify exits 1');
  t.match(out.join(''), new RegExp(`${heldRec?.id}\\s+recording ${heldRec?.id}: audio\\.wav was altered`));
  const v = await verifyAudiolog({ store: audiolog.store, archiveDir: path.join(dataDir, 'audiolog'), chainOnly: true });
  t.ok(v.ok, 'the chain itself is intact (the file was changed, not the index)');
});
