/**
 * Deletes the supervisor's record past its keeping time (config/retention.ts says how long
 * and why), in bounded batches: each batch is one transaction of at most `batchRows` rows,
 * found through an index (never a table scan), and the event loop gets a turn between
 * batches — the supervisor keeps deciding while a year of samples goes.
 *
 * What is never deleted, whatever its age:
 *   - an event a deviation refers to (its first event, or one of its events): the register
 *     removes closed deviations itself, and their events become deletable then;
 *   - an alarm nobody has acknowledged (deleting it would acknowledge it silently);
 *   - the newest decision before the cutoff (the route in force at the oldest kept moment)
 *     and any decision an action still kept refers to;
 *   - samples of the outage signals (evidence.availability.outageSignals) younger than the
 *     decisions' cutoff: the availability figures are computed from them.
 * An event's acknowledgement goes with the event. The database file does not shrink: SQLite
 * reuses the freed pages for new rows, so it stops growing.
 */
import type { Db } from './db.js';

export interface RetentionCutoffs {
  /** Delete samples observed before this (ms), except outage signals'. */
  samplesBefore: number;
  /** Delete events before this. */
  eventsBefore: number;
  /** Delete decisions and actions (and outage signals' samples) before this. */
  decisionsBefore: number;
  /** Keys, or prefixes ending in ".", whose samples follow decisionsBefore. */
  outageSignals: readonly string[];
  batchRows: number;
}

export interface RetentionResult {
  samples: number;
  events: number;
  decisions: number;
  actions: number;
  /** Events older than the cutoff kept for a deviation or an unacknowledged alarm. */
  eventsKept: number;
  batches: number;
  longestBatchMs: number;
}

const turn = () => new Promise<void>((r) => setImmediate(r));

const isOutageKey = (key: string, signals: readonly string[]) => signals.some((s) => (s.endsWith('.') ? key.startsWith(s) : key === s));

export async function pruneStore(db: Db, c: RetentionCutoffs): Promise<RetentionResult> {
  const r: RetentionResult = { samples: 0, events: 0, decisions: 0, actions: 0, eventsKept: 0, batches: 0, longestBatchMs: 0 };
  const n = c.batchRows;
  /** Runs one batch (a transaction); false when it found nothing left to do. */
  const batch = async (work: () => boolean): Promise<boolean> => {
    const t0 = performance.now();
    const more = db.transaction(work)();
    r.longestBatchMs = Math.max(r.longestBatchMs, performance.now() - t0);
    r.batches++;
    await turn();
    return more;
  };

  // Samples, key by key through the (key, observed_at) index: each key has its own cutoff.
  const keys = (
    db
      .prepare(
        `WITH RECURSIVE k(key) AS (SELECT min(key) FROM signal_samples
           UNION ALL SELECT (SELECT min(key) FROM signal_samples WHERE key > k.key) FROM k WHERE k.key IS NOT NULL)
         SELECT key FROM k WHERE key IS NOT NULL`,
      )
      .all() as Array<{ key: string }>
  ).map((x) => x.key);
  const delSamples = db.prepare(
    'DELETE FROM signal_samples WHERE rowid IN (SELECT rowid FROM signal_samples WHERE key = ? AND observed_at < ? ORDER BY observed_at LIMIT ?)',
  );
  for (const key of keys) {
    const before = isOutageKey(key, c.outageSignals) ? Math.min(c.decisionsBefore, c.samplesBefore) : c.samplesBefore;
    while (
      await batch(() => {
        const gone = delSamples.run(key, before, n).changes;
        r.samples += gone;
        return gone === n;
      })
    );
  }

  // Actions, then decisions (an action refers to its decision).
  const delActions = db.prepare('DELETE FROM actions WHERE rowid IN (SELECT rowid FROM actions WHERE at < ? ORDER BY at LIMIT ?)');
  while (
    await batch(() => {
      const gone = delActions.run(c.decisionsBefore, n).changes;
      r.actions += gone;
      return gone === n;
    })
  );
  const keepDecision = (db.prepare('SELECT max(id) AS id FROM decisions WHERE at < ?').get(c.decisionsBefore) as { id: number | null }).id;
  if (keepDecision !== null) {
    const pickDecisions = db.prepare(`SELECT id FROM decisions WHERE at < @before AND (at, id) > (@at, @id) ORDER BY at, id LIMIT @n`);
    const delDecision = db.prepare('DELETE FROM decisions WHERE id = ? AND id <> ? AND NOT EXISTS (SELECT 1 FROM actions WHERE decision_id = decisions.id)');
    const atOf = db.prepare('SELECT at FROM decisions WHERE id = ?');
    let cursor = { at: Number.MIN_SAFE_INTEGER, id: 0 };
    while (
      await batch(() => {
        const ids = (pickDecisions.all({ before: c.decisionsBefore, n, ...cursor }) as Array<{ id: number }>).map((x) => x.id);
        if (ids.length === 0) return false;
        const last = ids[ids.length - 1] as number;
        cursor = { at: (atOf.get(last) as { at: number }).at, id: last };
        for (const id of ids) r.decisions += delDecision.run(id, keepDecision).changes;
        return ids.length === n;
      })
    );
  }

  // Events, except those a deviation refers to and unacknowledged alarms.
  const referenced = new Set(
    (
      db.prepare('SELECT first_event_id AS id FROM deviations WHERE first_event_id IS NOT NULL UNION SELECT event_id FROM deviation_events').all() as Array<{
        id: number;
      }>
    ).map((x) => x.id),
  );
  const pickEvents = db.prepare(
    `SELECT e.id, e.at, e.severity, a.event_id IS NOT NULL AS acked FROM events e LEFT JOIN event_acks a ON a.event_id = e.id
     WHERE e.at < @before AND (e.at, e.id) > (@at, @id) ORDER BY e.at, e.id LIMIT @n`,
  );
  const delAck = db.prepare('DELETE FROM event_acks WHERE event_id = ?');
  const delEvent = db.prepare('DELETE FROM events WHERE id = ?');
  let cursor = { at: Number.MIN_SAFE_INTEGER, id: 0 };
  while (
    await batch(() => {
      const rows = pickEvents.all({ before: c.eventsBefore, n, ...cursor }) as Array<{ id: number; at: number; severity: string; acked: number }>;
      if (rows.length === 0) return false;
      const last = rows[rows.length - 1] as { id: number; at: number };
      cursor = { at: last.at, id: last.id };
      for (const e of rows) {
        if (referenced.has(e.id) || (e.severity === 'alarm' && !e.acked)) {
          r.eventsKept++;
          continue;
        }
        delAck.run(e.id);
        r.events += delEvent.run(e.id).changes;
      }
      return rows.length === n;
    })
  );
  return r;
}
