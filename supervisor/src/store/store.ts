/**
 * The supervisor's record: decisions (before actuation), actions (after),
 * events, sampled signals. Every write is one small synchronous transaction.
 */
import type { Decision, Override, PolicyMode, RouteTarget } from '../core/policy.js';
import type { Reason } from '../core/reason.js';
import type { Signal } from '../core/signal.js';
import type { Db } from './db.js';

export type Severity = 'info' | 'warn' | 'alarm';

export interface EventInput {
  at: number;
  kind: string;
  severity: Severity;
  subsystem?: string | null;
  en: string;
  nb: string;
  actor?: string | null;
  data?: unknown;
}

export interface EventRow {
  id: number;
  at: number;
  kind: string;
  severity: Severity;
  subsystem: string | null;
  en: string;
  nb: string;
  actor: string | null;
  data: unknown;
}

/** An alarm event and, once someone has acknowledged it, who did, when and why. */
export interface AlarmRow extends EventRow {
  ack: { at: number; by: string; comment: string | null } | null;
}

/** One bucket of a numeric signal's history: enough to draw min/avg/max and mark bad stretches. */
export interface SeriesPoint {
  at: number;
  min: number;
  max: number;
  avg: number;
  n: number;
  /** Samples in the bucket whose status was not `ok`. */
  bad: number;
}

export interface UserRow {
  id: number;
  username: string;
  role: 'operator' | 'technician' | 'admin';
  disabled: boolean;
  createdAt: number;
}

export interface StoredDecision {
  id: number;
  at: number;
  mode: PolicyMode;
  route: RouteTarget;
  previousMode: PolicyMode;
  previousRoute: RouteTarget;
  routeChanged: boolean;
  reasons: Reason[];
  override: Override | null;
  decidedBy: string;
}

export interface ActionInput {
  at: number;
  decisionId: number | null;
  actuator: string;
  kind: 'apply' | 'verify' | 'drift' | 'observe';
  target: RouteTarget | null;
  ok: boolean;
  detail: string;
  durationMs?: number;
}

export interface ActionRow extends ActionInput {
  id: number;
}

interface DecisionRowRaw {
  id: number;
  at: number;
  mode: PolicyMode;
  route: RouteTarget;
  previous_mode: PolicyMode;
  previous_route: RouteTarget;
  route_changed: number;
  reasons_json: string;
  override_json: string | null;
  decided_by: string;
}

interface RawEvent {
  id: number;
  at: number;
  kind: string;
  severity: Severity;
  subsystem: string | null;
  message_en: string;
  message_nb: string;
  actor: string | null;
  data_json: string | null;
}

function toEventRow(r: RawEvent): EventRow {
  return {
    id: r.id,
    at: r.at,
    kind: r.kind,
    severity: r.severity,
    subsystem: r.subsystem,
    en: r.message_en,
    nb: r.message_nb,
    actor: r.actor,
    data: r.data_json ? (JSON.parse(r.data_json) as unknown) : null,
  };
}

function toDecision(r: DecisionRowRaw): StoredDecision {
  return {
    id: r.id,
    at: r.at,
    mode: r.mode,
    route: r.route,
    previousMode: r.previous_mode,
    previousRoute: r.previous_route,
    routeChanged: r.route_changed === 1,
    reasons: JSON.parse(r.reasons_json) as Reason[],
    override: r.override_json ? (JSON.parse(r.override_json) as Override) : null,
    decidedBy: r.decided_by,
  };
}

export class Store {
  private readonly stmts;

  constructor(readonly db: Db) {
    this.stmts = {
      insertDecision: db.prepare(
        `INSERT INTO decisions (at, mode, route, previous_mode, previous_route, route_changed, reasons_json, override_json, decided_by, signals_json)
         VALUES (@at, @mode, @route, @previousMode, @previousRoute, @routeChanged, @reasons, @override, @decidedBy, @signals)`,
      ),
      lastDecision: db.prepare(`SELECT * FROM decisions ORDER BY id DESC LIMIT 1`),
      lastRouteChange: db.prepare(`SELECT * FROM decisions WHERE route_changed = 1 ORDER BY id DESC LIMIT 1`),
      countRouteChanges: db.prepare(`SELECT count(*) AS n FROM decisions WHERE route_changed = 1`),
      decisions: db.prepare(`SELECT * FROM decisions WHERE id < ? ORDER BY id DESC LIMIT ?`),
      insertAction: db.prepare(
        `INSERT INTO actions (at, decision_id, actuator, kind, target, ok, detail, duration_ms)
         VALUES (@at, @decisionId, @actuator, @kind, @target, @ok, @detail, @durationMs)`,
      ),
      actions: db.prepare(`SELECT * FROM actions WHERE id < ? ORDER BY id DESC LIMIT ?`),
      insertEvent: db.prepare(
        `INSERT INTO events (at, kind, severity, subsystem, message_en, message_nb, actor, data_json)
         VALUES (@at, @kind, @severity, @subsystem, @en, @nb, @actor, @data)`,
      ),
      insertSample: db.prepare(
        `INSERT INTO signal_samples (key, subsystem, source, status, value_json, unit, observed_at, detail)
         VALUES (@key, @subsystem, @source, @status, @value, @unit, @observedAt, @detail)`,
      ),
    };
  }

