/**
 * Scheduled duties (node-cron) with a duty log: every run is recorded (when it
 * was due, when it ran, the outcome), and a run that never happened — the box
 * was off, the process hung — is noticed: at start and every `missedCheckMs`,
 * the slots each schedule had since the duty was first set up are compared
 * with the log (evidence/cronSlots.ts). A missed slot is logged as `missed`,
 * announced as a `duty.missed` event (which opens a deviation), and, where it
 * is safe, caught up. The drill keeps its own schedule (jobs/drillSchedule.ts);
 * its runs are recorded here through `recordRun`, so a missed drill shows too.
 */
import cron, { type ScheduledTask } from 'node-cron';
import { cronSlots } from '../evidence/cronSlots.js';
import type { RecordEvent } from '../evidence/deviations.js';
import { localTimestamp } from '../evidence/format.js';
import type { DutyRun, DutyTrigger, EvidenceStore } from '../store/evidenceStore.js';

export interface DutyContext {
  /** The slot this run is for (null for a manual run). */
  scheduledFor: number | null;
  trigger: DutyTrigger;
}

export interface DutyOutcome {
  outcome: 'ok' | 'failed' | 'passed' | 'skipped';
  detail: string;
  data?: unknown;
}

export interface DutySpec {
  name: string;
  /** node-cron expression, in the duties' time zone. */
  schedule: string;
  /** After missed slots: run once per missed slot (newest `maxCatchUp`), once in all, or not at all. */
  catchUp: 'each' | 'once' | 'none';
  /** The work; absent for duties run elsewhere (the drill), whose runs come in through recordRun. */
  run?: (ctx: DutyContext) => Promise<DutyOutcome>;
  /** Extra time after a slot before it counts as missed (a drill takes a while). */
  graceMs?: number;
  /** Time zone of the schedule when it is not the duties' own (the drill runs on the system zone). */
  tz?: string;
}

export interface MissedRun {
  duty: string;
  scheduledFor: number;
}

export interface DutiesDeps {
  store: EvidenceStore;
  tz: string;
  now: () => number;
  graceMs: number;
  lookbackMs: number;
  missedCheckMs: number;
  record: RecordEvent;
  /** Most catch-up runs per duty after a long outage. */
  maxCatchUp?: number;
  log?: { error(obj: object, msg: string): void };
}

export interface DutyStatus {
  name: string;
  schedule: string;
  nextRun: number | null;
  lastRun: DutyRun | null;
}

export class Duties {
  private readonly specs = new Map<string, DutySpec>();
  private readonly tasks: ScheduledTask[] = [];
  private checkTimer: NodeJS.Timeout | null = null;
  private checking: Promise<MissedRun[]> | null = null;
  private readonly since = new Map<string, number>();
  /** Catch-up runs, serialised; a run's own failure is logged as a failed run. */
  private background: Promise<void> = Promise.resolve();

  constructor(private readonly d: DutiesDeps) {}

  add(spec: DutySpec): void {
    if (!cron.validate(spec.schedule))
      throw new Error(`duty ${spec.name}: "${spec.schedule}" is not a valid cron expression (5 or 6 fields, e.g. "5 0 * * *")`);
    if (this.specs.has(spec.name)) throw new Error(`duty ${spec.name} is registered twice`);
    this.specs.set(spec.name, spec);
  }

  names(): string[] {
    return [...this.specs.keys()];
  }

  /** Schedules every duty, then looks for runs missed while the box was off. */
  async start(): Promise<MissedRun[]> {
    const now = this.d.now();
    for (const s of this.specs.values()) {
      this.since.set(s.name, this.d.store.dutySince(s.name, s.schedule, now));
      if (!s.run) continue;
      const task = cron.schedule(
        s.schedule,
        async (ctx) => {
          await this.execute(s, { trigger: 'schedule', scheduledFor: ctx.date.getTime() });
        },
        { timezone: s.tz ?? this.d.tz, name: `vaktpost-${s.name}`, noOverlap: true },
      );
      this.tasks.push(task);
    }
    const missed = await this.checkMissed();
    this.checkTimer = setInterval(() => {
      this.checkMissed().catch((err: Error) => this.d.log?.error({ err: err.message }, 'missed-duty check failed'));
    }, this.d.missedCheckMs);
    this.checkTimer.unref();
    return missed;
  }

  async stop(): Promise<void> {
    if (this.checkTimer) clearInterval(this.checkTimer);
    this.checkTimer = null;
    await Promise.all(this.tasks.splice(0).map((t) => t.stop()));
    await this.checking;
    await this.background;
  }

  /** Resolves when the catch-up runs queued so far are done. */
  idle(): Promise<void> {
    return this.background;
  }

  status(): DutyStatus[] {
    return [...this.specs.values()].map((s) => ({
      name: s.name,
      schedule: s.schedule,
      nextRun: nextSlot(s.schedule, s.tz ?? this.d.tz),
      lastRun: this.d.store.lastDutyRun(s.name),
    }));
  }

  /** Run a duty now (technician's request, or a test). */
  async runNow(name: string, trigger: DutyTrigger = 'manual', scheduledFor: number | null = null): Promise<DutyRun> {
    const s = this.specs.get(name);
    if (!s?.run) throw new Error(`no duty "${name}" that can be run here (known: ${this.names().join(', ')})`);
    return this.execute(s, { trigger, scheduledFor });
  }

