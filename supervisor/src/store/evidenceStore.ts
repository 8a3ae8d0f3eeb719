/**
 * The evidence tables (migration "evidence", issue #10): call milestones read
 * from Kamailio's call-record files, how far each file was read, when the
 * supervisor was watching, the deviations register and the duty log. Shares the
 * supervisor's SQLite connection; every write is one small transaction.
 */
import type { CallEvent, CallMilestone, Interval } from '../core/evidence.js';
import type { Db } from './db.js';

export interface StoredMilestone extends CallMilestone {
  fromTag: string;
  source: string;
}

export interface FileOffset {
  dev: number;
  ino: number;
  path: string;
  offset: number;
}

export type DeviationState = 'open' | 'acknowledged' | 'closed';

export interface Deviation {
  id: number;
  openedAt: number;
  openedBy: string;
  key: string;
  kind: string;
  subsystem: string | null;
  titleEn: string;
  titleNb: string;
  firstEventId: number | null;
  lastEventAt: number;
  occurrences: number;
  state: DeviationState;
  ack: { at: number; by: string; comment: string | null } | null;
  closed: { at: number; by: string; comment: string } | null;
}

export type DutyTrigger = 'schedule' | 'catch-up' | 'manual' | 'detected';

export interface DutyRun {
  id: number;
  duty: string;
  trigger: DutyTrigger;
  scheduledFor: number | null;
  startedAt: number;
  finishedAt: number | null;
  outcome: string;
  detail: string;
  data: unknown;
}

interface RawDeviation {
  id: number;
  opened_at: number;
  opened_by: string;
  key: string;
  kind: string;
  subsystem: string | null;
  title_en: string;
  title_nb: string;
  first_event_id: number | null;
  last_event_at: number;
  occurrences: number;
  ack_at: number | null;
  ack_by: string | null;
  ack_comment: string | null;
  closed_at: number | null;
  closed_by: string | null;
  closed_comment: string | null;
}

function toDeviation(r: RawDeviation): Deviation {
  const closed = r.closed_at !== null && r.closed_by !== null ? { at: r.closed_at, by: r.closed_by, comment: r.closed_comment ?? '' } : null;
  const ack = r.ack_at !== null && r.ack_by !== null ? { at: r.ack_at, by: r.ack_by, comment: r.ack_comment } : null;
  return {
    id: r.id,
    openedAt: r.opened_at,
    openedBy: r.opened_by,
    key: r.key,
    kind: r.kind,
    subsystem: r.subsystem,
    titleEn: r.title_en,
    titleNb: r.title_nb,
    firstEventId: r.first_event_id,
    lastEventAt: r.last_event_at,
    occurrences: r.occurrences,
    state: closed ? 'closed' : ack ? 'acknowledged' : 'open',
    ack,
    closed,
  };
}

interface RawRun {
  id: number;
  duty: string;
  trigger: DutyTrigger;
  scheduled_for: number | null;
  started_at: number;
  finished_at: number | null;
  outcome: string;
  detail: string;
  data_json: string | null;
}

const toRun = (r: RawRun): DutyRun => ({
  id: r.id,
  duty: r.duty,
  trigger: r.trigger,
  scheduledFor: r.scheduled_for,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  outcome: r.outcome,
  detail: r.detail,
  data: r.data_json ? (JSON.parse(r.data_json) as unknown) : null,
});

