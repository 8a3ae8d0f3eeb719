/**
 * Backup, restore and retention on a store of realistic size (issue #18): 100 000 signal
 * samples like the simulated box writes (39 keys), 10 000 events, 2 000 decisions with
 * their signals. Figures: the backup's time and size, the restore's time (verify + write),
 * and the store-retention run that deletes all the samples: its time and its longest
 * batch (what the supervisor's event loop waits at most).
 */
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBackup } from '../../supervisor/src/backup/backup.js';
import { restoreBackup } from '../../supervisor/src/backup/restore.js';
import { retentionSchema } from '../../supervisor/src/config/retention.js';
import { runStoreRetention } from '../../supervisor/src/jobs/storeRetention.js';
import { openDb } from '../../supervisor/src/store/db.js';

const SAMPLES = 100_000;
const emit = (name: string, value: number, unit: string, goal?: number) =>
  console.log(JSON.stringify({ name, value: Math.round(value * 1000) / 1000, unit, ...(goal !== undefined ? { goal, better: 'lower' } : {}) }));

const dir = path.join(os.tmpdir(), `vaktpost-backup-bench-${process.pid}`);
await mkdir(path.join(dir, 'data'), { recursive: true, mode: 0o700 });
try {
  const dataDir = path.join(dir, 'data');
  const db = openDb(path.join(dataDir, 'vaktpost.db'));
  const t0 = Date.now() - 60 * 86_400_000;
  const sample = db.prepare(
    `INSERT INTO signal_samples (key, subsystem, source, status, value_json, unit, observed_at, detail) VALUES (?, 'time', 'sim', 'ok', ?, 's', ?, ?)`,
  );
  const event = db.prepare(`INSERT INTO events (at, kind, severity, subsystem, message_en, message_nb) VALUES (?, 'route.changed', 'info', 'power', ?, ?)`);
  const decision = db.prepare(
    `INSERT INTO decisions (at, mode, route, previous_mode, previous_route, route_changed, reasons_json, decided_by, signals_json)
     VALUES (?, 'normal', 'local', 'normal', 'local', 1, '[]', 'policy', ?)`,
  );
  const signals = JSON.stringify(
    Array.from({ length: 39 }, (_, i) => ({ key: `k${i}`, status: 'ok', value: i, detail: 'synchronised to 192.0.2.123, reach 377' })),
  );
  db.transaction(() => {
    for (let i = 0; i < SAMPLES; i++) sample.run(`time.key${i % 39}`, String(i % 1000), t0 + i * 200, 'last reference update 0.0 s ago (fail beyond 120 s)');
    for (let i = 0; i < 10_000; i++) event.run(t0 + i * 2000, `Route changed to local (${i})`, `Ruten endret til lokal (${i})`);
    for (let i = 0; i < 2000; i++) decision.run(t0 + i * 10_000, signals);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');

  const out = path.join(dir, 'box.tar');
  const b = await createBackup({
    dataDir,
    archiveDir: path.join(dataDir, 'audiolog'),
    controlSecretFile: null,
    flowsCredentialsFile: path.join(dir, 'no-flows-home', 'flows_cred.json'),
    withAudio: true,
    out,
    box: 'bench',
    version: 'bench',
  });
  emit('backup.100k-samples.time', b.totalMs, 'ms', 10_000);
  emit('backup.100k-samples.store-copy', b.snapshotMs, 'ms');
  emit('backup.100k-samples.size', b.bytes / 1048576, 'MiB');

  const r = await restoreBackup({
    from: out,
    dataDir: path.join(dir, 'restored'),
    archiveDir: path.join(dir, 'restored', 'audiolog'),
    controlSecretFile: null,
    force: false,
  });
  emit('restore.100k-samples.time', r.totalMs, 'ms', 10_000);
  emit('restore.100k-samples.verify', r.verifyMs, 'ms');

  // Every sample is older than 30 days: the duty deletes all of them.
  const ret = await runStoreRetention({ db, cfg: retentionSchema.parse({}), outageSignals: [], now: () => Date.now() });
  const data = ret.data as { samples: number; longestBatchMs: number };
  if (data.samples !== SAMPLES) throw new Error(`retention deleted ${data.samples} samples, expected ${SAMPLES}`);
  emit('retention.100k-samples.longest-batch', data.longestBatchMs, 'ms', 100);
  db.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