  /** Written BEFORE any actuator acts on it; returns the decision id. */
  insertDecision(d: Decision, signals: readonly Signal[]): number {
    const info = this.stmts.insertDecision.run({
      at: d.at,
      mode: d.mode,
      route: d.route,
      previousMode: d.previousMode,
      previousRoute: d.previousRoute,
      routeChanged: d.routeChanged ? 1 : 0,
      reasons: JSON.stringify(d.reasons),
      override: d.override ? JSON.stringify(d.override) : null,
      decidedBy: d.decidedBy,
      signals: JSON.stringify(signals.map((s) => ({ key: s.key, status: s.status, value: s.value, observedAt: s.observedAt }))),
    });
    return Number(info.lastInsertRowid);
  }

  lastDecision(): StoredDecision | null {
    const r = this.stmts.lastDecision.get() as DecisionRowRaw | undefined;
    return r ? toDecision(r) : null;
  }

  lastRouteChange(): StoredDecision | null {
    const r = this.stmts.lastRouteChange.get() as DecisionRowRaw | undefined;
    return r ? toDecision(r) : null;
  }

  countRouteChanges(): number {
    return (this.stmts.countRouteChanges.get() as { n: number }).n;
  }

  decisions(opts: { beforeId?: number; limit: number }): StoredDecision[] {
    const rows = this.stmts.decisions.all(opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit) as DecisionRowRaw[];
    return rows.map(toDecision);
  }

  insertAction(a: ActionInput): number {
    const info = this.stmts.insertAction.run({ ...a, ok: a.ok ? 1 : 0, durationMs: a.durationMs ?? null });
    return Number(info.lastInsertRowid);
  }

