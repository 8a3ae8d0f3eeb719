/**
 * The journal (store/journal.ts) in front of a real in-memory store whose inserts are made
 * to fail with SQLITE_FULL (or a constraint) for a while: writes never throw, records wait
 * in order with provisional ids, flush writes them in order with real decision ids, the
 * buffer drops samples first, and onState fires once on failure and once on recovery.
 */
import t from 'tap';
import type { Decision } from '../../../supervisor/src/core/policy.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { isTransient, Journal, type JournalState } from '../../../supervisor/src/store/journal.js';
import { type ActionInput, type EventInput, Store } from '../../../supervisor/src/store/store.js';
import { sqliteError, sqliteFull } from './fakes.js';

type Kind = 'decision' | 'event' | 'action' | 'samples';

/** A real store whose inserts throw while `failing` says so; successful writes are logged in order. */
function faultyStore() {
  const store = new Store(openDb(':memory:'));
  const failing = new Set<Kind>();
  /** Throw this (instead of SQLITE_FULL) for a record, e.g. a constraint. */
  let poison: ((kind: Kind, arg: unknown) => Error | null) | null = null;
  const written: string[] = [];
  const wrap = <A extends unknown[], R>(kind: Kind, label: (...a: A) => string, fn: (...a: A) => R) =>
    ((...a: A): R => {
      const bad = poison?.(kind, a[0]);
      if (bad) throw bad;
      if (failing.has(kind)) throw sqliteFull();
      const r = fn(...a);
      written.push(`${kind}:${label(...a)}`);
      return r;
    }) as (...a: A) => R;
  store.insertDecision = wrap('decision', (d: Decision, _s: readonly Signal[]) => d.route, store.insertDecision.bind(store));
  store.insertEvent = wrap('event', (e: EventInput) => e.kind, store.insertEvent.bind(store));
  store.insertAction = wrap('action', (a: ActionInput) => a.detail, store.insertAction.bind(store));
  store.insertSamples = wrap('samples', (s: readonly Signal[]) => s.map((x) => x.key).join(','), store.insertSamples.bind(store));
  const failAll = () => {
    for (const k of ['decision', 'event', 'action', 'samples'] as const) failing.add(k);
  };
  return {
    store,
    failing,
    failAll,
    written,
    setPoison: (p: typeof poison) => {
      poison = p;
    },
  };
}

const decision = (route: Decision['route'], at = 1000): Decision => ({
  at,
  mode: route === 'backup' ? 'failover' : 'normal',
  route,
  previousMode: 'normal',
  previousRoute: route === 'backup' ? 'local' : 'backup',
  routeChanged: true,
  reasons: [],
  override: null,
  decidedBy: 'builtin',
});
const event = (kind: string, data?: unknown): EventInput => ({ at: 1000, kind, severity: 'info', en: kind, nb: kind, ...(data === undefined ? {} : { data }) });
const action = (detail: string, decisionId: number | null): ActionInput => ({
  at: 1000,
  decisionId,
  actuator: 'fake',
  kind: 'apply',
  target: 'backup',
  ok: true,
  detail,
});
const sample = (key: string): Signal => ({ subsystem: 'power', source: 'test', key, status: 'ok', value: 1, observedAt: 1000, ttlMs: 5000 });

function rawEvents(store: Store) {
  return store.db.prepare('SELECT id, kind, data_json FROM events ORDER BY id').all() as Array<{ id: number; kind: string; data_json: string | null }>;
}
function rawActions(store: Store) {
  return store.db.prepare('SELECT id, detail, decision_id FROM actions ORDER BY id').all() as Array<{ id: number; detail: string; decision_id: number | null }>;
}
function rawDecisions(store: Store) {
  return store.db.prepare('SELECT id, route FROM decisions ORDER BY id').all() as Array<{ id: number; route: string }>;
}

t.test('isTransient: disk full, I/O, busy and locked are transient; a constraint is not', async (t) => {
  t.ok(isTransient(sqliteFull()));
  t.ok(isTransient(sqliteError('SQLITE_IOERR_WRITE', 'disk I/O error')));
  t.ok(isTransient(sqliteError('SQLITE_BUSY', 'database is locked')));
  t.notOk(isTransient(sqliteError('SQLITE_CONSTRAINT_CHECK', 'CHECK constraint failed')));
  t.notOk(isTransient(new Error('no code')));
});

