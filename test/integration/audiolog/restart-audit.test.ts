/**
 * The call audit across a supervisor restart (the chaos kill test): Kamailio's
 * call events sent while the supervisor was down are lost (UDP) and the
 * recordings of calls that ended meanwhile wait in the spool. After the restart
 * no deadline is settled before the spool found at start-up is ingested, no
 * call whose recording is in the spool is "without recording", and a call whose
 * end event was lost is closed from the end rtpengine wrote — not left "active"
 * to become a false "call lost" warning hours later.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { type AudiologEvent, createAudioLog } from '../../../supervisor/src/audiolog/service.js';
import { audiologSchema, resolveAudiologConfig } from '../../../supervisor/src/config/audiolog.js';
import { callRecordingSchema } from '../../../supervisor/src/config/calls.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import { AudiologStore } from '../../../supervisor/src/store/audiologStore.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';
import { metadataText, pcapFile, twoPartyCall } from '../../unit/audiolog/pcapBuilder.js';

/** A finished rtpengine recording of `ms` of two-sided audio, dropped the way rtpengine does. */
async function dropRecording(spool: string, callId: string, startMs: number, ms: number): Promise<string> {
  const name = `${encodeURIComponent(callId)}-${'0'.repeat(15)}1`;
  const pkts = twoPartyCall(startMs, ms / 20);
  await writeFile(path.join(spool, 'pcaps', `${name}.pcap`), pcapFile(pkts));
  const hex = (s: string) => Buffer.from(s).toString('hex');
  const meta = metadataText({
    offerPort: 30000,
    answerPort: 30014,
    startMs,
    endMs: startMs + ms,
    metadata: `vaktpost=1|callid=${hex(callId)}|caller=${hex('4790000077')}|called=${hex('116117')}`,
  }).replace(/^.*\n/, `${path.join(spool, 'pcaps', `${name}.pcap`)}\n`);
  await writeFile(path.join(spool, 'tmp', `rtpengine-meta-${name}.tmp`), meta);
  await rename(path.join(spool, 'tmp', `rtpengine-meta-${name}.tmp`), path.join(spool, 'metadata', `rtpengine-meta-${name}.txt`));
  return `rtpengine-meta-${name}.txt`;
}

t.test('after a restart: recordings in the spool first, verdicts after; lost end events closed from the recording', async (t) => {
  const scratch = await scratchDir('restart-audit');
  t.teardown(() => scratch.cleanup());
  const spool = path.join(scratch.dir, 'spool');
  for (const d of ['pcaps', 'tmp', 'metadata']) await mkdir(path.join(spool, d), { recursive: true });
  const dataDir = path.join(scratch.dir, 'data');
  await mkdir(dataDir);
  const db = openDb(path.join(dataDir, 'vaktpost.db'));
  t.teardown(() => db.close());

  // What the killed supervisor left: Kamailio's word on two calls — one seen ending, one not.
  const t0 = Date.now() - 120_000;
  const before = new AudiologStore(db);
  for (const callId of ['ended@x', 'unseen@x'])
    before.callConnected({ callId, connectedAt: t0, caller: '4790000077', called: '116117', route: 'local', centre: null, offered: true, test: false });
  before.callEnded('ended@x', t0 + 3000);
  // Down for two minutes; both recordings wait in the spool (unseen@x ended at t0 + 4 s, its end event lost).
  await dropRecording(spool, 'ended@x', t0, 3000);
  await dropRecording(spool, 'unseen@x', t0, 4000);

  const events: AudiologEvent[] = [];
  const audiolog = createAudioLog({
    cfg: resolveAudiologConfig(audiologSchema.parse({ rtpengine: { spoolDir: spool }, testCall: { enabled: false } }), dataDir),
    calls: {
      recording: callRecordingSchema.parse({ enabled: true, eventsPort: await freePort() }),
      sip: { address: '127.0.0.1', port: 5060, transports: ['udp'] },
    },
    db,
    clock: { now: () => Date.now(), monotonic: () => performance.now() },
    log: silentLogger(),
    event: (e) => events.push(e),
    testCall: false,
  });
  await audiolog.start();
  t.teardown(() => audiolog.stop());
  // The monitor's first round comes at once — before the ingest has archived anything.
  t.notOk(audiolog.caughtUp, 'the spool found at start-up is still being ingested');
  audiolog.audit.tick();
  t.equal(audiolog.store.call('ended@x')?.state, 'ended', 'no verdict yet: its recording is in the spool (the old grace is long past)');
  await waitFor(() => audiolog.caughtUp, { timeoutMs: 60_000, what: 'the start-up spool to be ingested' });
  audiolog.audit.tick();
  await waitFor(() => audiolog.store.call('unseen@x')?.state !== 'active', { timeoutMs: 10_000, what: 'the call with the lost end event to be closed' });
  t.match(audiolog.store.call('ended@x'), { state: 'recorded' });
  t.match(audiolog.store.call('unseen@x'), { state: 'recorded', endedAt: t0 + 4000, detail: /rtpengine's end/ });
  t.same(
    events.filter((e) => e.severity !== 'info').map((e) => e.kind),
    [],
    'no alarm, no warning',
  );
  t.equal(audiolog.store.entriesOfKind('unrecorded', { limit: 5 }).length, 0, 'no "unrecorded" entry in the chain');
});