  actions(opts: { beforeId?: number; limit: number }): ActionRow[] {
    const rows = this.stmts.actions.all(opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit) as Array<{
      id: number;
      at: number;
      decision_id: number | null;
      actuator: string;
      kind: ActionInput['kind'];
      target: RouteTarget | null;
      ok: number;
      detail: string;
      duration_ms: number | null;
    }>;
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      decisionId: r.decision_id,
      actuator: r.actuator,
      kind: r.kind,
      target: r.target,
      ok: r.ok === 1,
      detail: r.detail,
      durationMs: r.duration_ms ?? undefined,
    }));
  }

  insertEvent(e: EventInput): number {
    const info = this.stmts.insertEvent.run({
      at: e.at,
      kind: e.kind,
      severity: e.severity,
      subsystem: e.subsystem ?? null,
      en: e.en,
      nb: e.nb,
      actor: e.actor ?? null,
      data: e.data === undefined ? null : JSON.stringify(e.data),
    });
    return Number(info.lastInsertRowid);
  }

  /** Newest first; page with `beforeId`. Filters are optional. */
  events(opts: { beforeId?: number; limit: number; kind?: string; severity?: Severity; since?: number; until?: number }): EventRow[] {
    const where: string[] = ['id < @beforeId'];
    if (opts.kind) where.push('kind = @kind');
    if (opts.severity) where.push('severity = @severity');
    if (opts.since !== undefined) where.push('at >= @since');
    if (opts.until !== undefined) where.push('at < @until');
    const rows = this.db.prepare(`SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`).all({
      beforeId: opts.beforeId ?? Number.MAX_SAFE_INTEGER,
      limit: opts.limit,
      kind: opts.kind,
      severity: opts.severity,
      since: opts.since,
      until: opts.until,
    }) as RawEvent[];
    return rows.map(toEventRow);
  }

  /** Samples are written in one transaction per batch (they come in bursts each tick). */
  insertSamples(signals: readonly Signal[]): void {
    if (signals.length === 0) return;
    this.db.transaction(() => {
      for (const s of signals) {
        this.stmts.insertSample.run({
          key: s.key,
          subsystem: s.subsystem,
          source: s.source,
          status: s.status,
          value: s.value === null ? null : JSON.stringify(s.value),
          unit: s.unit ?? null,
          observedAt: s.observedAt,
          detail: s.detail ?? null,
        });
      }
    })();
  }

  samples(key: string, since: number, until: number, limit = 5000): Array<{ at: number; status: string; value: unknown }> {
    const rows = this.db
      .prepare(`SELECT observed_at, status, value_json FROM signal_samples WHERE key = ? AND observed_at >= ? AND observed_at < ? ORDER BY observed_at LIMIT ?`)
      .all(key, since, until, limit) as Array<{ observed_at: number; status: string; value_json: string | null }>;
    return rows.map((r) => ({ at: r.observed_at, status: r.status, value: r.value_json ? (JSON.parse(r.value_json) as unknown) : null }));
  }

  /**
   * Records who acknowledged an alarm event. An alarm is acknowledged once: a second
   * attempt returns the first acknowledgement so the UI can say who was first.
   */
  ackEvent(
    eventId: number,
    by: string,
    comment: string | null,
    at: number,
  ):
    | { result: 'acked'; ack: NonNullable<AlarmRow['ack']> }
    | { result: 'already'; ack: NonNullable<AlarmRow['ack']> }
    | { result: 'missing' }
    | { result: 'notAlarm' } {
    return this.db.transaction(() => {
      const ev = this.db.prepare('SELECT severity FROM events WHERE id = ?').get(eventId) as { severity: Severity } | undefined;
      if (!ev) return { result: 'missing' as const };
      if (ev.severity !== 'alarm') return { result: 'notAlarm' as const };
      const prev = this.db.prepare('SELECT at, by, comment FROM event_acks WHERE event_id = ?').get(eventId) as NonNullable<AlarmRow['ack']> | undefined;
      if (prev) return { result: 'already' as const, ack: prev };
      this.db.prepare('INSERT INTO event_acks (event_id, at, by, comment) VALUES (?, ?, ?, ?)').run(eventId, at, by, comment);
      return { result: 'acked' as const, ack: { at, by, comment } };
    })();
  }

  /** Alarm events, newest first: `open` = not yet acknowledged. */
  alarms(opts: { state: 'open' | 'acked' | 'all'; limit: number; beforeId?: number }): AlarmRow[] {
    const cond = opts.state === 'open' ? 'AND a.event_id IS NULL' : opts.state === 'acked' ? 'AND a.event_id IS NOT NULL' : '';
    const rows = this.db
      .prepare(
        `SELECT e.*, a.at AS ack_at, a.by AS ack_by, a.comment AS ack_comment
         FROM events e LEFT JOIN event_acks a ON a.event_id = e.id
         WHERE e.severity = 'alarm' AND e.id < ? ${cond} ORDER BY e.id DESC LIMIT ?`,
      )
      .all(opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit) as Array<
      RawEvent & { ack_at: number | null; ack_by: string | null; ack_comment: string | null }
    >;
    return rows.map((r) => ({
      ...toEventRow(r),
      ack: r.ack_at !== null && r.ack_by !== null ? { at: r.ack_at, by: r.ack_by, comment: r.ack_comment } : null,
    }));
  }

  countOpenAlarms(): number {
    return (
      this.db
        .prepare(`SELECT count(*) AS n FROM events e LEFT JOIN event_acks a ON a.event_id = e.id WHERE e.severity = 'alarm' AND a.event_id IS NULL`)
        .get() as {
        n: number;
      }
    ).n;
  }

  /**
   * A numeric signal's history folded into at most `buckets` points, so a chart over a
   * month costs the same to send as one over an hour. Uses the (key, observed_at) index.
   */
  sampleSeries(key: string, since: number, until: number, buckets: number): SeriesPoint[] {
    const width = Math.max(1, Math.ceil((until - since) / buckets));
    const rows = this.db
      .prepare(
        `SELECT (observed_at - @since) / @width AS b,
                min(CAST(value_json AS REAL)) AS mn, max(CAST(value_json AS REAL)) AS mx, avg(CAST(value_json AS REAL)) AS av,
                count(*) AS n, sum(status <> 'ok') AS bad
         FROM signal_samples
         WHERE key = @key AND observed_at >= @since AND observed_at < @until AND json_type(value_json) IN ('integer', 'real')
         GROUP BY b ORDER BY b`,
      )
      .all({ key, since, until, width }) as Array<{ b: number; mn: number; mx: number; av: number; n: number; bad: number }>;
    return rows.map((r) => ({ at: since + r.b * width, min: r.mn, max: r.mx, avg: r.av, n: r.n, bad: r.bad }));
  }

  users(): UserRow[] {
    const rows = this.db.prepare('SELECT id, username, role, disabled, created_at FROM users ORDER BY username').all() as Array<{
      id: number;
      username: string;
      role: UserRow['role'];
      disabled: number;
      created_at: number;
    }>;
    return rows.map((r) => ({ id: r.id, username: r.username, role: r.role, disabled: r.disabled === 1, createdAt: r.created_at }));
  }

  /** Changes role and/or disabled flag; returns false if there is no such user. */
  updateUser(username: string, patch: { role?: UserRow['role']; disabled?: boolean }): boolean {
    const info = this.db
      .prepare('UPDATE users SET role = coalesce(@role, role), disabled = coalesce(@disabled, disabled) WHERE username = @username')
      .run({ username, role: patch.role ?? null, disabled: patch.disabled === undefined ? null : patch.disabled ? 1 : 0 });
    return info.changes > 0;
  }

  close(): void {
    this.db.close();
  }
}
