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
    }) as Array<{
      id: number;
      at: number;
      kind: string;
      severity: Severity;
      subsystem: string | null;
      message_en: string;
      message_nb: string;
      actor: string | null;
      data_json: string | null;
    }>;
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      kind: r.kind,
      severity: r.severity,
      subsystem: r.subsystem,
      en: r.message_en,
      nb: r.message_nb,
      actor: r.actor,
      data: r.data_json ? (JSON.parse(r.data_json) as unknown) : null,
    }));
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

  close(): void {
    this.db.close();
  }
}
