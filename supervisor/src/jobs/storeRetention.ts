/**
 * The `store-retention` duty: deletes samples, events, decisions and actions past the
 * `retention:` config's keeping times (store/retention.ts does the deleting). A scheduled
 * duty like the others (jobs/duties.ts), so every run is in the duty log with how many
 * rows it removed, and a run missed while the box was off is noticed and caught up once.
 */
import type { RetentionConfig } from '../config/retention.js';
import type { Db } from '../store/db.js';
import { pruneStore } from '../store/retention.js';
import type { DutyOutcome, DutySpec } from './duties.js';

export const STORE_RETENTION_DUTY = 'store-retention';
const DAY_MS = 86_400_000;

export interface StoreRetentionDeps {
  db: Db;
  cfg: RetentionConfig;
  /** evidence.availability.outageSignals: their samples are kept as long as decisions. */
  outageSignals: readonly string[];
  now: () => number;
}

export async function runStoreRetention(d: StoreRetentionDeps): Promise<DutyOutcome> {
  const now = d.now();
  const r = await pruneStore(d.db, {
    samplesBefore: now - d.cfg.samplesDays * DAY_MS,
    eventsBefore: now - d.cfg.eventsDays * DAY_MS,
    decisionsBefore: now - d.cfg.decisionsDays * DAY_MS,
    outageSignals: d.outageSignals,
    batchRows: d.cfg.batchRows,
  });
  return {
    outcome: 'ok',
    detail:
      `${r.samples} signal sample(s) older than ${d.cfg.samplesDays} days (outage signals: ${d.cfg.decisionsDays}), ` +
      `${r.events} event(s) older than ${d.cfg.eventsDays} days (${r.eventsKept} kept for a deviation or an unacknowledged alarm), ` +
      `${r.decisions} decision(s) and ${r.actions} action(s) older than ${d.cfg.decisionsDays} days deleted ` +
      `(${r.batches} batches, longest ${r.longestBatchMs.toFixed(1)} ms)`,
    data: r,
  };
}

export function storeRetentionDuty(d: StoreRetentionDeps): DutySpec {
  return { name: STORE_RETENTION_DUTY, schedule: d.cfg.schedule, catchUp: 'once', run: () => runStoreRetention(d) };
}
