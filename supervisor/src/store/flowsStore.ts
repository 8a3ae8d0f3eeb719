/**
 * The flows' record in the store: versions of the deployed configuration (who, when,
 * the diff) and dry-run reports; plus a chunked reader of recorded signal samples for
 * the dry-run (read in slices so a day of samples never blocks the event loop long).
 */
import type { FlowDiff, FlowNode } from '../flows/diff.js';
import type { Db } from './db.js';

export type FlowVersionKind = 'initial' | 'deploy' | 'rollback';

export interface FlowVersionInput {
  at: number;
  actor: string;
  kind: FlowVersionKind;
  deployType: string | null;
  restoredFrom: number | null;
  flows: FlowNode[];
  sha256: string;
  diff: FlowDiff;
  rev: string | null;
  dryRunId: number | null;
  comment: string | null;
}

export interface FlowVersionRow extends Omit<FlowVersionInput, 'flows'> {
  id: number;
}

export interface FlowVersion extends FlowVersionRow {
  flows: FlowNode[];
}

export interface DryRunRow {
  id: number;
  at: number;
  actor: string;
  candidateSha256: string;
  baseVersion: number | null;
  windowFrom: number;
  windowTo: number;
  differences: number;
}

export interface SampleRow {
  id: number;
  key: string;
  subsystem: string;
  source: string;
  status: string;
  value: unknown;
  unit: string | null;
  at: number;
  detail: string | null;
}

interface VersionRaw {
  id: number;
  at: number;
  actor: string;
  kind: FlowVersionKind;
  deploy_type: string | null;
  restored_from: number | null;
  flows_json?: string;
  sha256: string;
  diff_json: string;
  rev: string | null;
  dry_run_id: number | null;
  comment: string | null;
}

const COLS = 'id, at, actor, kind, deploy_type, restored_from, sha256, diff_json, rev, dry_run_id, comment';

function toRow(r: VersionRaw): FlowVersionRow {
  return {
    id: r.id,
    at: r.at,
    actor: r.actor,
    kind: r.kind,
    deployType: r.deploy_type,
    restoredFrom: r.restored_from,
    sha256: r.sha256,
    diff: JSON.parse(r.diff_json) as FlowDiff,
    rev: r.rev,
    dryRunId: r.dry_run_id,
    comment: r.comment,
  };
}

export class FlowsStore {
  constructor(private readonly db: Db) {}

  insertVersion(v: FlowVersionInput): number {
    const info = this.db
      .prepare(
        `INSERT INTO flow_versions (at, actor, kind, deploy_type, restored_from, flows_json, sha256, diff_json, rev, dry_run_id, comment)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(v.at, v.actor, v.kind, v.deployType, v.restoredFrom, JSON.stringify(v.flows), v.sha256, JSON.stringify(v.diff), v.rev, v.dryRunId, v.comment);
    return Number(info.lastInsertRowid);
  }

  current(): FlowVersion | null {
    const r = this.db.prepare(`SELECT ${COLS}, flows_json FROM flow_versions ORDER BY id DESC LIMIT 1`).get() as VersionRaw | undefined;
    return r ? { ...toRow(r), flows: JSON.parse(r.flows_json as string) as FlowNode[] } : null;
  }

  version(id: number): FlowVersion | null {
    const r = this.db.prepare(`SELECT ${COLS}, flows_json FROM flow_versions WHERE id = ?`).get(id) as VersionRaw | undefined;
    return r ? { ...toRow(r), flows: JSON.parse(r.flows_json as string) as FlowNode[] } : null;
  }

  versions(opts: { limit: number; beforeId?: number }): FlowVersionRow[] {
    const rows = this.db
      .prepare(`SELECT ${COLS} FROM flow_versions WHERE id < ? ORDER BY id DESC LIMIT ?`)
      .all(opts.beforeId ?? Number.MAX_SAFE_INTEGER, opts.limit) as VersionRaw[];
    return rows.map(toRow);
  }

  setVersionRev(id: number, rev: string): void {
    this.db.prepare('UPDATE flow_versions SET rev = ? WHERE id = ?').run(rev, id);
  }

  insertDryRun(r: Omit<DryRunRow, 'id'> & { report: unknown }): number {
    const info = this.db
      .prepare(
        `INSERT INTO flow_dry_runs (at, actor, candidate_sha256, base_version, window_from, window_to, differences, report_json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(r.at, r.actor, r.candidateSha256, r.baseVersion, r.windowFrom, r.windowTo, r.differences, JSON.stringify(r.report));
    return Number(info.lastInsertRowid);
  }

  dryRun(id: number): (DryRunRow & { report: unknown }) | null {
    const r = this.db.prepare('SELECT * FROM flow_dry_runs WHERE id = ?').get(id) as
      | {
          id: number;
          at: number;
          actor: string;
          candidate_sha256: string;
          base_version: number | null;
          window_from: number;
          window_to: number;
          differences: number;
          report_json: string;
        }
      | undefined;
    if (!r) return null;
    return {
      id: r.id,
      at: r.at,
      actor: r.actor,
      candidateSha256: r.candidate_sha256,
      baseVersion: r.base_version,
      windowFrom: r.window_from,
      windowTo: r.window_to,
      differences: r.differences,
      report: JSON.parse(r.report_json) as unknown,
    };
  }

  /** The newest dry-run of exactly this configuration since `since` (to link it to the deploy). */
  latestDryRunFor(sha256: string, since: number): { id: number; at: number; actor: string; differences: number } | null {
    const r = this.db
      .prepare('SELECT id, at, actor, differences FROM flow_dry_runs WHERE candidate_sha256 = ? AND at >= ? ORDER BY id DESC LIMIT 1')
      .get(sha256, since) as { id: number; at: number; actor: string; differences: number } | undefined;
    return r ?? null;
  }

  /** Samples with from <= observed_at < to, oldest first, in pages of `pageSize` (keyset paging). */
  async *samples(from: number, to: number, pageSize = 5000): AsyncGenerator<SampleRow[]> {
    const stmt = this.db.prepare(
      `SELECT id, key, subsystem, source, status, value_json, unit, observed_at, detail FROM signal_samples
       WHERE observed_at < @to AND (observed_at > @at OR (observed_at = @at AND id > @id))
       ORDER BY observed_at, id LIMIT @limit`,
    );
    let cursor = { at: from - 1, id: Number.MAX_SAFE_INTEGER };
    for (;;) {
      const rows = stmt.all({ to, at: cursor.at, id: cursor.id, limit: pageSize }) as Array<{
        id: number;
        key: string;
        subsystem: string;
        source: string;
        status: string;
        value_json: string | null;
        unit: string | null;
        observed_at: number;
        detail: string | null;
      }>;
      if (rows.length === 0) return;
      yield rows.map((r) => ({
        id: r.id,
        key: r.key,
        subsystem: r.subsystem,
        source: r.source,
        status: r.status,
        value: r.value_json === null ? null : (JSON.parse(r.value_json) as unknown),
        unit: r.unit,
        at: r.observed_at,
        detail: r.detail,
      }));
      const last = rows[rows.length - 1] as { observed_at: number; id: number };
      cursor = { at: last.observed_at, id: last.id };
      if (rows.length < pageSize) return;
      // Let probes and the API run between pages.
      await new Promise((r) => setImmediate(r));
    }
  }
}
