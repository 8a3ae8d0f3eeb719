/**
 * The evidence report for any period: availability and answer-time compliance
 * per day, per month and in total, time on backup, the lost time, the
 * unanswered calls, the deviations and the duty log — gathered from the store
 * and computed by the pure core (core/evidence.ts). Renderers: reportCsv.ts,
 * reportHtml.ts.
 */
import type { EvidenceConfig } from '../config/evidence.js';
import {
  type AnswerTimeFigures,
  type AvailabilityFigures,
  answerTimes,
  assembleCalls,
  availability,
  backupIntervals,
  type CallRecord,
  callsByDay,
  classifyCall,
  daysOf,
  type Interval,
  outageIntervals,
  overlapMs,
} from '../core/evidence.js';
import type { Deviation, DutyRun, EvidenceStore } from '../store/evidenceStore.js';
import { type Definition, definitions } from './definitions.js';

export interface PeriodFigures {
  availability: AvailabilityFigures & { targetMet: boolean | null };
  answer: AnswerTimeFigures;
  /** Time calls were routed to the backup centre. */
  backupMs: number;
}

export interface UnservedCall {
  callId: string;
  arrivedAt: number;
  outcome: CallRecord['outcome'];
  why: string;
  waitMs: number | null;
  answeredBy: string | null;
}

export interface EvidenceReport {
  box: string;
  generatedAt: number;
  timeZone: string;
  period: { from: number; to: number };
  targets: {
    availabilityPercent: number;
    bucketS: number;
    answerLimitS: number;
    answerTargetPercent: number;
    answerMaxS: number;
    shortAbandonS: number;
  };
  total: PeriodFigures;
  days: Array<PeriodFigures & { day: string; from: number; to: number }>;
  months: Array<PeriodFigures & { month: string }>;
  /** Down / not observed stretches (consecutive intervals joined). */
  lostTime: Array<Interval & { state: 'down' | 'unobserved' }>;
  unservedCalls: UnservedCall[];
  deviations: Deviation[];
  duties: DutyRun[];
  definitions: Definition[];
  /** Things the reader must know (e.g. no call records configured). */
  notes: string[];
}

export interface ReportSources {
  evidence: EvidenceStore;
  cfg: EvidenceConfig;
  box: string;
  /** False when Kamailio writes no call records: the call figures are then empty, and the report says so. */
  callRecordsEnabled: boolean;
}

function limits(cfg: EvidenceConfig) {
  return {
    limitMs: cfg.answerTime.limitS * 1000,
    targetPercent: cfg.answerTime.targetPercent,
    maxMs: cfg.answerTime.maxS * 1000,
    shortAbandonMs: cfg.availability.shortAbandonS * 1000,
  };
}

/** The calls that arrived in [from, to), assembled (`now` decides pending vs lost). */
export function callsIn(src: Pick<ReportSources, 'evidence' | 'cfg'>, from: number, to: number, now: number): CallRecord[] {
  return assembleCalls(src.evidence.milestonesForArrivals(from, to), now, src.cfg.availability.lostAfterS * 1000);
}

export function buildReport(src: ReportSources, period: { from: number; to: number }, now: number): EvidenceReport {
  const { cfg } = src;
  const tz = cfg.timeZone;
  const { from, to } = period;
  if (!(to > from)) throw new Error('the report period is empty (to must be after from)');
  const lim = limits(cfg);
  const calls = callsIn(src, from, to, now);
  const unservedCalls: UnservedCall[] = [];
  const unservedArrivals: number[] = [];
  for (const c of calls) {
    const k = classifyCall(c, lim);
    if (k.kind === 'unserved') {
      unservedArrivals.push(c.arrivedAt);
      unservedCalls.push({ callId: c.callId, arrivedAt: c.arrivedAt, outcome: c.outcome, why: k.why, waitMs: c.waitMs, answeredBy: c.answeredBy });
    }
  }
  const observed = src.evidence.coverage(from, to);
  const outages = outageIntervals(src.evidence.outageSamples(cfg.availability.outageSignals, from, to), observed);
  const avail = availability({
    from,
    to,
    now,
    bucketMs: cfg.availability.bucketS * 1000,
    tz,
    unservedArrivals,
    outages,
    observed,
  });
  const routes = src.evidence.routeChanges(from, to);
  const backup = backupIntervals(routes.initial, routes.changes, from, Math.min(to, now));
  const withTarget = (f: AvailabilityFigures) => ({ ...f, targetMet: f.percent === null ? null : f.percent >= cfg.availability.targetPercent });
  const empty = withTarget({ buckets: 0, up: 0, down: 0, unobserved: 0, percent: null, observedPercent: null, bucketMs: cfg.availability.bucketS * 1000 });

  const perDayCalls = callsByDay(calls, tz);
  const days = daysOf(from, to, tz).map((d) => ({
    day: d.key,
    from: d.start,
    to: d.end,
    availability: withTarget(avail.byDay.get(d.key) ?? empty),
    answer: answerTimes(perDayCalls.get(d.key) ?? [], lim),
    backupMs: overlapMs(backup, d.start, d.end),
  }));
  const monthKeys = [...new Set(days.map((d) => d.day.slice(0, 7)))];
  const months = monthKeys.map((m) => {
    const ds = days.filter((d) => d.day.startsWith(m));
    return {
      month: m,
      availability: withTarget(avail.byMonth.get(m) ?? empty),
      answer: answerTimes(
        ds.flatMap((d) => perDayCalls.get(d.day) ?? []),
        lim,
      ),
      backupMs: ds.reduce((s, d) => s + d.backupMs, 0),
    };
  });
  const notes: string[] = [];
  if (!src.callRecordsEnabled) {
    notes.push(
      'Kamailio writes no call records (calls.callRecords.enabled is false): call counts and answer times are empty, and availability rests on outages only. / Kamailio skriver ingen anropsposter: anropstall og svartider mangler.',
    );
  }
  if (to > now)
    notes.push('The period reaches into the future: only intervals already over are counted. / Perioden er ikke slutt: bare intervaller som er over, er telt.');
  return {
    box: src.box,
    generatedAt: now,
    timeZone: tz,
    period: { from, to },
    targets: {
      availabilityPercent: cfg.availability.targetPercent,
      bucketS: cfg.availability.bucketS,
      answerLimitS: cfg.answerTime.limitS,
      answerTargetPercent: cfg.answerTime.targetPercent,
      answerMaxS: cfg.answerTime.maxS,
      shortAbandonS: cfg.availability.shortAbandonS,
    },
    total: { availability: withTarget(avail.total), answer: answerTimes(calls, lim), backupMs: overlapMs(backup, from, to) },
    days,
    months,
    lostTime: avail.lost,
    unservedCalls,
    deviations: src.evidence.deviations({ from, to }),
    duties: src.evidence.dutyRuns({ from, to }),
    definitions: definitions(cfg),
    notes,
  };
}
