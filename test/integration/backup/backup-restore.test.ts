/**
 * Backup, restore, downgrade and retention through the real CLI and supervisor processes:
 *   - `vaktpost backup --with-audio` beside a running supervisor (a user added, events, a
 *     recording in the audio log), 0600, with a manifest;
 *   - `vaktpost restore` into a fresh data dir; a supervisor started there logs the same
 *     user in with the same password, has the same events, and `audiolog verify` passes;
 *   - refused: a backup with one byte changed (naming the file, nothing written), a data
 *     dir that is not empty, a store in use (even with --force), a store written by a newer
 *     version (`run`, `check-config` and `status`: exit 78, naming both versions);
 *   - the store-retention duty runs on request and is recorded with what it removed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { createAudioLog } from '../../../supervisor/src/audiolog/service.js';
import { audiologSchema, resolveAudiologConfig } from '../../../supervisor/src/config/audiolog.js';
import { callRecordingSchema } from '../../../supervisor/src/config/calls.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { CODE_SCHEMA_VERSION } from '../../../supervisor/src/store/schemaVersion.js';
import { startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';
import { metadataText, pcapFile, twoPartyCall } from '../../unit/audiolog/pcapBuilder.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const DAY = 86_400_000;

interface Result {
  code: number | null;
  out: string;
  err: string;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  const c: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => c.once('close', (code) => resolve({ code, out, err })));
}

/** One finished call in rtpengine's spool, archived by the audio log into `dataDir` (as the supervisor's would). */
async function recordOneCall(dataDir: string, spool: string): Promise<void> {
  for (const d of ['pcaps', 'tmp', 'metadata']) await mkdir(path.join(spool, d), { recursive: true });
  const db = openDb(path.join(dataDir, 'vaktpost.db'));
  const audiolog = createAudioLog({
    cfg: resolveAudiologConfig(audiologSchema.parse({ rtpengine: { spoolDir: spool }, testCall: { enabled: false } }), dataDir),
    calls: {
      recording: callRecordingSchema.parse({ enabled: true, eventsPort: await freePort() }),
      sip: { address: '127.0.0.1', port: 5060, transports: ['udp'] },
    },
    db,
    clock: { now: Date.now, monotonic: () => performance.now() },
    log: silentLogger(),
    event: () => {},
    testCall: false,
  });
  await audiolog.start();
  try {
    const start = Date.now() - 60_000;
    const pkts = twoPartyCall(start, 100);
    const name = 'call%40x-0000000000000001';
    await writeFile(path.join(spool, 'pcaps', `${name}.pcap`), pcapFile(pkts));
    const hex = (s: string) => Buffer.from(s).toString('hex');
    const meta = metadataText({
      offerPort: 30000,
      answerPort: 30014,
      startMs: start,
      endMs: start + 2000,
      metadata: `vaktpost=1|callid=${hex('call@x')}|caller=${hex('4790000010')}|called=${hex('116117')}`,
    }).replace(/^.*\n/, `${path.join(spool, 'pcaps', `${name}.pcap`)}\n`);
    await writeFile(path.join(spool, 'tmp', 'm.tmp'), meta);
    await rename(path.join(spool, 'tmp', 'm.tmp'), path.join(spool, 'metadata', `rtpengine-meta-${name}.txt`));
    await waitFor(() => audiolog.store.countRecordings() === 1, { timeoutMs: 30_000, what: 'the call archived' });
  } finally {
    await audiolog.stop();
    db.close();
  }
}

type EventRow = { id: number; kind: string; message_en: string };
const eventsIn = (dbFile: string, maxId = Number.MAX_SAFE_INTEGER): EventRow[] => {
  const db = openDb(dbFile);
  try {
    return db.prepare('SELECT id, kind, message_en FROM events WHERE id <= ? ORDER BY id').all(maxId) as EventRow[];
  } finally {
    db.close();
  }
};