t.test('a writable store: writes go straight through with real ids, onState never fires', async (t) => {
  const f = faultyStore();
  const states: JournalState[] = [];
  const j = new Journal(f.store, { onState: (s) => states.push(s) });
  const id = j.decision(decision('backup'), [sample('power.a')]);
  t.ok(id > 0, `real id ${id}`);
  t.equal(f.store.lastDecision()?.id, id);
  j.event(event('e1', { decisionId: id }));
  j.action(action('a1', id));
  j.samples([sample('power.a')]);
  t.same(f.written, ['decision:backup', 'event:e1', 'action:a1', 'samples:power.a']);
  t.same(states, [], 'no state change');
  t.same(j.state(), { writable: true, pending: 0, dropped: { samples: 0, records: 0 }, lastError: null });
  t.equal(j.flush(), true, 'nothing to flush');
});

t.test('store full: records queue in order with provisional ids; flush writes them in order with real ids', async (t) => {
  const f = faultyStore();
  const states: JournalState[] = [];
  const j = new Journal(f.store, { onState: (s) => states.push(s) });
  j.event(event('before')); // written while the store is fine
  f.failAll();

  let d1 = 0;
  let d2 = 0;
  t.doesNotThrow(() => {
    d1 = j.decision(decision('backup', 2000), [sample('power.a')]);
  }, 'a failing write does not throw at the caller');
  t.ok(d1 < 0, `provisional id ${d1}`);
  t.equal(states.length, 1, 'onState once on failure');
  t.equal(states[0]?.writable, false);
  t.equal(states[0]?.lastError, 'database or disk is full', "the store's own words");

  const e1 = j.event(event('route.changed', { decisionId: d1, cause: 'signal' }));
  j.action(action('apply backup', d1));
  j.samples([sample('power.b')]);
  d2 = j.decision(decision('local', 3000), []);
  j.action(action('apply local', d2));
  t.ok(e1 < 0 && d2 < 0, 'provisional ids are negative');
  t.equal(new Set([d1, d2, e1]).size, 3, 'and unique');
  t.equal(states.length, 1, 'still only one onState while failing');
  t.equal(j.state().pending, 6);
  t.equal(j.state().writable, false);
  t.same(f.written, ['event:before'], 'nothing written while the store is full');

  // Still full: flush stops at the head and keeps everything.
  t.equal(j.flush(), false);
  t.equal(j.state().pending, 6);
  t.equal(states.length, 1, 'a failed flush does not raise the alarm again');

  // Only decisions still fail: an event that would succeed must not overtake the waiting decision.
  f.failing.clear();
  f.failing.add('decision');
  j.event(event('later'));
  t.same(f.written, ['event:before'], 'a later event waits behind the decision (order is kept)');
  t.equal(j.flush(), false);
  t.same(f.written, ['event:before'], 'the head still refuses; nothing behind it is written');

  f.failing.clear();
  t.equal(j.flush(), true, 'flushed');
  t.same(f.written, [
    'event:before',
    'decision:backup',
    'event:route.changed',
    'action:apply backup',
    'samples:power.b',
    'decision:local',
    'action:apply local',
    'event:later',
  ]);
  t.equal(states.length, 2, 'onState once more on recovery');
  t.same(states[1], { writable: true, pending: 0, dropped: { samples: 0, records: 0 }, lastError: 'database or disk is full' });

  const decisions = rawDecisions(f.store);
  t.same(
    decisions.map((d) => d.route),
    ['backup', 'local'],
  );
  const [real1, real2] = decisions.map((d) => d.id);
  t.equal(j.realId(d1), real1, 'realId maps the provisional id');
  t.equal(j.realId(d2), real2);
  t.equal(j.realId(real1 ?? 0), real1, 'a real id maps to itself');
  t.equal(j.realId(null), null);
  const changed = rawEvents(f.store).find((e) => e.kind === 'route.changed');
  t.same(JSON.parse(changed?.data_json ?? 'null'), { decisionId: real1, cause: 'signal' }, 'the event refers to the real decision id');
  t.same(
    rawActions(f.store).map((a) => [a.detail, a.decision_id]),
    [
      ['apply backup', real1],
      ['apply local', real2],
    ],
    'actions refer to the real decision ids',
  );

  // A reconciler that still holds the provisional id after the flush: resolved on the direct path too.
  j.action(action('verify backup', d1));
  j.event(event('verify.failed', { decisionId: d1 }));
  t.equal(rawActions(f.store).at(-1)?.decision_id, real1, 'late action with a provisional id gets the real id');
  t.same(JSON.parse(rawEvents(f.store).at(-1)?.data_json ?? 'null'), { decisionId: real1 }, 'late event too');
  t.equal(states.length, 2, 'no further state changes');
});

