/**
 * Operational evidence, wired: reads Kamailio's call records, marks the time
 * the supervisor was watching, keeps the deviations register from the
 * supervisor's events, records the drill's runs, runs the duties (daily
 * summary, monthly report, retention) and answers report requests. The
 * composition root (app.ts) constructs it before `supervisor.start()` and
 * stops it after `api.close()`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvidenceConfig } from '../config/evidence.js';
import { dayKey, dayStart, monthStart, nextMonthKey, type CallRecord } from '../core/evidence.js';
import { Duties, type DutyOutcome } from '../jobs/duties.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import { EvidenceStore } from '../store/evidenceStore.js';
import type { LiveMessage } from '../supervisor.js';
import { lastSlotAtOrBefore } from './cronSlots.js';
import { DeviationRegister, type RecordEvent } from './deviations.js';
import { duration, localTimestamp, pct } from './format.js';
import { CallRecordIngester } from './ingest.js';
import { buildReport, callsIn, type EvidenceReport } from './report.js';
import { reportCsv } from './reportCsv.js';
import { reportOffThread } from './reportOffThread.js';
import { reportHtml } from './reportHtml.js';

/** What the service needs from the Supervisor (its live channel and its event recorder). */
export interface EventSource {
  on(event: 'live', listener: (m: LiveMessage) => void): unknown;
  off(event: 'live', listener: (m: LiveMessage) => void): unknown;
  event: RecordEvent;
}

export interface EvidenceServiceDeps {
  cfg: EvidenceConfig;
  box: string;
  /** box.dataDir: reports go to `<dataDir>/reports` unless evidence.reportsDir is set. */
  dataDir: string;
  /** The supervisor's SQLite connection (Store.db), migrated. */
  db: Db;
  supervisor: EventSource;
  now: () => number;
  log: Logger;
  /** calls.callRecords.dir when Kamailio writes call records; null otherwise. */
  callRecordsDir: string | null;
  /** calls.drill when enabled: its runs are logged as duty `drill` and a missed drill is noticed. */
  drill?: { schedule: string; timeZone?: string } | null;
  /** Asks Kamailio to reopen its call-record files (JSON-RPC `flatstore.k_rotate`). */
  reopenCallRecords?: () => Promise<void>;
}

/** The previous local day of the day containing `t`. */
function previousDay(t: number, tz: string): { key: string; from: number; to: number } {
  const todayStart = dayStart(dayKey(t, tz), tz);
  const key = dayKey(todayStart - 1, tz);
  return { key, from: dayStart(key, tz), to: todayStart };
}

export class EvidenceService {
  readonly store: EvidenceStore;
  readonly deviations: DeviationRegister;
  readonly duties: Duties;
  readonly ingester: CallRecordIngester | null;
  private coverageId: number | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private readonly listener = (m: LiveMessage) => this.onLive(m);
  private pendingDrill: { startedAt: number; slot: number | null } | null = null;

  constructor(private readonly d: EvidenceServiceDeps) {
    this.store = new EvidenceStore(d.db);
    const record: RecordEvent = (e) => d.supervisor.event(e);
    this.deviations = new DeviationRegister({ store: this.store, rules: d.cfg.deviations, now: d.now, record });
    this.ingester = d.callRecordsDir
      ? new CallRecordIngester({
          dir: d.callRecordsDir,
          store: this.store,
          now: d.now,
          log: d.log,
          ...(d.reopenCallRecords ? { reopen: d.reopenCallRecords } : {}),
        })
      : null;
    const du = d.cfg.duties;
    this.duties = new Duties({
      store: this.store,
      tz: d.cfg.timeZone,
      now: d.now,
      graceMs: du.graceS * 1000,
      lookbackMs: du.missedLookbackDays * 86_400_000,
      missedCheckMs: du.missedCheckS * 1000,
      record,
      log: d.log,
    });
    if (du.dailySummary.enabled)
      this.duties.add({ name: 'daily-summary', schedule: du.dailySummary.schedule, catchUp: 'each', run: (c) => this.dailySummary(c.scheduledFor) });
    if (du.monthlyReport.enabled)
      this.duties.add({ name: 'monthly-report', schedule: du.monthlyReport.schedule, catchUp: 'each', run: (c) => this.monthlyReport(c.scheduledFor) });
    if (du.retention.enabled) this.duties.add({ name: 'retention', schedule: du.retention.schedule, catchUp: 'once', run: () => this.retention() });
    if (d.drill) {
      // The drill itself is scheduled by jobs/drillSchedule.ts (node-cron in the system zone).
      this.duties.add({ name: 'drill', schedule: d.drill.schedule, catchUp: 'none', graceMs: 30 * 60_000, tz: this.drillTz() });
    }
  }