t.test('backup while running, restore onto a fresh box, and what is refused', async (t) => {
  const { dir, cleanup } = await scratchDir('backup');
  t.teardown(cleanup);
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  await mkdir(path.join(a, 'data'), { recursive: true, mode: 0o700 });
  await mkdir(b);
  const cfgA = await writeSimConfig(a);
  const cfgB = await writeSimConfig(b);
  await recordOneCall(path.join(a, 'data'), path.join(dir, 'spool'));
  // Samples from 40 days ago: past the default 30 days, for the store-retention duty.
  {
    const db = openDb(path.join(a, 'data', 'vaktpost.db'));
    const ins = db.prepare(`INSERT INTO signal_samples (key, subsystem, source, status, observed_at) VALUES ('power.mains', 'power', 'sim', 'ok', ?)`);
    for (let i = 0; i < 50; i++) ins.run(Date.now() - 40 * DAY + i);
    db.close();
  }

  // Node-RED's node credentials, in the flows user's home beside the data dir.
  await mkdir(path.join(a, 'data-flows', 'node-red'), { recursive: true });
  writeFileSync(path.join(a, 'data-flows', 'node-red', 'flows_cred.json'), '{"$":"encrypted-node-credentials"}\n');

  const supA = await startSupervisor(cfgA.file, cfgA.port);
  t.teardown(() => supA.kill('SIGKILL'));
  const add = await cli(['user', 'add', 'kari', '--role', 'technician', '-c', cfgA.file], { VAKTPOST_PASSWORD: 'kari-sitt-passord-1' });
  t.equal(add.code, 0, `user add: ${add.err}`);

  await t.test('the store-retention duty runs and is recorded', async (t) => {
    const { status, json } = await supA.api<{ run: { duty: string; outcome: string; detail: string } }>('POST', '/api/duties/store-retention/run');
    t.equal(status, 200, JSON.stringify(json));
    t.match(json.run, { duty: 'store-retention', outcome: 'ok', data: { samples: 50 } }, 'the 50 old samples removed, and said so');
    t.match(json.run.detail, /^50 signal sample\(s\) older than 30 days/);
    const duties = await supA.api<{ duties: Array<{ name: string; lastRun: { outcome: string; trigger: string } | null }> }>('GET', '/api/duties');
    t.match(
      duties.json.duties.find((d) => d.name === 'store-retention'),
      { lastRun: { outcome: 'ok', trigger: 'manual' } },
      'in the duty log',
    );
  });

  const tarFile = path.join(dir, 'box.tar');
  const backup = await cli(['backup', '-c', cfgA.file, '--to', tarFile, '--with-audio']);
  t.equal(backup.code, 0, `backup while running: ${backup.err}`);
  t.match(backup.out, /backup written: .*box\.tar .*1 recording/);
  t.equal(statSync(tarFile).mode & 0o777, 0o600, 'the backup is 0600');
  t.notOk(existsSync(`${tarFile}.partial-${process.pid}`), 'no temporary file left');
  const tarBytes = readFileSync(tarFile);
  const manifest = JSON.parse(tarBytes.subarray(512, 512 + Number.parseInt(tarBytes.subarray(124, 135).toString(), 8)).toString()) as {
    schemaVersion: number;
    files: Array<{ path: string; sha256: string }>;
  };
  t.equal(manifest.schemaVersion, CODE_SCHEMA_VERSION);
  const paths = manifest.files.map((f) => f.path);
  for (const p of ['data/vaktpost.db', 'data/cli.token', 'data/initial-admin-password']) t.ok(paths.includes(p), `the backup holds ${p}`);
  t.ok(
    paths.some((p) => /^audio\/\d{4}\/\d\d\/\d\d\/[^/]+\/audio\.wav$/.test(p)),
    'and the recording',
  );
  t.notOk(
    paths.some((p) => /vaktpost\.db-(wal|shm)$/.test(p)),
    'not the live store files',
  );

  // A backup with one byte changed (the first byte of the CLI token's content).
  const bad = Buffer.from(tarBytes);
  const at = bad.indexOf('data/cli.token\0');
  t.ok(at > 0);
  bad[at + 512] = (bad[at + 512] as number) ^ 1;
  const badFile = path.join(dir, 'bad.tar');
  writeFileSync(badFile, bad);
  // Independent refusals, side by side (each is a CLI start-up of a second or more).
  const [again, busy, tampered] = await Promise.all([
    cli(['backup', '-c', cfgA.file, '--to', tarFile]),
    cli(['restore', '-c', cfgA.file, '--from', tarFile, '--force']),
    cli(['restore', '-c', cfgB.file, '--from', badFile]),
  ]);
  t.equal(again.code, 73, 'an existing backup is not overwritten');
  t.equal(busy.code, 65, 'never onto a store in use, even with --force');
  t.match(busy.err, /open in another process .*stop it first/i);
  t.equal(tampered.code, 65, 'a tampered backup is refused');
  t.match(tampered.err, /failed its checksums — nothing was restored/);
  t.match(tampered.err, /data\/cli\.token: SHA-256 /, 'naming the file');
  t.notOk(existsSync(path.join(b, 'data')), 'nothing was written');

  const restore = await cli(['restore', '-c', cfgB.file, '--from', tarFile]);
  t.equal(restore.code, 0, `restore: ${restore.err}`);
  t.match(restore.out, /restored \d+ files/);
  const dataB = path.join(b, 'data');
  t.equal(statSync(dataB).mode & 0o777, 0o700, 'data dir 0700');
  t.equal(statSync(path.join(dataB, 'vaktpost.db')).mode & 0o777, 0o600, 'store 0600');
  t.equal(
    readFileSync(path.join(dataB, 'flows', 'node-red', 'flows_cred.json'), 'utf8'),
    '{"$":"encrypted-node-credentials"}\n',
    "Node-RED's node credentials are where the supervisor hands them to the flows user's home",
  );
  const restoredEvents = eventsIn(path.join(dataB, 'vaktpost.db'));
  await supA.kill();
  const lastId = restoredEvents[restoredEvents.length - 1]?.id ?? 0;
  t.ok(
    restoredEvents.some((e) => /kari/.test(e.message_en)),
    'the user creation is among the restored events',
  );
  t.same(restoredEvents, eventsIn(path.join(a, 'data', 'vaktpost.db'), lastId), 'the same events as the original up to the backup');

  const [onto, supB] = await Promise.all([cli(['restore', '-c', cfgB.file, '--from', tarFile]), startSupervisor(cfgB.file, cfgB.port)]);
  t.equal(onto.code, 65, 'restore onto a data dir that is not empty is refused');
  t.match(onto.err, /is not empty .*--force/);

  t.teardown(() => supB.kill('SIGKILL'));
  t.notMatch(supB.output(), /First start: an admin account was created/, 'no new admin: the accounts came back');
  const login = await fetch(`${supB.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'kari', password: 'kari-sitt-passord-1' }),
  });
  t.equal(login.status, 200, 'kari logs in on the restored box with her password');
  const ev = await supB.api<{ events: Array<{ id: number; kind: string }> }>('GET', '/api/events?limit=1000');
  for (const e of restoredEvents)
    t.ok(
      ev.json.events.some((x) => x.id === e.id && x.kind === e.kind),
      `event ${e.id} (${e.kind}) is there`,
    );
  const verify = await cli(['audiolog', 'verify', '-c', cfgB.file]);
  t.equal(verify.code, 0, `audiolog verify on the restored box: ${verify.out}${verify.err}`);
  t.match(verify.out, /^OK: \d+ chain entries, 1 recordings/m);
  await supB.kill();

  // Stopped: --force replaces the data dir, keeping what was there.
  const forced = await cli(['restore', '-c', cfgB.file, '--from', tarFile, '--force']);
  t.equal(forced.code, 0, `restore --force onto a stopped box: ${forced.err}`);
  const aside = /kept in (\S+)/.exec(forced.out)?.[1] ?? '';
  t.match(aside, /\/data\/\.replaced-\d{8}T\d{6}Z$/, 'the old data moved aside inside the data dir');
  t.ok(existsSync(path.join(aside, 'vaktpost.db')), 'with its store');
  t.equal(statSync(aside).mode & 0o777, 0o700);

  await t.test('a store written by a newer version is refused, naming both versions', async (t) => {
    const db = openDb(path.join(dataB, 'vaktpost.db'));
    db.pragma(`user_version = ${CODE_SCHEMA_VERSION + 1}`);
    db.close();
    const want = new RegExp(
      `schema version ${CODE_SCHEMA_VERSION + 1}, newer than this Vaktpost understands \\(${CODE_SCHEMA_VERSION}\\).*Install that newer version again, or restore a backup`,
    );
    const [run, check, status] = await Promise.all([cli(['run', '-c', cfgB.file]), cli(['check-config', cfgB.file]), cli(['status', '-c', cfgB.file])]);
    t.equal(run.code, 78, `run: EX_CONFIG (${run.err})`);
    t.match(run.err, want);
    t.match(run.err, /Lageret i .* har skjemaversjon/, 'in Norwegian too');
    t.equal(check.code, 78, 'check-config says the same');
    t.match(check.err, want);
    t.equal(status.code, 78, 'and status (which reads the store when the supervisor is down)');
    t.match(status.err, want);
  });
});
