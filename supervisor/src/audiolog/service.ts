/**
 * The audio log as one service for the composition root: the spool watcher and
 * the ingest queue (rtpengine spool → archive), Kamailio's call events and the
 * audit, the monitors (recording health, periodic known-audio test call),
 * retention, and what the API and CLI need (verify, export, holds, access log).
 *
 * app.ts: construct with `createAudioLog`, `await start()` BEFORE the supervisor
 * starts (the call-event socket must be up when calls connect), push `monitors`
 * into the supervisor's monitors, `stop()` after the supervisor stops.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { callIdFromSpoolName } from '../../../hardware/rtpengine/metadata.js';
import { RtpengineNg } from '../../../hardware/rtpengine/ng.js';
import { rtpStreamCounts } from '../../../hardware/rtpengine/streamStats.js';
import type { ResolvedAudiologConfig } from '../config/audiolog.js';
import type { CallsConfig } from '../config/calls.js';
import type { Logger } from '../log.js';
import type { Guard } from '../guard.js';
import { controlKeys } from '../reconcilers/kamailio/controlSecret.js';
import type { Clock, Monitor } from '../monitors/monitor.js';
import { RecordingMonitor } from '../monitors/recordingMonitor.js';
import { RecordingTestCallMonitor } from '../monitors/recordingTestCall.js';
import { AudiologStore, type RecordingRow } from '../store/audiologStore.js';
import type { Db } from '../store/db.js';
import type { EventInput } from '../store/store.js';
import { mkdirPrivate } from './archive.js';
import { type AuditFinding, CallAudit } from './callAudit.js';
import { type CallEvent, CallEventListener, type CallEventRejection } from './callEvents.js';
import { Converter } from './converter.js';
import { RecordingNotice, writeNoticeFile } from './notice.js';
import { type IngestStep, Ingester, type IngestResult } from './ingest.js';
import { MediaCounters } from './mediaCounters.js';
import type { RtpengineRestart } from './rtpengineRestarts.js';
import { sideName } from './verdictText.js';
import { SpoolWatcher, spoolPendingSources } from './spoolWatcher.js';

export type AudiologEvent = Omit<EventInput, 'at'>;

export interface AudioLogDeps {
  /** `audiolog:` with the archive folder resolved (resolveAudiologConfig(cfg.audiolog, cfg.box.dataDir)). */
  cfg: ResolvedAudiologConfig;
  /** `calls.recording` (the ng socket, the event port, the test number) and where Kamailio listens. */
  calls: Pick<CallsConfig, 'recording' | 'sip'>;
  db: Db;
  clock: Clock;
  log: Logger;
  /** The supervisor's guard: a fault in the recording monitor's poll is logged and alarmed once. */
  guard?: Guard;
  /** Supervisor.event (alarms and the access log's visible side). */
  event: (e: AudiologEvent) => void;
  /** Crash-test hook for the ingest (tests only). */
  faultPoint?: (step: IngestStep, source: string) => void;
  /** Run the periodic test call (default: cfg.testCall.enabled). */
  testCall?: boolean;
  /**
   * The box's control secret Kamailio puts in every call event
   * (reconcilers/kamailio/controlSecret.ts). Absent: a random one, i.e. no call
   * event is accepted at all (for tests that do not use Kamailio's events).
   */
  controlSecret?: string;
}

/** Dropped call events raise at most one alarm per this long (the counter keeps counting). */
const FORGED_EVENT_ALARM_EVERY_MS = 60_000;

export class AudioLog {
  readonly store: AudiologStore;
  readonly ng: RtpengineNg;
  readonly audit: CallAudit;
  readonly monitors: Monitor[] = [];
  readonly recordingMonitor: RecordingMonitor;
  readonly testCall: RecordingTestCallMonitor | null = null;
  private readonly converter = new Converter();
  /** rtpengine's packet counters of the calls being recorded (the judge's evidence of what was sent). */
  private readonly counters = new MediaCounters();
  private readonly ingester: Ingester;
  private readonly watcher: SpoolWatcher;
  private readonly events: CallEventListener;
  private readonly queue = new Map<string, number>();
  private readonly failed = new Map<string, string>();
  private draining: Promise<void> | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private readonly waiters = new Set<(r: RecordingRow) => void>();
  private stopped = false;
  private readonly notice: RecordingNotice | null;
  /** The recordings the first spool scan found, not yet tried (null: that scan has not run). */
  private startupBacklog: Set<string> | null = null;
  /** When the last "call event dropped" alarm went out (null: none yet). */
  private lastRejectedAlarmAt: number | null = null;
  /** Every recording in the spool at start-up has been tried: the audit may settle deadlines. */
  private spoolCaughtUp = false;