  private drillTz(): string {
    return this.d.drill?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  /** Abandons shorter than this are not counted (for the calls export). */
  get shortAbandonMs(): number {
    return this.d.cfg.availability.shortAbandonS * 1000;
  }

  get reportsDir(): string {
    return this.d.cfg.reportsDir ?? path.join(this.d.dataDir, 'reports');
  }

  /** Call before supervisor.start() so no event is missed. */
  async start(): Promise<void> {
    const now = this.d.now();
    this.d.supervisor.on('live', this.listener);
    this.coverageId = this.store.beginCoverage(now);
    const prev = this.store.previousCoverage(this.coverageId);
    const hbMs = this.d.cfg.heartbeatS * 1000;
    if (prev && now - prev.to > 2 * hbMs) {
      this.d.supervisor.event({
        kind: 'evidence.gap',
        severity: 'warn',
        subsystem: 'system',
        en: `Vaktpost was not running from ${localTimestamp(prev.to, this.d.cfg.timeZone)} to ${localTimestamp(now, this.d.cfg.timeZone)} (${duration(now - prev.to)}): that time is "not observed" in the availability figures`,
        nb: `Vaktpost kjørte ikke fra ${localTimestamp(prev.to, this.d.cfg.timeZone)} til ${localTimestamp(now, this.d.cfg.timeZone)} (${duration(now - prev.to)}): den tiden er «ikke observert» i tilgjengelighetstallene`,
        data: { key: 'supervisor', from: prev.to, to: now },
      });
    }
    this.heartbeat = setInterval(() => {
      if (this.coverageId !== null) this.store.extendCoverage(this.coverageId, this.d.now());
    }, hbMs);
    this.heartbeat.unref();
    if (this.ingester) {
      await this.ingester.ensureDir().catch((err: Error) => this.d.log.error({ err: err.message }, 'call records unavailable'));
      await this.ingester.ingestNow().catch(() => undefined);
      this.ingester.start(this.d.cfg.ingestEveryMs);
    } else {
      this.d.log.warn({}, 'Kamailio writes no call records (calls.callRecords disabled or no calls section): reports carry no call figures');
    }
    await this.duties.start();
  }

  async stop(): Promise<void> {
    this.d.supervisor.off('live', this.listener);
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
    this.ingester?.stop();
    await this.duties.stop();
    if (this.coverageId !== null) this.store.extendCoverage(this.coverageId, this.d.now());
    this.coverageId = null;
  }

  private onLive(m: LiveMessage): void {
    if (m.type !== 'event') return;
    const e = m.event;
    try {
      this.deviations.onEvent(e);
      this.onDrillEvent(e.kind, e.actor ?? null, e.at, e.en, e.data);
    } catch (err) {
      this.d.log.error({ err: (err as Error).message, event: e.kind }, 'evidence could not record an event');
    }
  }

  private onDrillEvent(kind: string, actor: string | null, at: number, text: string, data: unknown): void {
    if (!this.d.drill || !kind.startsWith('drill.')) return;
    const scheduled = actor === 'schedule';
    if (kind === 'drill.start') {
      this.pendingDrill = { startedAt: at, slot: scheduled ? lastSlotAtOrBefore(this.d.drill.schedule, at, this.drillTz()) : null };
      return;
    }
    if (kind !== 'drill.passed' && kind !== 'drill.failed' && kind !== 'drill.skipped') return;
    const pending = this.pendingDrill;
    this.pendingDrill = null;
    const slot = scheduled ? (pending?.slot ?? lastSlotAtOrBefore(this.d.drill.schedule, at, this.drillTz())) : null;
    this.duties.recordRun('drill', {
      trigger: scheduled ? 'schedule' : 'manual',
      scheduledFor: slot,
      startedAt: pending?.startedAt ?? at,
      finishedAt: at,
      outcome: kind.slice('drill.'.length),
      detail: text,
      data,
    });
  }

  private async freshen(): Promise<string | null> {
    if (this.coverageId !== null) this.store.extendCoverage(this.coverageId, this.d.now());
    if (!this.ingester) return null;
    try {
      await this.ingester.ingestNow();
      return null;
    } catch (err) {
      return `Call records could not be read just now (${(err as Error).message}); figures use what was read before.`;
    }
  }

  /**
   * The report for [from, to), after reading the newest call records. Built in a
   * worker thread (its own read-only connection) so the supervisor's loop never
   * waits for it; an in-memory store (tests) is read in place.
   */
  async report(period: { from: number; to: number }): Promise<EvidenceReport> {
    const problem = await this.freshen();
    const src = { cfg: this.d.cfg, box: this.d.box, callRecordsEnabled: this.ingester !== null };
    const dbFile = this.d.db.memory ? null : this.d.db.name;
    const r = dbFile
      ? await reportOffThread({ ...src, dbFile, period, now: this.d.now() })
      : buildReport({ ...src, evidence: this.store }, period, this.d.now());
    if (problem) r.notes.push(problem);
    return r;
  }

  async calls(period: { from: number; to: number }): Promise<CallRecord[]> {
    await this.freshen();
    return callsIn({ evidence: this.store, cfg: this.d.cfg }, period.from, period.to, this.d.now());
  }

  // --- duties ------------------------------------------------------------------

  private async dailySummary(scheduledFor: number | null): Promise<DutyOutcome> {
    const tz = this.d.cfg.timeZone;
    const day = previousDay(scheduledFor ?? this.d.now(), tz);
    const r = await this.report({ from: day.from, to: day.to });
    const a = r.total.availability;
    const w = r.total.answer;
    const figures = { day: day.key, availability: a, answer: w, backupMs: r.total.backupMs, deviationsOpen: this.store.countOpenDeviations() };
    this.store.saveDailySummary(day.key, this.d.now(), figures);
    const line =
      `${day.key}: availability ${pct(a.percent)} % (target ${r.targets.availabilityPercent} %), ` +
      `${w.offered} calls, ${pct(w.sharePercent)} % answered within ${r.targets.answerLimitS} s, longest wait ${duration(w.longestWaitMs)}, ` +
      `${w.overMax} over ${r.targets.answerMaxS} s, on backup ${duration(r.total.backupMs)}`;
    const lineNb =
      `${day.key}: tilgjengelighet ${pct(a.percent)} % (mål ${r.targets.availabilityPercent} %), ` +
      `${w.offered} anrop, ${pct(w.sharePercent)} % besvart innen ${r.targets.answerLimitS} s, lengste ventetid ${duration(w.longestWaitMs)}, ` +
      `${w.overMax} over ${r.targets.answerMaxS} s, på reserve ${duration(r.total.backupMs)}`;
    this.d.supervisor.event({ kind: 'evidence.daily', severity: 'info', en: `Daily summary ${line}`, nb: `Døgnrapport ${lineNb}`, data: figures });
    const misses: string[] = [];
    if (a.targetMet === false) misses.push('availability');
    if (w.shareMet === false) misses.push('answer-time share');
    if (!w.maxMet) misses.push('longest wait');
    if (misses.length > 0) {
      this.d.supervisor.event({
        kind: 'evidence.target.missed',
        severity: 'warn',
        en: `Targets missed on ${day.key}: ${misses.join(', ')} — ${line}`,
        nb: `Mål ikke nådd ${day.key}: ${misses.join(', ')} — ${lineNb}`,
        data: { key: day.key, misses, figures },
      });
    }
    return { outcome: 'ok', detail: line, data: figures };
  }

  private async monthlyReport(scheduledFor: number | null): Promise<DutyOutcome> {
    const tz = this.d.cfg.timeZone;
    const ref = scheduledFor ?? this.d.now();
    const thisMonth = dayKey(ref, tz).slice(0, 7);
    const lastMonth = dayKey(monthStart(thisMonth, tz) - 1, tz).slice(0, 7);
    const r = await this.report({ from: monthStart(lastMonth, tz), to: monthStart(nextMonthKey(lastMonth), tz) });
    await mkdir(this.reportsDir, { recursive: true });
    const base = path.join(this.reportsDir, `vaktpost-${this.d.box.replace(/[^A-Za-z0-9_-]/g, '_')}-${lastMonth}`);
    await writeFile(`${base}.csv`, reportCsv(r));
    await writeFile(`${base}.html`, reportHtml(r));
    const a = r.total.availability;
    this.d.supervisor.event({
      kind: 'evidence.monthly',
      severity: 'info',
      en: `Monthly report ${lastMonth} written to ${base}.html/.csv: availability ${pct(a.percent)} %`,
      nb: `Månedsrapport ${lastMonth} skrevet til ${base}.html/.csv: tilgjengelighet ${pct(a.percent)} %`,
      data: { month: lastMonth, files: [`${base}.csv`, `${base}.html`] },
    });
    return { outcome: 'ok', detail: `${lastMonth}: ${base}.html, ${base}.csv`, data: { month: lastMonth } };
  }

  private async retention(): Promise<DutyOutcome> {
    const now = this.d.now();
    const keep = this.d.cfg.duties.retention;
    const parts: string[] = [];
    if (this.ingester && this.d.reopenCallRecords) {
      const rot = await this.ingester.rotate(this.d.reopenCallRecords);
      parts.push(rot.detail);
    } else if (this.ingester) {
      await this.ingester.ingestNow();
    }
    const calls = this.store.deleteCallsBefore(now - keep.callRecordsDays * 86_400_000);
    const runs = this.store.deleteDutyRunsBefore(now - keep.dutyRunsDays * 86_400_000);
    const devs = this.store.deleteClosedDeviationsBefore(now - keep.dutyRunsDays * 86_400_000);
    parts.push(
      `${calls} call record line(s) older than ${keep.callRecordsDays} days deleted`,
      `${runs} duty run(s) and ${devs} closed deviation(s) older than ${keep.dutyRunsDays} days deleted`,
    );
    return { outcome: 'ok', detail: parts.join('; ') };
  }
}
