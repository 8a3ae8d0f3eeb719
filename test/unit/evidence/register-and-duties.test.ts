/**
 * The deviations register and the duty log against a real (in-memory) SQLite
 * store with the real migrations; the clock is a variable so "the box was off
 * for three days" takes no time.
 */
import t from 'tap';
import { localTime } from '../../../supervisor/src/core/evidence.js';
import { DeviationRegister } from '../../../supervisor/src/evidence/deviations.js';
import { Duties } from '../../../supervisor/src/jobs/duties.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { EvidenceStore } from '../../../supervisor/src/store/evidenceStore.js';
import { type EventInput, Store } from '../../../supervisor/src/store/store.js';

const TZ = 'Europe/Oslo';

function setup() {
  const db = openDb(':memory:');
  const store = new Store(db);
  const ev = new EvidenceStore(db);
  let now = localTime(TZ, 2025, 5, 12, 9, 0);
  const recorded: Array<EventInput & { id: number }> = [];
  const record = (e: Omit<EventInput, 'at'> & { at?: number }) => {
    const full = { ...e, at: e.at ?? now };
    recorded.push({ ...full, id: store.insertEvent(full) });
  };
  return {
    db,
    store,
    ev,
    recorded,
    record,
    now: () => now,
    set: (t: number) => {
      now = t;
    },
    /** Record an event like Supervisor.event does and return it with its id. */
    event(e: Omit<EventInput, 'at'>) {
      record(e);
      return recorded[recorded.length - 1] as EventInput & { id: number };
    },
  };
}

t.test('faults open deviations; repeats join the open one; ack and close record who and when', async (t) => {
  const s = setup();
  t.teardown(() => s.db.close());
  const reg = new DeviationRegister({ store: s.ev, rules: { ignoreKinds: ['drill.step'], alsoKinds: ['duty.missed'] }, now: s.now, record: s.record });
  const decision = s.store.insertDecision(
    {
      at: s.now(),
      mode: 'failover',
      route: 'backup',
      previousMode: 'normal',
      previousRoute: 'local',
      routeChanged: true,
      reasons: [],
      override: null,
      decidedBy: 'builtin',
    },
    [],
  );
  const opened = reg.onEvent(
    s.event({ kind: 'route.changed', severity: 'alarm', en: 'Calls now go to backup', nb: 'Anrop går nå til reservesentral', data: { decisionId: decision } }),
  );
  t.match(opened, { id: 1, kind: 'route.changed', state: 'open', occurrences: 1, titleEn: 'Calls now go to backup', openedBy: 'system' });
  t.ok(
    s.recorded.some((e) => e.kind === 'deviation.opened'),
    'opening is itself recorded',
  );
  t.equal(reg.onEvent(s.event({ kind: 'drill.step', severity: 'alarm', en: 'x', nb: 'x' })), null, 'ignored kind');
  t.equal(reg.onEvent(s.event({ kind: 'deviation.opened', severity: 'info', en: 'x', nb: 'x' })), null, 'info events never open one');
  const back = s.store.insertDecision(
    {
      at: s.now(),
      mode: 'normal',
      route: 'local',
      previousMode: 'recovering',
      previousRoute: 'backup',
      routeChanged: true,
      reasons: [],
      override: null,
      decidedBy: 'builtin',
    },
    [],
  );
  const joined = reg.onEvent(s.event({ kind: 'route.changed', severity: 'alarm', en: 'Calls now go to local', nb: 'lokal', data: { decisionId: back } }));
  t.match(joined, { id: 1, occurrences: 2 }, 'the failback joins the open failover deviation');
  const v1 = reg.onEvent(
    s.event({ kind: 'verify.failed', severity: 'alarm', en: 'backup did not answer', nb: 'reserve svarte ikke', data: { target: 'backup' } }),
  );
  t.match(v1, { id: 2, key: 'verify.failed:backup' });
  t.equal(s.ev.deviationEventIds(1).length, 2, 'both route events linked');

  s.set(s.now() + 60_000);
  const ack = reg.acknowledge(1, 'tekniker1', 'ser på det');
  t.match(ack, { ok: true, deviation: { state: 'acknowledged', ack: { by: 'tekniker1', comment: 'ser på det', at: s.now() } } });
  t.match(reg.acknowledge(1, 'tekniker2', null), { ok: false, status: 409, error: /already acknowledged by tekniker1/ });
  s.set(s.now() + 60_000);
  const closed = reg.close(1, 'tekniker2', 'Strømbrudd hos sentralen, meldt til kommunen');
  t.match(closed, { ok: true, deviation: { state: 'closed', closed: { by: 'tekniker2', at: s.now() }, ack: { by: 'tekniker1' } } });
  t.match(reg.close(1, 'x', 'again'), { ok: false, status: 409 });
  t.match(reg.close(99, 'x', 'nope'), { ok: false, status: 404 });
  const closeWithoutAck = reg.close(2, 'tekniker2', 'fixed');
  t.match(closeWithoutAck, { ok: true, deviation: { ack: { by: 'tekniker2', comment: null } } }, 'closing acknowledges too');

  const again = reg.onEvent(s.event({ kind: 'route.changed', severity: 'alarm', en: 'Calls now go to backup', nb: 'reserve', data: { decisionId: decision } }));
  t.match(again, { id: 3, occurrences: 1 }, 'a new fault after closing opens a new deviation');
  t.same(
    s.ev.deviations({ state: 'closed' }).map((d) => d.id),
    [2, 1],
  );
  t.equal(s.ev.countOpenDeviations(), 1);
  const manual = reg.openManual('tekniker1', 'Nettverkskabel røket', 'wan');
  t.match(manual, { kind: 'manual', openedBy: 'tekniker1', subsystem: 'wan' });
  t.ok(
    s.recorded.filter((e) => e.kind === 'deviation.closed').every((e) => e.actor),
    'closing is recorded with the actor',
  );
});