  constructor(private readonly d: AudioLogDeps) {
    const cfg = d.cfg;
    const rec = d.calls.recording;
    this.store = new AudiologStore(d.db);
    this.ng = new RtpengineNg({ host: rec.rtpengine.host, port: rec.rtpengine.port, timeoutMs: 500, attempts: 2 });
    this.notice = rec.notice.enabled ? new RecordingNotice(this.ng, rec.notice.file) : null;
    const limits = { completeRatio: cfg.checks.completeRatio, incompleteMinMissingMs: cfg.checks.incompleteMinMissingMs };
    this.audit = new CallAudit({
      store: this.store,
      now: d.clock.now,
      limits,
      graceMs: cfg.checks.recordingGraceMs,
      maxCallMs: cfg.checks.maxCallMs,
      onFinding: (f) => this.finding(f),
      ready: () => this.spoolCaughtUp,
      pendingCallIds: () => new Set(this.pendingSources().map((n) => callIdFromSpoolName(n) ?? n)),
    });
    this.ingester = new Ingester({
      store: this.store,
      converter: this.converter,
      archiveDir: cfg.archiveDir,
      spoolDir: cfg.rtpengine.spoolDir,
      keepPcap: cfg.keepPcap,
      limits,
      now: d.clock.now,
      callInfo: (callId) => this.store.call(callId),
      mediaCounts: (callId) => this.counters.get(callId),
      restartDuring: (from, to) => this.recordingMonitor.restarts.during(from, to),
      ...(d.faultPoint ? { faultPoint: d.faultPoint } : {}),
    });
    this.watcher = new SpoolWatcher({
      metadataDir: path.join(cfg.rtpengine.spoolDir, 'metadata'),
      rescanMs: Math.max(1000, cfg.checks.pollMs * 2),
      onFile: (name) => this.enqueue(name),
    });
    this.events = new CallEventListener({
      port: rec.eventsPort,
      secret: controlKeys(d.controlSecret ?? randomBytes(32).toString('hex')).events,
      onEvent: (e) => this.onCallEvent(e),
      onRejected: (r) => this.callEventRejected(r),
    });
    this.recordingMonitor = new RecordingMonitor({
      ...(d.guard ? { guard: d.guard } : {}),
      ng: this.ng,
      spoolDir: cfg.rtpengine.spoolDir,
      archiveDir: cfg.archiveDir,
      store: this.store,
      audit: this.audit,
      checks: cfg.checks,
      clock: d.clock,
      backlog: () => this.backlog(),
      onCallQueried: (callId, answer, at) => this.counters.record(callId, rtpStreamCounts(answer), at),
      onRestart: (r, calls) => this.rtpengineRestarted(r, calls),
      adopt: async (tmp) => {
        const name = await this.ingester.adopt(tmp);
        if (name) {
          this.d.event({
            kind: 'recording.orphanAdopted',
            severity: 'warn',
            subsystem: 'recording',
            en: `An in-progress recording rtpengine abandoned (${tmp}) is archived as incomplete`,
            nb: `Et opptak rtpengine forlot underveis (${tmp}) arkiveres som ufullstendig`,
          });
          this.enqueue(name);
        }
      },
      onSpoolRecreated: (dir) =>
        this.d.event({
          kind: 'recording.spoolRecreated',
          severity: 'alarm',
          subsystem: 'recording',
          en: `rtpengine's spool folder ${dir} was missing and has been recreated; calls in between were not recorded`,
          nb: `rtpengines mappe ${dir} manglet og er opprettet på nytt; samtaler i mellomtiden ble ikke tatt opp`,
        }),
    });
    this.monitors.push(this.recordingMonitor);
    if (d.testCall ?? cfg.testCall.enabled) {
      this.testCall = new RecordingTestCallMonitor({
        kamailio: { host: '127.0.0.1', port: d.calls.sip.port },
        testNumber: rec.testNumber,
        intervalMs: cfg.testCall.intervalMin * 60_000,
        durationMs: cfg.testCall.durationMs,
        timeoutMs: cfg.testCall.timeoutMs,
        clock: d.clock,
        waitForRecording: (callId, timeoutMs) => this.waitForRecording(callId, timeoutMs),
        whyNotRecorded: (callId) => this.whyNotRecorded(callId),
        archivePath: (r, file) => this.filePath(r, file),
      });
      this.monitors.push(this.testCall);
    }
  }