  /** A run of a duty that executes elsewhere (the drill). */
  recordRun(
    name: string,
    r: { trigger: DutyTrigger; scheduledFor: number | null; startedAt: number; finishedAt: number; outcome: string; detail: string; data?: unknown },
  ): void {
    const id = this.d.store.startDutyRun({ duty: name, trigger: r.trigger, scheduledFor: r.scheduledFor, at: r.startedAt });
    this.d.store.finishDutyRun(id, { at: r.finishedAt, outcome: r.outcome, detail: r.detail, data: r.data });
  }

  private async execute(s: DutySpec, ctx: DutyContext): Promise<DutyRun> {
    const run = s.run;
    if (!run) throw new Error(`duty ${s.name} has no work here`);
    const id = this.d.store.startDutyRun({ duty: s.name, trigger: ctx.trigger, scheduledFor: ctx.scheduledFor, at: this.d.now() });
    let out: DutyOutcome;
    try {
      out = await run(ctx);
    } catch (err) {
      out = { outcome: 'failed', detail: (err as Error).message };
    }
    this.d.store.finishDutyRun(id, { at: this.d.now(), outcome: out.outcome, detail: out.detail, data: out.data });
    if (out.outcome === 'failed') {
      this.d.record({
        kind: 'duty.failed',
        severity: 'alarm',
        subsystem: 'system',
        actor: ctx.trigger === 'manual' ? null : 'schedule',
        en: `Scheduled duty ${s.name} failed: ${out.detail}`,
        nb: `Planlagt oppgave ${s.name} feilet: ${out.detail}`,
        data: { key: s.name, duty: s.name, runId: id },
      });
    }
    return this.d.store.dutyRun(id) as DutyRun;
  }

  /** Slots due (past grace) since each duty was set up, with no run or miss on record. */
  checkMissed(): Promise<MissedRun[]> {
    this.checking ??= this.findMissed().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async findMissed(): Promise<MissedRun[]> {
    const now = this.d.now();
    const all: MissedRun[] = [];
    for (const s of this.specs.values()) {
      const since = this.since.get(s.name) ?? this.d.store.dutySince(s.name, s.schedule, now);
      const after = Math.max(since, now - this.d.lookbackMs);
      const upTo = now - Math.max(this.d.graceMs, s.graceMs ?? 0);
      if (upTo <= after) continue;
      let slots: number[];
      try {
        slots = cronSlots(s.schedule, after, upTo, s.tz ?? this.d.tz, 1000);
      } catch (err) {
        this.d.log?.error({ duty: s.name, err: (err as Error).message }, 'cannot check this duty for missed runs');
        continue;
      }
      const accounted = this.d.store.accountedSlots(s.name, after);
      const missed = slots.filter((t) => !accounted.has(t));
      if (missed.length === 0) continue;
      for (const t of missed) {
        this.d.store.startDutyRun({
          duty: s.name,
          trigger: 'detected',
          scheduledFor: t,
          at: now,
          outcome: 'missed',
          detail: `due ${localTimestamp(t, this.d.tz)} but never ran (the supervisor was not running?)`,
        });
        all.push({ duty: s.name, scheduledFor: t });
      }
      const first = missed[0] as number;
      const last = missed[missed.length - 1] as number;
      const span = missed.length === 1 ? localTimestamp(first, this.d.tz) : `${localTimestamp(first, this.d.tz)} … ${localTimestamp(last, this.d.tz)}`;
      this.d.record({
        kind: 'duty.missed',
        severity: 'warn',
        subsystem: 'system',
        en: `Scheduled duty ${s.name} did not run ${missed.length}× (${span}) — was the box off?${s.run && s.catchUp !== 'none' ? ' Catching up now.' : ''}`,
        nb: `Planlagt oppgave ${s.name} ble ikke kjørt ${missed.length} gang(er) (${span}) — var boksen av?${s.run && s.catchUp !== 'none' ? ' Tas igjen nå.' : ''}`,
        data: { key: s.name, duty: s.name, missed },
      });
      if (s.run && s.catchUp !== 'none') {
        const todo = s.catchUp === 'each' ? missed.slice(-(this.d.maxCatchUp ?? 31)) : [last];
        // In the background, one after the other: a month of catch-up reports must not
        // hold up the supervisor's start.
        for (const t of todo) {
          this.background = this.background
            .then(() => this.execute(s, { trigger: 'catch-up', scheduledFor: t }))
            .then(
              () => undefined,
              (err: Error) => this.d.log?.error({ duty: s.name, err: err.message }, 'catch-up run could not be recorded'),
            );
        }
      }
    }
    return all;
  }
}

/** The next slot (node-cron's own answer); null if it has none. */
function nextSlot(expr: string, tz: string): number | null {
  try {
    const t = cron.createTask(expr, () => undefined, { timezone: tz });
    // getNextRun() is null for a task that is not started; getNextRuns is not.
    const next = t.getNextRuns(1)[0];
    void t.destroy();
    return next ? next.getTime() : null;
  } catch {
    return null;
  }
}