t.test('duties: runs recorded; slots missed while off are found once, logged and caught up', async (t) => {
  const s = setup();
  t.teardown(() => s.db.close());
  const ran: Array<{ trigger: string; scheduledFor: number | null }> = [];
  const make = () => {
    const d = new Duties({ store: s.ev, tz: TZ, now: s.now, graceMs: 60_000, lookbackMs: 35 * 86_400_000, missedCheckMs: 3_600_000, record: s.record });
    d.add({
      name: 'daily-summary',
      schedule: '5 0 * * *',
      catchUp: 'each',
      run: async (c) => {
        ran.push(c);
        return { outcome: 'ok', detail: 'done' };
      },
    });
    d.add({ name: 'drill', schedule: '30 10 * * *', catchUp: 'none' });
    return d;
  };
  // First start (Monday 09:00): nothing is missed on a fresh box.
  const first = make();
  t.same(await first.start(), [], 'a fresh box has missed nothing');
  // Monday's drill ran and was recorded; Tuesday 00:05 the summary ran.
  first.recordRun('drill', {
    trigger: 'schedule',
    scheduledFor: localTime(TZ, 2025, 5, 12, 10, 30),
    startedAt: localTime(TZ, 2025, 5, 12, 10, 30),
    finishedAt: localTime(TZ, 2025, 5, 12, 10, 31),
    outcome: 'passed',
    detail: 'ok',
  });
  s.set(localTime(TZ, 2025, 5, 13, 0, 5));
  await first.runNow('daily-summary', 'schedule', localTime(TZ, 2025, 5, 13, 0, 5));
  await first.stop();

  // Off from Tuesday 00:06 until Thursday 12:00.
  s.set(localTime(TZ, 2025, 5, 15, 12, 0));
  const ev0 = s.recorded.length;
  const second = make();
  const missed = await second.start();
  await second.idle();
  t.same(
    missed.map((m) => [m.duty, new Date(m.scheduledFor).toISOString()]),
    [
      ['daily-summary', '2025-05-13T22:05:00.000Z'],
      ['daily-summary', '2025-05-14T22:05:00.000Z'],
      ['drill', '2025-05-13T08:30:00.000Z'],
      ['drill', '2025-05-14T08:30:00.000Z'],
      ['drill', '2025-05-15T08:30:00.000Z'],
    ],
    'exactly the slots that passed while off',
  );
  const events = s.recorded.slice(ev0).filter((e) => e.kind === 'duty.missed');
  t.equal(events.length, 2, 'one duty.missed event per duty');
  t.match(events[0]?.en, /daily-summary did not run 2× .*Catching up now/);
  t.match(events[1]?.en, /drill did not run 3×/);
  t.notMatch(events[1]?.en, /Catching up/, 'a drill is never run as a catch-up');
  t.same(
    ran.slice(1).map((r) => [r.trigger, new Date(r.scheduledFor as number).toISOString()]),
    [
      ['catch-up', '2025-05-13T22:05:00.000Z'],
      ['catch-up', '2025-05-14T22:05:00.000Z'],
    ],
    'each missed summary caught up for its own day',
  );
  const log = s.ev.dutyRuns({ duty: 'daily-summary' });
  t.same(
    log.map((r) => [r.trigger, r.outcome]),
    [
      ['catch-up', 'ok'],
      ['detected', 'missed'],
      ['catch-up', 'ok'],
      ['detected', 'missed'],
      ['schedule', 'ok'],
    ],
    'the log shows the miss and the catch-up per slot',
  );
  t.same(await second.checkMissed(), [], 'checking again finds nothing new');
  s.set(localTime(TZ, 2025, 5, 15, 12, 30));
  t.same(await second.checkMissed(), [], 'still nothing (no slot passed)');
  await second.stop();
  const st = second.status();
  t.equal(st.length, 2);
  t.equal(st[0]?.lastRun?.trigger, 'catch-up');
  t.ok((st[0]?.nextRun ?? 0) > 0, 'node-cron tells the next run');

  // A changed schedule starts counting afresh (old slots of the old expression are not "missed").
  const third = new Duties({ store: s.ev, tz: TZ, now: s.now, graceMs: 60_000, lookbackMs: 35 * 86_400_000, missedCheckMs: 3_600_000, record: s.record });
  third.add({ name: 'drill', schedule: '0 11 * * *', catchUp: 'none' });
  t.same(await third.start(), [], 'new expression: no past misses');
  await third.stop();
});

t.test('a failing duty is logged as failed and raises an alarm', async (t) => {
  const s = setup();
  t.teardown(() => s.db.close());
  const d = new Duties({ store: s.ev, tz: TZ, now: s.now, graceMs: 0, lookbackMs: 86_400_000, missedCheckMs: 3_600_000, record: s.record });
  d.add({
    name: 'monthly-report',
    schedule: '15 0 1 * *',
    catchUp: 'each',
    run: async () => {
      throw new Error('disk full writing /var/lib/vaktpost/reports');
    },
  });
  const r = await d.runNow('monthly-report');
  t.match(r, { outcome: 'failed', detail: /disk full/, trigger: 'manual' });
  t.match(s.recorded.at(-1), { kind: 'duty.failed', severity: 'alarm' });
  await t.rejects(d.runNow('nope'), /no duty "nope"/);
  t.throws(() => d.add({ name: 'x', schedule: 'every day', catchUp: 'none' }), /not a valid cron/);
});