export class EvidenceStore {
  constructor(readonly db: Db) {
    const has = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'call_milestones'`).get();
    if (!has) throw new Error('the store has no evidence tables — it was opened without running migrations (use openDb)');
  }

  // --- call records -------------------------------------------------------

  /**
   * Inserts milestones and moves the file's read offset in ONE transaction, so a
   * crash between the two can neither lose nor double a record (duplicates are
   * ignored anyway: UNIQUE(call_id, from_tag, event)). Returns how many were new.
   */
  ingest(milestones: readonly StoredMilestone[], file: FileOffset | null, now: number): number {
    const ins = this.db.prepare(
      `INSERT OR IGNORE INTO call_milestones (call_id, from_tag, event, at, code, role, caller, pai, called, probe, source)
       VALUES (@callId, @fromTag, @event, @at, @code, @role, @caller, @pai, @called, @probe, @source)`,
    );
    const off = this.db.prepare(
      `INSERT INTO call_record_files (dev, ino, path, offset, updated_at) VALUES (@dev, @ino, @path, @offset, @now)
       ON CONFLICT (dev, ino) DO UPDATE SET path = excluded.path, offset = excluded.offset, updated_at = excluded.updated_at`,
    );
    return this.db.transaction(() => {
      let added = 0;
      for (const m of milestones) added += ins.run({ ...m, probe: m.probe ? 1 : 0 }).changes;
      if (file) off.run({ ...file, now });
      return added;
    })();
  }

  fileOffset(dev: number, ino: number): number {
    const r = this.db.prepare('SELECT offset FROM call_record_files WHERE dev = ? AND ino = ?').get(dev, ino) as { offset: number } | undefined;
    return r?.offset ?? 0;
  }

  /** Forget read offsets of files that no longer exist (after rotation). */
  forgetFilesExcept(keep: ReadonlyArray<{ dev: number; ino: number }>): void {
    const rows = this.db.prepare('SELECT dev, ino FROM call_record_files').all() as Array<{ dev: number; ino: number }>;
    const alive = new Set(keep.map((k) => `${k.dev}:${k.ino}`));
    const del = this.db.prepare('DELETE FROM call_record_files WHERE dev = ? AND ino = ?');
    for (const r of rows) if (!alive.has(`${r.dev}:${r.ino}`)) del.run(r.dev, r.ino);
  }

  /** Every milestone of the calls that ARRIVED in [from, to). */
  milestonesForArrivals(from: number, to: number): StoredMilestone[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM call_milestones WHERE call_id IN
           (SELECT call_id FROM call_milestones WHERE event = 'arrived' AND at >= ? AND at < ?)
         ORDER BY at, id`,
      )
      .all(from, to) as Array<{
      call_id: string;
      from_tag: string;
      event: CallEvent;
      at: number;
      code: number | null;
      role: string | null;
      caller: string | null;
      pai: string | null;
      called: string | null;
      probe: number;
      source: string;
    }>;
    return rows.map((r) => ({
      callId: r.call_id,
      fromTag: r.from_tag,
      event: r.event,
      at: r.at,
      code: r.code,
      role: r.role,
      caller: r.caller,
      pai: r.pai,
      called: r.called,
      probe: r.probe === 1,
      source: r.source,
    }));
  }

  countMilestones(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM call_milestones').get() as { n: number }).n;
  }

  /** Deletes calls that arrived before `before` (and stray milestones older than it). */
  deleteCallsBefore(before: number): number {
    return this.db.transaction(() => {
      const a = this.db
        .prepare(`DELETE FROM call_milestones WHERE call_id IN (SELECT call_id FROM call_milestones WHERE event = 'arrived' AND at < ?)`)
        .run(before).changes;
      const b = this.db.prepare('DELETE FROM call_milestones WHERE at < ?').run(before).changes;
      return a + b;
    })();
  }

  // --- observation coverage --------------------------------------------------

  /** A new stretch of "the supervisor is watching"; returns its id. */
  beginCoverage(now: number): number {
    return Number(this.db.prepare('INSERT INTO evidence_coverage (started_at, last_seen_at) VALUES (?, ?)').run(now, now).lastInsertRowid);
  }

  extendCoverage(id: number, now: number): void {
    this.db.prepare('UPDATE evidence_coverage SET last_seen_at = max(last_seen_at, ?) WHERE id = ?').run(now, id);
  }

  /** The stretch before `id` (for noticing the gap a restart left). */
  previousCoverage(id: number): Interval | null {
    const r = this.db.prepare('SELECT started_at, last_seen_at FROM evidence_coverage WHERE id < ? ORDER BY id DESC LIMIT 1').get(id) as
      | { started_at: number; last_seen_at: number }
      | undefined;
    return r ? { from: r.started_at, to: r.last_seen_at } : null;
  }

  coverage(from: number, to: number): Interval[] {
    const rows = this.db
      .prepare('SELECT started_at, last_seen_at FROM evidence_coverage WHERE last_seen_at >= ? AND started_at < ? ORDER BY started_at')
      .all(from, to) as Array<{
      started_at: number;
      last_seen_at: number;
    }>;
    return rows.map((r) => ({ from: r.started_at, to: r.last_seen_at }));
  }

  // --- signals and decisions (read-only views of the supervisor's record) ----

  /** Samples of keys equal to, or starting with, the given keys/prefixes in [from, to), plus each key's last sample before `from`. */
  outageSamples(keys: readonly string[], from: number, to: number): Array<{ key: string; at: number; status: string }> {
    const out: Array<{ key: string; at: number; status: string }> = [];
    for (const k of keys) {
      const prefix = k.endsWith('.');
      const cond = prefix ? 'key >= @k AND key < @k2' : 'key = @k';
      const p = { k, k2: `${k}\uffff`, from, to };
      const before = this.db
        .prepare(`SELECT key, max(observed_at) AS at, status FROM signal_samples WHERE ${cond} AND observed_at < @from GROUP BY key`)
        .all(p) as Array<{ key: string; at: number; status: string }>;
      const inside = this.db
        .prepare(`SELECT key, observed_at AS at, status FROM signal_samples WHERE ${cond} AND observed_at >= @from AND observed_at < @to ORDER BY observed_at`)
        .all(p) as Array<{ key: string; at: number; status: string }>;
      out.push(...before, ...inside);
    }
    return out;
  }

  /** Route at `from` and every route change in [from, to). */
  routeChanges(from: number, to: number): { initial: 'local' | 'backup'; changes: Array<{ at: number; route: 'local' | 'backup' }> } {
    const last = this.db.prepare('SELECT route FROM decisions WHERE at < ? ORDER BY id DESC LIMIT 1').get(from) as { route: 'local' | 'backup' } | undefined;
    const changes = this.db.prepare('SELECT at, route FROM decisions WHERE route_changed = 1 AND at >= ? AND at < ? ORDER BY id').all(from, to) as Array<{
      at: number;
      route: 'local' | 'backup';
    }>;
    return { initial: last?.route ?? 'local', changes };
  }

  decisionRoute(decisionId: number): 'local' | 'backup' | null {
    const r = this.db.prepare('SELECT route FROM decisions WHERE id = ?').get(decisionId) as { route: 'local' | 'backup' } | undefined;
    return r?.route ?? null;
  }

  // --- deviations --------------------------------------------------------------

  openDeviationByKey(key: string): Deviation | null {
    const r = this.db.prepare('SELECT * FROM deviations WHERE key = ? AND closed_at IS NULL ORDER BY id DESC LIMIT 1').get(key) as RawDeviation | undefined;
    return r ? toDeviation(r) : null;
  }

  openDeviation(d: {
    at: number;
    by: string;
    key: string;
    kind: string;
    subsystem: string | null;
    titleEn: string;
    titleNb: string;
    eventId: number | null;
  }): number {
    return this.db.transaction(() => {
      const id = Number(
        this.db
          .prepare(
            `INSERT INTO deviations (opened_at, opened_by, key, kind, subsystem, title_en, title_nb, first_event_id, last_event_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(d.at, d.by, d.key, d.kind, d.subsystem, d.titleEn, d.titleNb, d.eventId, d.at).lastInsertRowid,
      );
      if (d.eventId !== null) this.db.prepare('INSERT OR IGNORE INTO deviation_events (deviation_id, event_id, at) VALUES (?, ?, ?)').run(id, d.eventId, d.at);
      return id;
    })();
  }

  /** Another occurrence of an open deviation's fault. */
  addOccurrence(deviationId: number, eventId: number, at: number): void {
    this.db.transaction(() => {
      const added = this.db
        .prepare('INSERT OR IGNORE INTO deviation_events (deviation_id, event_id, at) VALUES (?, ?, ?)')
        .run(deviationId, eventId, at).changes;
      if (added > 0) {
        this.db.prepare('UPDATE deviations SET occurrences = occurrences + 1, last_event_at = max(last_event_at, ?) WHERE id = ?').run(at, deviationId);
      }
    })();
  }

  deviation(id: number): Deviation | null {
    const r = this.db.prepare('SELECT * FROM deviations WHERE id = ?').get(id) as RawDeviation | undefined;
    return r ? toDeviation(r) : null;
  }

  /** Deviations opened in [from, to) or still not closed at `from` — what a period's report must show. */
  deviations(opts: { state?: DeviationState | 'all' | 'notClosed'; from?: number; to?: number; limit?: number }): Deviation[] {
    const where: string[] = [];
    const state = opts.state ?? 'all';
    if (state === 'open') where.push('closed_at IS NULL AND ack_at IS NULL');
    if (state === 'acknowledged') where.push('closed_at IS NULL AND ack_at IS NOT NULL');
    if (state === 'closed') where.push('closed_at IS NOT NULL');
    if (state === 'notClosed') where.push('closed_at IS NULL');
    if (opts.to !== undefined) where.push('opened_at < @to');
    if (opts.from !== undefined) where.push('(opened_at >= @from OR closed_at IS NULL OR closed_at >= @from)');
    const sql = `SELECT * FROM deviations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_at DESC, id DESC LIMIT @limit`;
    const rows = this.db.prepare(sql).all({ from: opts.from, to: opts.to, limit: opts.limit ?? 1000 }) as RawDeviation[];
    return rows.map(toDeviation);
  }

  deviationEventIds(id: number): number[] {
    return (this.db.prepare('SELECT event_id FROM deviation_events WHERE deviation_id = ? ORDER BY at, event_id').all(id) as Array<{ event_id: number }>).map(
      (r) => r.event_id,
    );
  }

  acknowledgeDeviation(
    id: number,
    by: string,
    comment: string | null,
    at: number,
  ): { result: 'ok' | 'missing' | 'closed' | 'already'; deviation: Deviation | null } {
    return this.db.transaction(() => {
      const d = this.deviation(id);
      if (!d) return { result: 'missing' as const, deviation: null };
      if (d.closed) return { result: 'closed' as const, deviation: d };
      if (d.ack) return { result: 'already' as const, deviation: d };
      this.db.prepare('UPDATE deviations SET ack_at = ?, ack_by = ?, ack_comment = ? WHERE id = ?').run(at, by, comment, id);
      return { result: 'ok' as const, deviation: this.deviation(id) };
    })();
  }

  /** Closing implies acknowledging: someone who closes it has seen it. */
  closeDeviation(id: number, by: string, comment: string, at: number): { result: 'ok' | 'missing' | 'closed'; deviation: Deviation | null } {
    return this.db.transaction(() => {
      const d = this.deviation(id);
      if (!d) return { result: 'missing' as const, deviation: null };
      if (d.closed) return { result: 'closed' as const, deviation: d };
      if (!d.ack) this.db.prepare('UPDATE deviations SET ack_at = ?, ack_by = ?, ack_comment = NULL WHERE id = ?').run(at, by, id);
      this.db.prepare('UPDATE deviations SET closed_at = ?, closed_by = ?, closed_comment = ? WHERE id = ?').run(at, by, comment, id);
      return { result: 'ok' as const, deviation: this.deviation(id) };
    })();
  }

  countOpenDeviations(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM deviations WHERE closed_at IS NULL').get() as { n: number }).n;
  }

  deleteClosedDeviationsBefore(before: number): number {
    return this.db.prepare('DELETE FROM deviations WHERE closed_at IS NOT NULL AND closed_at < ?').run(before).changes;
  }

  // --- duties --------------------------------------------------------------

  /** When this duty was first scheduled with this expression (missed runs count only after it). */
  dutySince(duty: string, schedule: string, now: number): number {
    const r = this.db.prepare('SELECT schedule, since FROM duty_state WHERE duty = ?').get(duty) as { schedule: string; since: number } | undefined;
    if (r && r.schedule === schedule) return r.since;
    this.db
      .prepare(
        'INSERT INTO duty_state (duty, schedule, since) VALUES (?, ?, ?) ON CONFLICT (duty) DO UPDATE SET schedule = excluded.schedule, since = excluded.since',
      )
      .run(duty, schedule, now);
    return now;
  }

  startDutyRun(r: { duty: string; trigger: DutyTrigger; scheduledFor: number | null; at: number; outcome?: string; detail?: string }): number {
    return Number(
      this.db
        .prepare('INSERT INTO duty_runs (duty, trigger, scheduled_for, started_at, outcome, detail) VALUES (?, ?, ?, ?, ?, ?)')
        .run(r.duty, r.trigger, r.scheduledFor, r.at, r.outcome ?? 'running', r.detail ?? '').lastInsertRowid,
    );
  }

  finishDutyRun(id: number, r: { at: number; outcome: string; detail: string; data?: unknown }): void {
    this.db
      .prepare('UPDATE duty_runs SET finished_at = ?, outcome = ?, detail = ?, data_json = ? WHERE id = ?')
      .run(r.at, r.outcome, r.detail, r.data === undefined ? null : JSON.stringify(r.data), id);
  }

  /** Scheduled-for times already accounted for (ran, or reported missed) since `since`. */
  accountedSlots(duty: string, since: number): Set<number> {
    const rows = this.db
      .prepare('SELECT scheduled_for FROM duty_runs WHERE duty = ? AND scheduled_for IS NOT NULL AND scheduled_for >= ?')
      .all(duty, since) as Array<{
      scheduled_for: number;
    }>;
    return new Set(rows.map((r) => r.scheduled_for));
  }

  dutyRun(id: number): DutyRun | null {
    const r = this.db.prepare('SELECT * FROM duty_runs WHERE id = ?').get(id) as RawRun | undefined;
    return r ? toRun(r) : null;
  }

  lastDutyRun(duty: string): DutyRun | null {
    const r = this.db.prepare('SELECT * FROM duty_runs WHERE duty = ? ORDER BY id DESC LIMIT 1').get(duty) as RawRun | undefined;
    return r ? toRun(r) : null;
  }

  dutyRuns(opts: { from?: number; to?: number; duty?: string; limit?: number }): DutyRun[] {
    const where: string[] = [];
    if (opts.duty) where.push('duty = @duty');
    if (opts.from !== undefined) where.push('coalesce(scheduled_for, started_at) >= @from');
    if (opts.to !== undefined) where.push('coalesce(scheduled_for, started_at) < @to');
    const rows = this.db
      .prepare(
        `SELECT * FROM duty_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY coalesce(scheduled_for, started_at) DESC, id DESC LIMIT @limit`,
      )
      .all({ duty: opts.duty, from: opts.from, to: opts.to, limit: opts.limit ?? 500 }) as RawRun[];
    return rows.map(toRun);
  }

  deleteDutyRunsBefore(before: number): number {
    return this.db.prepare('DELETE FROM duty_runs WHERE started_at < ?').run(before).changes;
  }

  // --- daily summaries ---------------------------------------------------------

  saveDailySummary(day: string, at: number, figures: unknown): void {
    this.db
      .prepare(
        'INSERT INTO daily_summaries (day, computed_at, figures_json) VALUES (?, ?, ?) ON CONFLICT (day) DO UPDATE SET computed_at = excluded.computed_at, figures_json = excluded.figures_json',
      )
      .run(day, at, JSON.stringify(figures));
  }

  dailySummary(day: string): { computedAt: number; figures: unknown } | null {
    const r = this.db.prepare('SELECT computed_at, figures_json FROM daily_summaries WHERE day = ?').get(day) as
      | { computed_at: number; figures_json: string }
      | undefined;
    return r ? { computedAt: r.computed_at, figures: JSON.parse(r.figures_json) as unknown } : null;
  }
}
