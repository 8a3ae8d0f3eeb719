/**
 * How long the supervisor's own record is kept (`retention:`). Without it, signal samples,
 * events, decisions and actions grow for ever (the simulated box writes ~1,100 samples in
 * 5 minutes). The audio log has its own rule (audiolog.retention), call records and
 * deviations theirs (evidence.duties.retention); neither is touched here.
 *
 *   retention:
 *     schedule: "45 3 * * *"   # daily, after evidence's own retention (03:30)
 *     samplesDays: 30
 *     eventsDays: 1095
 *     decisionsDays: 1095
 *
 * Why these defaults: events, decisions and actions are the evidence of where calls went
 * and why (the reports' time on backup, a complaint about one night): kept as long as the
 * call records and the audio log they explain (3 years). Samples are raw measurements —
 * charts, the flows dry-run (a day) — and 30 days of them is plenty; but the samples of
 * `evidence.availability.outageSignals` decide the availability figures, so they are kept
 * as long as decisions and a report over any kept period gives the same figure. Events a
 * deviation refers to, and alarms no one has acknowledged, are never deleted here (the
 * deviation register removes closed deviations after evidence.duties.retention.dutyRunsDays).
 */
import { z } from 'zod';
import { cronExpr } from './evidence.js';

export const retentionSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** node-cron expression in evidence.timeZone; a missed run is caught up once. */
  schedule: cronExpr.default('45 3 * * *'),
  /** Signal samples (except the outage signals, see decisionsDays). At least a day: the flows dry-run replays one. */
  samplesDays: z.number().int().min(2).default(30),
  /** Events (the event log and audit trail). */
  eventsDays: z.number().int().min(30).default(1095),
  /** Routing decisions and the actions that carried them out; also the outage signals' samples. */
  decisionsDays: z.number().int().min(30).default(1095),
  /** Rows deleted per transaction (one fsync each): 500 took ~9 ms median, 32 ms at most, on a 2-core machine under load 17; 2000 took up to 280 ms. */
  batchRows: z.number().int().min(50).max(20_000).default(500),
});

export type RetentionConfig = z.infer<typeof retentionSchema>;
