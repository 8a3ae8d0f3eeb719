/**
 * Retention of the supervisor's record (store/retention.ts through the store-retention
 * duty's run) on simulated time: what is past its keeping time goes, in bounded batches
 * with the event loop getting turns in between; what evidence still needs stays — events a
 * deviation refers to, unacknowledged alarms, the route in force at the cutoff, decisions
 * a kept action refers to, and the outage signals' samples (kept as long as decisions).
 */
import t from 'tap';
import { retentionSchema } from '../../../supervisor/src/config/retention.js';
import { runStoreRetention } from '../../../supervisor/src/jobs/storeRetention.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { SimClock } from '../../helpers/simClock.js';

const DAY = 86_400_000;

t.test('store-retention deletes what is past its time and keeps what evidence needs', async (t) => {
  const clock = new SimClock(Date.UTC(2029, 5, 1));
  const db = openDb(':memory:');
  t.teardown(() => db.close());
  const ago = (days: number) => clock.now() - days * DAY;
  const sample = db.prepare(`INSERT INTO signal_samples (key, subsystem, source, status, value_json, observed_at) VALUES (?, 'power', 'sim', 'ok', '1', ?)`);
  const samples = (key: string, count: number, days: number) => {
    for (let i = 0; i < count; i++) sample.run(key, ago(days) + i);
  };
  samples('power.mains', 500, 40);
  samples('power.mains', 300, 10);
  samples('telephony.kamailio', 200, 40); // an outage signal: kept as long as decisions
  samples('telephony.kamailio', 100, 1200);
  const decision = db.prepare(
    `INSERT INTO decisions (id, at, mode, route, previous_mode, previous_route, route_changed, reasons_json, decided_by, signals_json)
     VALUES (?, ?, 'normal', 'local', 'normal', 'local', 0, '[]', 'policy', '[]')`,
  );
  decision.run(1, ago(1200));
  decision.run(2, ago(1150)); // an action still kept refers to it
  decision.run(3, ago(1100)); // the route in force at the cutoff
  decision.run(4, ago(10));
  const action = db.prepare(`INSERT INTO actions (at, decision_id, actuator, kind, ok, detail) VALUES (?, ?, 'sim', 'route', 1, '')`);
  action.run(ago(1200), 1);
  action.run(ago(10), 2);
  const event = db.prepare(`INSERT INTO events (id, at, kind, severity, message_en, message_nb) VALUES (?, ?, 'k', ?, 'en', 'nb')`);
  event.run(1, ago(1200), 'info');
  event.run(2, ago(1200), 'alarm'); // never acknowledged
  event.run(3, ago(1200), 'alarm');
  db.prepare(`INSERT INTO event_acks (event_id, at, by) VALUES (3, ?, 'kari')`).run(ago(1199));
  event.run(4, ago(1200), 'warn'); // a deviation's first event
  event.run(5, ago(1200), 'warn'); // one of a deviation's events
  event.run(6, ago(10), 'info');
  db.prepare(
    `INSERT INTO deviations (id, opened_at, opened_by, key, kind, title_en, title_nb, first_event_id, last_event_at) VALUES (1, ?, 'system', 'x', 'k', 't', 't', 4, ?)`,
  ).run(ago(1200), ago(1200));
  db.prepare('INSERT INTO deviation_events (deviation_id, event_id, at) VALUES (1, 5, ?)').run(ago(1200));

  const cfg = retentionSchema.parse({ batchRows: 100 });
  t.same([cfg.samplesDays, cfg.eventsDays, cfg.decisionsDays], [30, 1095, 1095], 'the documented defaults');
  // Counts event-loop turns while the duty runs: the batches must let others in.
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  const first = await runStoreRetention({ db, cfg, outageSignals: ['telephony.'], now: () => clock.now() });
  ticking = false;
  t.equal(first.outcome, 'ok');
  const r1 = first.data as { samples: number; events: number; decisions: number; actions: number; eventsKept: number; batches: number };
  t.match(r1, { samples: 600, events: 2, decisions: 1, actions: 1, eventsKept: 3 }, 'the rows past their time');
  t.ok(r1.batches >= 6, `500 + 100 samples in batches of 100 (${r1.batches} batches)`);
  t.ok(turns >= r1.batches - 1, `the event loop turned between batches (${turns} turns, ${r1.batches} batches)`);
  t.match(first.detail, /600 signal sample\(s\) older than 30 days .*2 event\(s\) older than 1095 days \(3 kept/);

  const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  t.equal(count(`SELECT count(*) AS n FROM signal_samples WHERE key = 'power.mains'`), 300, 'the last 30 days of samples stay');
  t.equal(count(`SELECT count(*) AS n FROM signal_samples WHERE key = 'telephony.kamailio'`), 200, 'outage samples stay 1095 days');
  t.same(
    (db.prepare('SELECT id FROM decisions ORDER BY id').all() as Array<{ id: number }>).map((x) => x.id),
    [2, 3, 4],
    'decision 2 (a kept action refers to it) and 3 (the route at the cutoff) stay',
  );
  t.same(
    (db.prepare('SELECT id FROM events ORDER BY id').all() as Array<{ id: number }>).map((x) => x.id),
    [2, 4, 5, 6],
    "the unacknowledged alarm and the deviation's events stay",
  );
  t.equal(count('SELECT count(*) AS n FROM event_acks'), 0, "the deleted alarm's acknowledgement went with it");

  // 25 simulated days later the samples of 10 days ago are 35 days old.
  await clock.advance(25 * DAY);
  const second = await runStoreRetention({ db, cfg, outageSignals: ['telephony.'], now: () => clock.now() });
  t.match(second.data, { samples: 300, events: 0, decisions: 0, actions: 0 });
  t.equal(count('SELECT count(*) AS n FROM signal_samples'), 200);
});

t.test('retention config: strict, with bounds', async (t) => {
  t.throws(() => retentionSchema.parse({ samplesDay: 3 }), /samplesDay/, 'an unknown key is refused');
  t.throws(() => retentionSchema.parse({ samplesDays: 1 }), 'at least two days (the dry-run replays one)');
  t.throws(() => retentionSchema.parse({ schedule: 'daily' }), /cron/);
});