t.test('a second outage raises onState again (once), and recovers again (once)', async (t) => {
  const f = faultyStore();
  const states: boolean[] = [];
  const j = new Journal(f.store, { onState: (s) => states.push(s.writable) });
  for (let round = 0; round < 2; round++) {
    f.failAll();
    j.event(event(`a${round}`));
    j.event(event(`b${round}`));
    j.flush();
    f.failing.clear();
    j.flush();
    j.flush();
  }
  t.same(states, [false, true, false, true]);
  t.same(
    rawEvents(f.store).map((e) => e.kind),
    ['a0', 'b0', 'a1', 'b1'],
  );
});

t.test('bounded buffer: samples are dropped first, then the oldest records; every drop is counted', async (t) => {
  const f = faultyStore();
  const states: JournalState[] = [];
  const j = new Journal(f.store, { maxPending: 3, onState: (s) => states.push(s) });
  f.failAll();
  const d1 = j.decision(decision('backup', 1), []);
  j.samples([sample('power.s1')]);
  j.event(event('e1'));
  t.equal(j.state().pending, 3, 'full');

  const d2 = j.decision(decision('local', 2), []); // drops the sample, not the decision
  t.same(j.state().dropped, { samples: 1, records: 0 }, 'a sample went first');
  t.equal(j.state().pending, 3);

  j.samples([sample('power.s2')]); // nothing but records: the new sample itself is dropped
  t.same(j.state().dropped, { samples: 2, records: 0 }, 'a new sample is dropped rather than a record');

  j.event(event('e2')); // only records left: the oldest (d1) goes
  t.same(j.state().dropped, { samples: 2, records: 1 }, 'then the oldest record');
  t.equal(j.state().pending, 3, 'never more than maxPending');
  j.action(action('late for d1', d1)); // drops e1
  t.same(j.state().dropped, { samples: 2, records: 2 });

  f.failing.clear();
  t.equal(j.flush(), true);
  t.same(f.written, ['decision:local', 'event:e2', 'action:late for d1'], 'the newest records survive, in order');
  t.equal(j.realId(d2), rawDecisions(f.store)[0]?.id);
  t.equal(rawActions(f.store)[0]?.decision_id, null, 'an action whose decision was dropped refers to no decision');
  t.same(states.at(-1)?.dropped, { samples: 2, records: 2 }, 'the recovery reports the drops');
});

t.test('a record the store will never take (constraint) is dropped and counted; it does not block the rest', async (t) => {
  const f = faultyStore();
  const states: JournalState[] = [];
  const j = new Journal(f.store, { onState: (s) => states.push(s) });
  f.failAll();
  const d = j.decision(decision('backup'), []);
  j.event(event('poison'));
  j.event(event('after', { decisionId: d }));
  f.failing.clear();
  f.setPoison((kind, arg) =>
    kind === 'event' && (arg as EventInput).kind === 'poison' ? sqliteError('SQLITE_CONSTRAINT_CHECK', 'CHECK constraint failed: severity') : null,
  );
  t.equal(j.flush(), true, 'the queue empties');
  t.same(f.written, ['decision:backup', 'event:after'], 'the record behind the poisoned one is written');
  t.same(j.state().dropped, { samples: 0, records: 1 });
  t.equal(j.state().lastError, 'CHECK constraint failed: severity');
  t.same(
    states.map((s) => s.writable),
    [false, true],
  );
});

t.test('a transient error in the middle of a flush keeps the rest, in order, for the next flush', async (t) => {
  const f = faultyStore();
  const j = new Journal(f.store);
  f.failAll();
  j.decision(decision('backup'), []);
  j.event(event('e1'));
  j.action(action('a1', null));
  f.failing.clear();
  f.failing.add('event');
  t.equal(j.flush(), false);
  t.same(f.written, ['decision:backup'], 'written up to the refusing record');
  t.equal(j.state().pending, 2);
  f.failing.clear();
  t.equal(j.flush(), true);
  t.same(f.written, ['decision:backup', 'event:e1', 'action:a1']);
});
