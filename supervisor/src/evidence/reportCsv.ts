/**
 * CSV exports: the report's figures (one row per day, month and the whole
 * period), the calls, the deviations register and the duty log. Column names
 * say the unit; times are local (`timeZone` column or the report's zone).
 */
import { type CallRecord, classifyCall } from '../core/evidence.js';
import type { Deviation, DutyRun } from '../store/evidenceStore.js';
import { csv, localTimestamp, pct, seconds, yesNo } from './format.js';
import type { EvidenceReport, PeriodFigures } from './report.js';

export const REPORT_CSV_HEADER = [
  'level',
  'period',
  'from_local',
  'to_local',
  'availability_percent',
  'availability_target_percent',
  'availability_met',
  'intervals',
  'intervals_up',
  'intervals_down',
  'intervals_not_observed',
  'interval_s',
  'observed_availability_percent',
  'offered_calls',
  'answered_calls',
  'unanswered_calls',
  'not_counted_calls',
  'answered_within_limit',
  'answered_within_limit_percent',
  'answer_limit_s',
  'answer_target_percent',
  'answer_target_met',
  'longest_wait_s',
  'longest_wait_call_id',
  'calls_over_max_wait',
  'max_wait_s',
  'max_wait_met',
  'time_on_backup_s',
  'time_zone',
] as const;

function figureCells(r: EvidenceReport, f: PeriodFigures): Array<string | number> {
  const a = f.availability;
  const w = f.answer;
  return [
    pct(a.percent),
    r.targets.availabilityPercent,
    yesNo(a.targetMet),
    a.buckets,
    a.up,
    a.down,
    a.unobserved,
    r.targets.bucketS,
    pct(a.observedPercent),
    w.offered,
    w.served,
    w.unserved,
    w.excluded,
    w.answeredWithinLimit,
    pct(w.sharePercent),
    r.targets.answerLimitS,
    r.targets.answerTargetPercent,
    yesNo(w.shareMet),
    seconds(w.longestWaitMs),
    w.longestWaitCallId ?? '',
    w.overMax,
    r.targets.answerMaxS,
    yesNo(w.maxMet),
    seconds(f.backupMs),
    r.timeZone,
  ];
}

export function reportCsv(r: EvidenceReport): string {
  const tz = r.timeZone;
  const rows = [
    ['total', 'period', localTimestamp(r.period.from, tz), localTimestamp(r.period.to, tz), ...figureCells(r, r.total)],
    ...r.months.map((m) => ['month', m.month, '', '', ...figureCells(r, m)]),
    ...r.days.map((d) => ['day', d.day, localTimestamp(d.from, tz), localTimestamp(d.to, tz), ...figureCells(r, d)]),
  ];
  return csv(REPORT_CSV_HEADER, rows);
}

export function callsCsv(calls: readonly CallRecord[], tz: string, shortAbandonMs: number): string {
  return csv(
    [
      'call_id',
      'arrived_local',
      'caller_id',
      'called',
      'outcome',
      'counted_as',
      'why',
      'answered_by',
      'answered_local',
      'wait_s',
      'ended_local',
      'final_code',
      'probe',
    ],
    calls.map((c) => {
      const k = classifyCall(c, { shortAbandonMs });
      return [
        c.callId,
        localTimestamp(c.arrivedAt, tz),
        c.callerId,
        c.called,
        c.outcome,
        k.kind === 'served' ? 'answered' : k.kind === 'unserved' ? 'unanswered' : 'not counted',
        'why' in k ? k.why : '',
        c.answeredBy,
        localTimestamp(c.answeredAt, tz),
        seconds(c.waitMs),
        localTimestamp(c.endedAt, tz),
        c.finalCode,
        c.probe ? 'yes' : 'no',
      ];
    }),
  );
}

export function deviationsCsv(ds: readonly Deviation[], tz: string): string {
  return csv(
    [
      'id',
      'opened_local',
      'opened_by',
      'kind',
      'subsystem',
      'title_en',
      'title_nb',
      'occurrences',
      'last_occurrence_local',
      'state',
      'acknowledged_local',
      'acknowledged_by',
      'acknowledge_comment',
      'closed_local',
      'closed_by',
      'close_comment',
    ],
    ds.map((d) => [
      d.id,
      localTimestamp(d.openedAt, tz),
      d.openedBy,
      d.kind,
      d.subsystem,
      d.titleEn,
      d.titleNb,
      d.occurrences,
      localTimestamp(d.lastEventAt, tz),
      d.state,
      localTimestamp(d.ack?.at ?? null, tz),
      d.ack?.by,
      d.ack?.comment,
      localTimestamp(d.closed?.at ?? null, tz),
      d.closed?.by,
      d.closed?.comment,
    ]),
  );
}

export function dutiesCsv(runs: readonly DutyRun[], tz: string): string {
  return csv(
    ['id', 'duty', 'trigger', 'scheduled_local', 'started_local', 'finished_local', 'outcome', 'detail'],
    runs.map((r) => [
      r.id,
      r.duty,
      r.trigger,
      localTimestamp(r.scheduledFor, tz),
      localTimestamp(r.startedAt, tz),
      localTimestamp(r.finishedAt, tz),
      r.outcome,
      r.detail,
    ]),
  );
}