  get archiveDir(): string {
    return this.d.cfg.archiveDir;
  }

  get spoolDir(): string {
    return this.d.cfg.rtpengine.spoolDir;
  }

  filePath(r: Pick<RecordingRow, 'dir'>, file: string): string {
    return path.join(this.d.cfg.archiveDir, r.dir, file);
  }

  async start(): Promise<void> {
    this.stopped = false;
    await mkdirPrivate(this.d.cfg.archiveDir);
    for (const sub of ['pcaps', 'tmp', 'metadata']) await mkdir(path.join(this.d.cfg.rtpengine.spoolDir, sub), { recursive: true, mode: 0o750 });
    await this.ingester.discardStaging();
    const n = this.d.calls.recording.notice;
    if (
      n.enabled &&
      !(await stat(n.file).then(
        () => true,
        () => false,
      ))
    ) {
      await mkdir(path.dirname(n.file), { recursive: true });
      await writeNoticeFile(n, n.file);
    }
    await this.events.start();
    this.spoolCaughtUp = false;
    await this.watcher.start();
    // The first scan has queued what rtpengine finished while we were down; the audit's
    // deadlines wait until each of those has been tried (recordings first, verdicts after).
    this.startupBacklog = new Set(this.queue.keys());
    this.triedAtStartup(null);
    const every = this.d.cfg.retention.checkEveryMin * 60_000;
    this.retentionTimer = setInterval(
      () => void this.applyRetention().catch((e: Error) => this.d.log.error({ err: e.message }, 'audiolog retention failed')),
      every,
    );
    this.retentionTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    await this.watcher.stop();
    await this.events.stop();
    await this.draining?.catch(() => undefined);
    await this.converter.close();
  }

  // -- ingest ----------------------------------------------------------------

  private enqueue(name: string): void {
    if (this.stopped) return;
    if (!this.queue.has(name)) this.queue.set(name, this.d.clock.now());
    if (!this.draining) {
      this.draining = this.drain().finally(() => {
        this.draining = null;
      });
    }
  }

  /** Finished recordings waiting (for the "stalled" signal). */
  backlog(): { pending: number; oldestSince: number | null } {
    let oldest: number | null = null;
    for (const t of this.queue.values()) oldest = oldest === null ? t : Math.min(oldest, t);
    return { pending: this.queue.size, oldestSince: oldest };
  }

  /** rtpengine files not archived yet (queued or still in the spool): verify skips their folders. */
  pendingSources(): string[] {
    return [...new Set([...this.queue.keys(), ...spoolPendingSources(this.d.cfg.rtpengine.spoolDir)])];
  }

  /** Has the ingest tried every recording that was in the spool at start-up? */
  get caughtUp(): boolean {
    return this.spoolCaughtUp;
  }

  private triedAtStartup(name: string | null): void {
    if (!this.startupBacklog) return;
    if (name !== null) this.startupBacklog.delete(name);
    if (this.startupBacklog.size > 0) return;
    this.startupBacklog = null;
    this.spoolCaughtUp = true;
    this.d.log.info({}, 'audiolog: the spool found at start-up is ingested; the call audit settles deadlines');
  }

