/**
 * Config for operational evidence (issue #10, KoKom T1/T15/T16/T17/T20): how
 * availability and answer-time figures are defined and judged, which events
 * open a deviation, and the scheduled duties (daily summary, monthly report,
 * retention) with their node-cron expressions.
 *
 *   evidence:
 *     timeZone: Europe/Oslo
 *     availability: { targetPercent: 99.7, bucketS: 60 }
 *     answerTime: { limitS: 300, targetPercent: 90, maxS: 600 }
 *     duties:
 *       dailySummary: { schedule: "5 0 * * *" }
 *       monthlyReport: { schedule: "15 0 1 * *" }
 *       retention: { schedule: "30 3 * * *", callRecordsDays: 1095 }
 *
 * Where Kamailio writes its call records is `calls.callRecords.dir` (the
 * Kamailio cfg is rendered from the calls section).
 */
import { z } from 'zod';

const CRON_FIELDS = [5, 6];
/** node-cron expression, 5 fields (minute…weekday) or 6 (second first). Checked again with cron.validate at start. */
export const cronExpr = z
  .string()
  .refine((s) => CRON_FIELDS.includes(s.trim().split(/\s+/).length), { message: 'expected a cron expression with 5 or 6 fields, e.g. "5 0 * * *"' });

const timeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected an IANA time zone such as Europe/Oslo' },
);

export const availabilitySchema = z.strictObject({
  /** The figure the municipality promised (KoKom: above 99 %, e.g. 99.7 %). */
  targetPercent: z.number().min(0).max(100).default(99.7),
  /**
   * Length of one availability interval (s). The period is cut into intervals from
   * local midnight; an interval is "fully available" only if no offered call in it
   * went unanswered and no outage overlaps it. Must divide an hour so intervals
   * stay aligned across daylight-saving changes.
   */
  bucketS: z
    .number()
    .int()
    .min(1)
    .max(3600)
    .refine((s) => 3600 % s === 0, { message: 'bucketS must divide 3600 (e.g. 60, 300, 900)' })
    .default(60),
  /**
   * Signal keys (or key prefixes ending in ".") whose `fail`/`unknown` status means
   * calls cannot be taken at all, e.g. Kamailio not answering. Such time is downtime
   * even when no call arrived.
   */
  outageSignals: z.array(z.string().min(1)).default(['telephony.kamailio']),
  /**
   * A caller who hangs up before this many seconds of waiting is a "short abandon"
   * (misdial, changed mind) and is not counted; a longer abandon is an unanswered call.
   */
  shortAbandonS: z.number().min(0).max(120).default(10),
  /** A call with no outcome recorded this long after it arrived is counted as lost (unanswered). */
  lostAfterS: z.number().int().min(60).max(86_400).default(900),
});

export const answerTimeSchema = z.strictObject({
  /** KoKom T20: answered within 5 minutes … */
  limitS: z.number().positive().default(300),
  /** … for at least this share of the day's offered calls … */
  targetPercent: z.number().min(0).max(100).default(90),
  /** … and no caller waits longer than this. */
  maxS: z.number().positive().default(600),
});

const duty = (schedule: string) =>
  z.strictObject({
    enabled: z.boolean().default(true),
    schedule: cronExpr.default(schedule),
  });

export const dutiesSchema = z.strictObject({
  /** Yesterday's figures, recorded as an event (and a deviation if a target was missed). */
  dailySummary: duty('5 0 * * *').prefault({}),
  /** Last month's report written as CSV + HTML into `reportsDir`. */
  monthlyReport: duty('15 0 1 * *').prefault({}),
  /** Deletes what is past its keeping time; rotates Kamailio's call-record files. */
  retention: z
    .strictObject({
      enabled: z.boolean().default(true),
      schedule: cronExpr.default('30 3 * * *'),
      /**
       * Call records carry the caller's number (T22) and belong to the case; kept as
       * long as the audio log (akuttmedisinforskriften § 20: 3 years), then deleted.
       * Daily summaries (no personal data) are kept.
       */
      callRecordsDays: z.number().int().min(1).default(1095),
      /** Duty log and closed deviations. */
      dutyRunsDays: z.number().int().min(30).default(1825),
    })
    .prefault({}),
  /**
   * A scheduled run that did not happen (box off) is noticed at start and then every
   * `missedCheckS`; duties other than the drill are caught up once.
   */
  missedCheckS: z.number().int().min(1).max(86_400).default(300),
  /** How far back missed runs are looked for (days). */
  missedLookbackDays: z.number().int().min(1).max(400).default(35),
  /** A run is "missed" only this long after it was due (a run in progress is not missed). */
  graceS: z.number().int().min(0).max(86_400).default(600),
});

export const deviationsSchema = z.strictObject({
  /** Every `alarm` event opens a deviation, except these kinds. */
  ignoreKinds: z.array(z.string().min(1)).default(['drill.step', 'alarm.acknowledged']),
  /** Warnings that open a deviation too. */
  alsoKinds: z.array(z.string().min(1)).default(['duty.missed', 'evidence.gap', 'kamailio.restarted', 'evidence.target.missed']),
});

export const evidenceSchema = z.strictObject({
  /** Days, months and printed times are in this zone. */
  timeZone: timeZone.default('Europe/Oslo'),
  availability: availabilitySchema.prefault({}),
  answerTime: answerTimeSchema.prefault({}),
  deviations: deviationsSchema.prefault({}),
  duties: dutiesSchema.prefault({}),
  /** How often Kamailio's call-record files are read (ms). Reports read them first anyway. */
  ingestEveryMs: z.number().int().min(100).max(600_000).default(5000),
  /** How often the supervisor marks itself as observing (s): the gaps are "not observed" time. */
  heartbeatS: z.number().int().min(1).max(600).default(30),
  /** Monthly reports are written here; default `<box.dataDir>/reports`. */
  reportsDir: z.string().min(1).optional(),
});

export type EvidenceConfig = z.infer<typeof evidenceSchema>;
export type EvidenceConfigInput = z.input<typeof evidenceSchema>;
