/**
 * Issue #17, item 6, for boxes that ran an earlier version: those copied every
 * listening reason into the recording.access events, which every role reads.
 * The store's migration takes them out on upgrade. The attack: an operator
 * reading the event log of an upgraded box finds the reasons of past accesses.
 * A store at the previous schema version, with events exactly as the old code
 * wrote them, is migrated by the real `migrate`.
 */
import Database from 'better-sqlite3';
import t from 'tap';
import { migrate } from '../../supervisor/src/store/db.js';
import { MIGRATIONS } from '../../supervisor/src/store/migrations.js';

interface EventRow {
  kind: string;
  message_en: string;
  message_nb: string;
  actor: string | null;
  data_json: string | null;
}

t.test('reasons earlier versions put into recording.access events are gone after the upgrade', async (t) => {
  const db = new Database(':memory:');
  t.teardown(() => db.close());
  // The store as the last version before this migration left it.
  const stripReasons = MIGRATIONS.findIndex((sql) => sql.includes("kind = 'recording.access'"));
  t.ok(stripReasons > 0, 'the migration that strips reasons exists');
  for (const sql of MIGRATIONS.slice(0, stripReasons)) db.exec(sql);
  db.pragma(`user_version = ${stripReasons}`);
  const insert = db.prepare('INSERT INTO events (at, kind, severity, subsystem, message_en, message_nb, actor, data_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
  const reason = 'Klagesak 2026-114: datteren klager på vurderingen';
  // As the old AudiologAccess.log() wrote them (listen, list, export by the CLI user).
  insert.run(
    1,
    'recording.access',
    'info',
    'recording',
    `kari (admin) listened to recording 20261122T024300Z-e54be67a6ebf: ${reason}`,
    `kari (admin) lyttet til opptak 20261122T024300Z-e54be67a6ebf: ${reason}`,
    'kari',
    JSON.stringify({ action: 'listen', recordings: ['20261122T024300Z-e54be67a6ebf'], reason, chainSeq: 12 }),
  );
  insert.run(
    2,
    'recording.access',
    'info',
    'recording',
    'kari (admin) listed the recording list: (no reason given)',
    'kari (admin) listet opptakslisten: (no reason given)',
    'kari',
    JSON.stringify({ action: 'list', recordings: [], reason: '(no reason given)', chainSeq: 13 }),
  );
  insert.run(
    3,
    'recording.access',
    'info',
    'recording',
    `cli:root (root) exported 2 recordings: ${reason}`,
    `cli:root (root) eksporterte 2 opptak: ${reason}`,
    'cli:root',
    JSON.stringify({ action: 'export', recordings: ['a', 'b'], reason, chainSeq: 14 }),
  );
  // Another kind whose text has a colon: not touched.
  insert.run(4, 'override.set', 'info', null, 'Manual route: backup (kari: maintenance)', 'Manuell rute: backup (kari: vedlikehold)', 'kari', null);

  migrate(db);

  const rows = db.prepare('SELECT kind, message_en, message_nb, actor, data_json FROM events ORDER BY at').all() as EventRow[];
  t.notMatch(JSON.stringify(rows), 'Klagesak', 'no reason text is left in any event');
  t.notMatch(JSON.stringify(rows), 'no reason given');
  t.same(
    rows.slice(0, 3).map((r) => r.message_en),
    [
      'kari (admin) listened to recording 20261122T024300Z-e54be67a6ebf (reason in access record #12)',
      'kari (admin) listed the recording list (reason in access record #13)',
      'cli:root (root) exported 2 recordings (reason in access record #14)',
    ],
    'who, what and which access entry remain (English)',
  );
  t.equal(
    rows[0]?.message_nb,
    'kari (admin) lyttet til opptak 20261122T024300Z-e54be67a6ebf (begrunnelsen står i tilgangsloggen, oppføring #12)',
    'and in Norwegian',
  );
  t.same(
    JSON.parse(rows[0]?.data_json ?? '{}'),
    { action: 'listen', recordings: ['20261122T024300Z-e54be67a6ebf'], chainSeq: 12 },
    'the data keeps all but the reason',
  );
  t.equal(rows[3]?.message_en, 'Manual route: backup (kari: maintenance)', 'other events are untouched');
  t.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length, 'the store is at the new version');
});