  /** Resolves when every queued recording has been tried (tests, CLI). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    while (this.queue.size > 0 && !this.stopped) {
      const [name] = this.queue.keys() as IterableIterator<string>;
      if (name === undefined) break;
      try {
        const r = await this.ingester.ingest(name);
        this.queue.delete(name);
        this.failed.delete(name);
        this.triedAtStartup(name);
        if (r.outcome === 'archived') {
          this.d.log.info(
            { recording: r.recording.id, callId: r.recording.callId, status: r.recording.status, audioMs: r.recording.audioMs },
            'call recording archived',
          );
          this.counters.forget(r.recording.callId);
          if (r.verdict.status === 'one-sided' && r.recording.kind === 'call') this.oneSided(r);
          this.audit.onRecording(r.recording);
          for (const w of this.waiters) w(r.recording);
        }
      } catch (err) {
        const msg = (err as Error).message;
        // Stays in the spool; the next rescan retries. One alarm per file and cause.
        this.queue.delete(name);
        this.triedAtStartup(name);
        if (this.failed.get(name) !== msg) {
          this.failed.set(name, msg);
          this.d.event({
            kind: 'recording.ingestFailed',
            severity: 'alarm',
            subsystem: 'recording',
            en: `Could not archive the recording ${name}: ${msg} (kept in the spool, retried)`,
            nb: `Kunne ikke arkivere opptaket ${name}: ${msg} (beholdes i spoolen, prøves igjen)`,
          });
        }
        if (this.stopped) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /**
   * The archived recording of a Call-ID as soon as it is archived; null at the
   * deadline, or early once Kamailio has said rtpengine never took the call.
   */
  waitForRecording(callId: string, timeoutMs: number): Promise<RecordingRow | null> {
    const have = this.store.recordingsByCallId(callId)[0];
    if (have) return Promise.resolve(have);
    return new Promise((resolve) => {
      const onRec = (r: RecordingRow) => {
        if (r.callId === callId) done(r);
      };
      const done = (r: RecordingRow | null) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(onRec);
        resolve(r);
      };
      const timer = setTimeout(() => done(this.store.recordingsByCallId(callId)[0] ?? null), timeoutMs);
      const poll = setInterval(() => {
        const c = this.store.call(callId);
        if (c && !c.offered && c.endedAt !== null && this.d.clock.now() - c.endedAt > 1000) done(this.store.recordingsByCallId(callId)[0] ?? null);
      }, 250);
      this.waiters.add(onRec);
    });
  }

  /** Why a call has no recording, in Kamailio's words (null: it may still come). */
  whyNotRecorded(callId: string): string | null {
    const c = this.store.call(callId);
    return c && !c.offered ? 'rtpengine did not take the call (Kamailio could not reach it): it went unrecorded' : null;
  }

  /** A one-way call: recorded as it was on the wire, with a warning naming the side that sent nothing. */
  private oneSided(r: Extract<IngestResult, { outcome: 'archived' }>): void {
    const side = r.verdict.silentSide ?? 'callTaker';
    const name = sideName(side);
    const rec = r.recording;
    const from = rec.caller ? ` from ${rec.caller}` : '';
    const fra = rec.caller ? ` fra ${rec.caller}` : '';
    this.d.event({
      kind: 'recording.oneSided',
      severity: 'warn',
      subsystem: 'recording',
      en: `One-way audio: call ${rec.callId}${from} is recorded one-sided — the ${name.en} sent no audio for the whole call (rtpengine received none); check the ${name.en}'s phone or network`,
      nb: `Enveis lyd: samtale ${rec.callId}${fra} er tatt opp bare fra én side — ${name.nb} sendte ingen lyd i hele samtalen (rtpengine mottok ingen); sjekk telefonen eller nettet til ${name.nb}`,
      data: { key: 'recording.oneSided', params: { side }, recordingId: rec.id, callId: rec.callId },
    });
  }

  /** rtpengine restarted: the calls it was recording lose their recording from that moment. */
  private rtpengineRestarted(r: RtpengineRestart, calls: string[]): void {
    const up = new Date(r.upSince).toISOString();
    const ids = calls.slice(0, 5).join(', ') + (calls.length > 5 ? ', …' : '');
    const lost =
      calls.length > 0
        ? {
            en: `: the recordings of ${calls.length} call(s) in progress end at the restart (${ids}) and are archived as incomplete`,
            nb: `: opptakene av ${calls.length} pågående samtale(r) slutter ved omstarten (${ids}) og arkiveres som ufullstendige`,
          }
        : { en: '; no call was being recorded', nb: '; ingen samtale ble tatt opp' };
    this.d.event({
      kind: 'recording.rtpengineRestarted',
      severity: calls.length > 0 ? 'alarm' : 'warn',
      subsystem: 'recording',
      en: `rtpengine restarted (running again since ${up})${lost.en}`,
      nb: `rtpengine startet på nytt (kjører igjen fra ${up})${lost.nb}`,
      data: { key: 'recording.rtpengineRestarted', upSince: r.upSince, previousUpSince: r.previousUpSince, lastSeenUpAt: r.lastSeenUpAt, calls },
    });
  }

  // -- audit -----------------------------------------------------------------

  private onCallEvent(e: CallEvent): void {
    try {
      this.audit.onCallEvent(e);
    } catch (err) {
      this.d.log.error({ err: (err as Error).message, callId: e.callId }, 'audiolog: call event not recorded');
    }
    if (e.type === 'connected' && e.recorded && !e.probe && this.notice && e.fromTag && e.toTag) {
      this.notice.play(e.callId, e.fromTag, e.toTag).catch((err: Error) =>
        this.d.event({
          kind: 'recording.noticeFailed',
          severity: 'warn',
          subsystem: 'recording',
          en: `The recording notice could not be played for call ${e.callId}: ${err.message}`,
          nb: `Meldingen om opptak kunne ikke spilles for samtale ${e.callId}: ${err.message}`,
        }),
      );
    }
  }

  /** Call events dropped since start (no control secret, not loopback, malformed). */
  get rejectedCallEvents(): number {
    return this.events.rejected;
  }

  private callEventRejected(r: { why: CallEventRejection; from: string; total: number }): void {
    this.d.log.warn({ from: r.from, why: r.why, total: r.total }, 'audiolog: call event dropped');
    const now = this.d.clock.now();
    if (this.lastRejectedAlarmAt !== null && now - this.lastRejectedAlarmAt < FORGED_EVENT_ALARM_EVERY_MS) return;
    this.lastRejectedAlarmAt = now;
    const fix =
      r.why === 'malformed'
        ? {
            en: 'Kamailio and the supervisor disagree on the event format: run `vaktpost kamailio-render` and restart Kamailio',
            nb: 'Kamailio og supervisor er uenige om formatet: kjør `vaktpost kamailio-render` og start Kamailio på nytt',
          }
        : {
            en: 'If Kamailio runs a cfg rendered before the control secret changed, run `vaktpost kamailio-render` and restart Kamailio; otherwise a process on the box is forging call events — find it (ss -uap)',
            nb: 'Hvis Kamailio kjører en konfigurasjon laget før kontrollhemmeligheten ble endret: kjør `vaktpost kamailio-render` og start Kamailio på nytt; ellers forfalsker en prosess på boksen samtalehendelser — finn den (ss -uap)',
          };
    this.d.event({
      kind: 'recording.callEventRejected',
      severity: 'alarm',
      subsystem: 'recording',
      en: `A call event without the control secret was dropped (from ${r.from}; ${r.total} dropped since start). ${fix.en}`,
      nb: `En samtalehendelse uten kontrollhemmeligheten ble forkastet (fra ${r.from}; ${r.total} forkastet siden start). ${fix.nb}`,
      data: { from: r.from, why: r.why, total: r.total },
    });
  }

  private finding(f: AuditFinding): void {
    const who = (c: { callId: string; caller: string | null } | null) => (c ? `${c.callId}${c.caller ? ` (from ${c.caller})` : ''}` : '');
    switch (f.type) {
      case 'notRecording':
        this.d.event({
          kind: 'recording.notRecording',
          severity: 'alarm',
          subsystem: 'recording',
          en: `Call ${who(f.call)} was connected WITHOUT recording: rtpengine did not take it`,
          nb: `Samtale ${who(f.call)} ble koblet opp UTEN opptak: rtpengine tok den ikke`,
          data: { callId: f.call.callId },
        });
        return;
      case 'missing':
        this.d.event({
          kind: 'recording.unrecorded',
          severity: 'alarm',
          subsystem: 'recording',
          en: `Call without recording: ${who(f.call)} — ${f.call.detail ?? ''}`,
          nb: `Samtale uten opptak: ${who(f.call)} — ${f.call.detail ?? ''}`,
          data: { callId: f.call.callId, connectedAt: f.call.connectedAt, endedAt: f.call.endedAt },
        });
        return;
      case 'incomplete':
        this.d.event({
          kind: 'recording.incomplete',
          severity: 'alarm',
          subsystem: 'recording',
          en: `Recording incomplete: ${f.recording.id} (Call-ID ${f.recording.callId}) — ${f.detail}`,
          nb: `Ufullstendig opptak: ${f.recording.id} (Call-ID ${f.recording.callId}) — ${f.detailNb}`,
          data: { recordingId: f.recording.id, callId: f.recording.callId },
        });
        return;
      case 'lost':
        this.d.event({
          kind: 'recording.callLost',
          severity: 'warn',
          subsystem: 'recording',
          en: `Call ${who(f.call)} was never seen ending; its recording cannot be checked`,
          nb: `Samtale ${who(f.call)} ble aldri sett avsluttet; opptaket kan ikke kontrolleres`,
          data: { callId: f.call.callId, connectedAt: f.call.connectedAt },
        });
        return;
    }
  }

  // -- retention -------------------------------------------------------------

  /** Delete recordings past retention that are not on legal hold; each deletion is chained first. */
  async applyRetention(): Promise<{ deleted: string[] }> {
    const now = this.d.clock.now();
    const r = this.d.cfg.retention;
    const cutoffCall = now - r.years * 365.25 * 86_400_000;
    const cutoffTest = now - r.testCallDays * 86_400_000;
    const deleted: string[] = [];
    for (;;) {
      const batch = this.store.expired(cutoffCall, cutoffTest, 100);
      if (batch.length === 0) break;
      for (const rec of batch) {
        // The chain says "deleted" before the files go: a crash in between leaves files the
        // sweep below removes, never a deleted file the chain still claims.
        this.store.markDeleted(
          rec.id,
          {
            id: rec.id,
            callId: rec.callId,
            reason: 'retention',
            kind: rec.kind,
            startedAt: rec.startedAt,
            keptYears: rec.kind === 'call' ? r.years : r.testCallDays / 365.25,
            files: rec.summary.files,
          },
          now,
        );
        await rm(this.filePath(rec, ''), { recursive: true, force: true });
        deleted.push(rec.id);
      }
    }
    // Sweep: folders of recordings the chain already says are deleted.
    for (const rec of this.store.recordings({ limit: 1000, includeDeleted: true, since: 0 }).filter((x) => x.deletedAt !== null)) {
      if (
        await stat(this.filePath(rec, '')).then(
          () => true,
          () => false,
        )
      )
        await rm(this.filePath(rec, ''), { recursive: true, force: true });
    }
    if (deleted.length > 0) {
      this.d.event({
        kind: 'recording.retention',
        severity: 'info',
        subsystem: 'recording',
        en: `Retention: ${deleted.length} recording(s) past ${r.years} years deleted (recorded in the chain)`,
        nb: `Sletting: ${deleted.length} opptak eldre enn ${r.years} år slettet (ført i kjeden)`,
        data: { deleted: deleted.slice(0, 50) },
      });
    }
    return { deleted };
  }
}

export function createAudioLog(d: AudioLogDeps): AudioLog {
  if (!d.calls.recording.enabled) {
    throw new Error(
      'audiolog is enabled but calls.recording.enabled is false — Kamailio would not send media through rtpengine (set calls.recording.enabled: true)',
    );
  }
  return new AudioLog(d);
}
