/**
 * The loop: signals → health → policy → (store) → reconcilers.
 * A decision is written to the store BEFORE any actuator is told about it; the
 * result of every actuation is written after. On start the stored target is
 * resumed, so a restart never flaps the route.
 *
 * Two time bases (why: a wall-clock step must neither hide a dead monitor nor cut a
 * hold time short): the core (signal expiry, hold times, durations, override expiry)
 * runs on *steady* time — the wall clock at start plus the monotonic time since — and
 * every record (decision, event, sample) carries wall-clock time.
 *
 * A store that cannot write (disk full) never stops a route change: records wait in the
 * journal (store/journal.ts), an alarm is raised, and they are written when it recovers.
 * Every callback runs under the guard (guard.ts): a fault is an alarm, not a crash.
 */
import { EventEmitter } from 'node:events';
import { evaluateHealth, type Health, type HealthRules, SUBSYSTEM_NAMES } from './core/health.js';
import { type Decision, initialPolicyState, type Override, type PolicyConfig, type PolicyState, type RouteTarget, step } from './core/policy.js';
import { type CallPathState, callPath } from './core/callPath.js';
import type { Signal } from './core/signal.js';
import { type Fault, Guard } from './guard.js';
import { Journal, type JournalState } from './store/journal.js';
import { type EffectiveSignal, SignalTable } from './core/signalTable.js';
import type { Logger } from './log.js';
import type { Clock, Monitor } from './monitors/monitor.js';
import type { DecisionAdvisor } from './flows/advisor.js';
import type { ActuatorStatus, Reconciler } from './reconcilers/reconciler.js';
import type { EventInput, Store } from './store/store.js';

export interface Snapshot {
  at: number;
  box: string;
  route: RouteTarget;
  mode: PolicyState['mode'];
  routeSince: number;
  modeSince: number;
  reasons: Decision['reasons'];
  override: Override | null;
  decidedBy: string;
  health: Health['subsystems'];
  floor: Health['floor'];
  /** Where callers actually end up (core/callPath.ts): the operator's headline. */
  callPath: CallPathState;
  signals: EffectiveSignal[];
  actuators: ActuatorStatus[];
}

/** What a decision tick that ran to the end tells its listeners (onDecisionTick). */
export interface DecisionTick {
  /** Wall-clock time of the tick. */
  at: number;
  route: RouteTarget;
  mode: PolicyState['mode'];
  /** Where callers actually end up (core/callPath.ts). */
  callPath: CallPathState['path'];
}

export type LiveMessage =
  | { type: 'signal'; signal: EffectiveSignal }
  | { type: 'decision'; decision: Decision & { id: number } }
  | { type: 'health'; health: Health['subsystems']; floor: Health['floor'] }
  | { type: 'actuator'; status: ActuatorStatus }
  | { type: 'callPath'; callPath: CallPathState }
  | { type: 'event'; event: EventInput & { id: number } };

export interface SupervisorDeps {
  box: string;
  store: Store;
  clock: Clock;
  log: Logger;
  monitors: Monitor[];
  reconcilers: Reconciler[];
  policy: PolicyConfig;
  rules: HealthRules;
  tickMs: number;
  /** Store a sample of an unchanged signal at most this often (ms). */
  sampleEveryMs?: number;
  /** The municipality's flows (flows/advisor.ts); without it the built-in policy decides alone. */
  decisionAdvisor?: DecisionAdvisor;
  /** Shared with the reconcilers and the API; created here if not given. */
  guard?: Guard;
}

/** How long after the last internal fault `system.internal` stays at warn. */
const INTERNAL_FAULT_WINDOW_MS = 10 * 60_000;
/** A monitored subsystem still unknown this long (at start too) is an alarm: unknown is never silent. */
const UNKNOWN_GRACE_MS = 15_000;
/** At most one internal-fault alarm per place in this window (the log has every one). */
const INTERNAL_ALARM_EVERY_MS = 60_000;
/** A gap between two evaluations longer than max(STALL_TICKS × tickMs, STALL_MIN_MS) = Vaktpost did not run. */
const STALL_TICKS = 5;
const STALL_MIN_MS = 2000;

export class Supervisor extends EventEmitter<{ live: [LiveMessage] }> {
  private readonly table = new SignalTable();
  private state: PolicyState;
  private health: Health;
  private decidedBy = 'builtin';
  private tickTimer: NodeJS.Timeout | null = null;
  private readonly lastSampleAt = new Map<string, number>();
  private lastHealthKey = '';
  private lastTickAt: number;
  private started = false;
  /** When this process started; shown as "since" while no route change is on record. */
  private readonly bootAt: number;
  /** While monitors start, their first burst is collected and evaluated once. */
  private starting = false;
  private offAdvisor: (() => void) | null = null;
  private readonly subsystemStatus = new Map<string, string>();
  /** Since when (steady) a monitored subsystem has been unknown, and whether that was alarmed. */
  private readonly unknownSince = new Map<string, { since: number; alarmed: boolean }>();
  /** Health alarms (e.g. mains lost) already raised, by code and signals. */
  private readonly activeHealthAlarms = new Set<string>();
  private lastCallPathKey = '';
  readonly guard: Guard;
  readonly journal: Journal;
  /** Wall and monotonic time at construction: steady time = bootAt + (mono − bootMono). */
  private readonly bootMono: number;
  private lastDecisionReasons: Decision['reasons'] = [];
  private readonly tickListeners = new Set<(t: DecisionTick) => void>();
  /** Monotonic time of the last evaluation (every tick evaluates); null until the tick runs. */
  private lastRunMono: number | null = null;
  private lastRunWall = 0;
  private readonly internalFaults: { lastAt: number | null; count: number; last: string | null; alarmedAt: Map<string, number> } = {
    lastAt: null,
    count: 0,
    last: null,
    alarmedAt: new Map(),
  };

  constructor(private readonly d: SupervisorDeps) {
    super();
    this.setMaxListeners(100);
    const now = d.clock.now();
    this.bootAt = now;
    this.bootMono = d.clock.monotonic();
    this.lastTickAt = now;
    this.guard = d.guard ?? new Guard(d.log, (f) => this.internalFault(f));
    this.journal = new Journal(d.store, { onState: (s) => this.onJournalState(s) });
    const last = d.store.lastDecision();
    if (last) this.lastDecisionReasons = last.reasons;
    const lastChange = d.store.lastRouteChange();
    this.state = initialPolicyState(
      now,
      last ? { route: last.route, mode: last.mode, override: last.override, routeSince: lastChange?.at ?? last.at } : undefined,
    );
    if (last) this.decidedBy = last.decidedBy;
    this.health = evaluateHealth([], now, d.rules);
    for (const r of d.reconcilers) {
      r.on('status', (status) => this.publish({ type: 'actuator', status }));
      r.on('verifyFailed', (v) =>
        this.event({
          kind: 'verify.failed',
          severity: 'alarm',
          subsystem: 'telephony',
          en: `Verification of the ${v.target} path via ${r.name} failed: ${v.detail}`,
          nb: `Kontroll av ${v.target === 'local' ? 'lokal' : 'reserve'}-veien via ${r.name} feilet: ${v.detail}`,
          data: v,
        }),
      );
    }
  }

  get route(): RouteTarget {
    return this.state.route;
  }

  /** The core's clock: immune to wall-clock steps (see the header). */
  steadyNow(): number {
    return this.bootAt + (this.d.clock.monotonic() - this.bootMono);
  }

  /** A steady time as wall-clock time now (for display and records). */
  private toWall(steady: number): number {
    return steady + (this.d.clock.now() - this.steadyNow());
  }

  /**
   * An internal fault (guard.ts): logged by the guard; here it becomes an alarm (at most one
   * per place a minute) and `system.internal` at warn for ten minutes.
   */
  internalFault(f: Fault): void {
    const now = this.steadyNow();
    this.internalFaults.lastAt = now;
    this.internalFaults.count++;
    this.internalFaults.last = `${f.where}: ${f.error.message}`;
    const alarmed = this.internalFaults.alarmedAt.get(f.where);
    if (alarmed === undefined || now - alarmed >= INTERNAL_ALARM_EVERY_MS) {
      this.internalFaults.alarmedAt.set(f.where, now);
      this.event({
        kind: 'internal.error',
        severity: 'alarm',
        subsystem: 'system',
        en: `Internal fault in ${f.where}: ${f.error.message} — Vaktpost carries on; report this to the supplier with the log`,
        nb: `Intern feil i ${f.where}: ${f.error.message} — Vaktpost fortsetter; meld fra til leverandøren med loggen`,
        data: { where: f.where, message: f.error.message },
      });
    }
    if (this.started) this.selfSignals();
  }

  private onJournalState(s: JournalState): void {
    if (!s.writable) {
      this.d.log.error({ lastError: s.lastError, pending: s.pending }, 'the store cannot write: records wait in memory; routing goes on');
    } else {
      this.d.log.info({ dropped: s.dropped }, 'the store writes again: waiting records written');
    }
    this.event(
      s.writable
        ? {
            kind: 'store.recovered',
            severity: 'info',
            subsystem: 'system',
            en: `The store writes again; the records kept in memory are written${s.dropped.samples + s.dropped.records > 0 ? ` (${s.dropped.records} records and ${s.dropped.samples} samples were dropped when the buffer was full)` : ''}`,
            nb: `Lagringen skriver igjen; postene som ventet i minnet er skrevet${s.dropped.samples + s.dropped.records > 0 ? ` (${s.dropped.records} poster og ${s.dropped.samples} målinger gikk tapt da bufferen var full)` : ''}`,
            data: s,
          }
        : {
            kind: 'store.unwritable',
            severity: 'alarm',
            subsystem: 'system',
            en: `The store cannot write (${s.lastError}): routing goes on; records wait in memory until it can — free space on the data disk (box.dataDir)`,
            nb: `Lagringen kan ikke skrive (${s.lastError}): rutingen fortsetter; postene venter i minnet — frigjør plass på datadisken (box.dataDir)`,
            data: s,
          },
    );
    if (this.started) this.selfSignals();
  }

  /** The supervisor's own health as signals: the store's write path and internal faults. */
  private selfSignals(): void {
    const wall = this.d.clock.now();
    const ttlMs = Math.max(3 * this.d.tickMs, 5000);
    const js = this.journal.state();
    this.onSignal({
      subsystem: 'system',
      source: 'supervisor',
      key: 'system.store',
      status: js.writable ? 'ok' : 'fail',
      value: js.writable ? 'writable' : 'unwritable',
      observedAt: wall,
      ttlMs,
      ...(js.writable ? {} : { detail: `store cannot write (${js.lastError}); ${js.pending} records wait in memory` }),
    });
    const f = this.internalFaults;
    const recent = f.lastAt !== null && this.steadyNow() - f.lastAt < INTERNAL_FAULT_WINDOW_MS;
    this.onSignal({
      subsystem: 'system',
      source: 'supervisor',
      key: 'system.internal',
      status: recent ? 'warn' : 'ok',
      value: f.count,
      observedAt: wall,
      ttlMs,
      ...(recent ? { detail: `internal fault: ${f.last}` } : {}),
    });
  }

  private tick(): void {
    this.checkStall();
    this.journal.flush();
    this.selfSignals();
    this.evaluate('tick');
    // Only reached when the whole tick ran: a tick that threw (the guard logs it) tells no one.
    const t: DecisionTick = { at: this.d.clock.now(), route: this.state.route, mode: this.state.mode, callPath: callPath(this.state.route, this.health).path };
    for (const fn of this.tickListeners) fn(t);
  }

  /**
   * Called after every decision tick that ran to the end, never otherwise: the systemd
   * watchdog is fed from here (lifecycle/systemdNotify.ts), so a loop that stops deciding
   * stops the pings. Returns the function that removes the listener.
   */
  onDecisionTick(fn: (t: DecisionTick) => void): () => void {
    this.tickListeners.add(fn);
    return () => this.tickListeners.delete(fn);
  }

  async start(): Promise<void> {
    this.started = true;
    let resumed: ReturnType<Store['lastDecision']> = null;
    try {
      resumed = this.d.store.lastDecision();
    } catch (err) {
      this.d.log.error({ err: (err as Error).message }, 'cannot read the last decision; starting from the constructor state');
    }
    this.event({
      kind: 'supervisor.start',
      severity: 'info',
      en: resumed ? `Supervisor started; resuming stored route ${resumed.route} (${resumed.mode})` : 'Supervisor started for the first time',
      nb: resumed ? `Overvåkeren startet; fortsetter med lagret rute ${resumed.route} (${resumed.mode})` : 'Overvåkeren startet for første gang',
    });
    // Actuators converge to the stored target first: after a crash the real path
    // is put back where the last decision said, before any new evidence arrives.
    for (const r of this.d.reconcilers) {
      r.setTarget(this.state.route, resumed?.id ?? null);
      r.start();
    }
    this.starting = true;
    this.selfSignals();
    for (const m of this.d.monitors) {
      try {
        // The sink is guarded: a fault while handling a signal never reaches the monitor.
        await m.start(this.guard.callback(`signal from monitor ${m.name}`, (s: Signal) => this.onSignal(s)));
      } catch (err) {
        this.event({
          kind: 'monitor.startFailed',
          severity: 'alarm',
          en: `Monitor ${m.name} failed to start: ${(err as Error).message}`,
          nb: `Overvåker ${m.name} startet ikke: ${(err as Error).message}`,
        });
      }
    }
    this.starting = false;
    this.lastRunMono = this.d.clock.monotonic();
    this.lastRunWall = this.d.clock.now();
    this.tickTimer = setInterval(
      this.guard.callback('decision tick', () => this.tick()),
      this.d.tickMs,
    );
    // The flows answer asynchronously: evaluate again when an answer (or its absence) may change the decision.
    this.offAdvisor =
      this.d.decisionAdvisor?.onReevaluate(
        this.guard.callback('flows re-evaluation', () => {
          if (this.started) this.evaluate('flows');
        }),
      ) ?? null;
    this.evaluate('start');
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.offAdvisor?.();
    this.offAdvisor = null;
    await Promise.allSettled(this.d.monitors.map((m) => m.stop()));
    await Promise.allSettled(this.d.reconcilers.map((r) => r.stop()));
    this.journal.flush();
  }

  onSignal(signal: Signal): void {
    // A signal delivered first after a freeze: the gap goes on record before its effects.
    this.checkStall();
    const prev = this.table.get(signal.key);
    const now = this.steadyNow();
    // Received now, observed `age` ago by the monitor's own (wall) clock: the age survives
    // a wall-clock step between the two readings only as a momentary blip.
    const age = Math.max(0, this.d.clock.now() - signal.observedAt);
    const changed = this.table.apply(signal, now - age);
    const last = this.lastSampleAt.get(signal.key) ?? Number.NEGATIVE_INFINITY;
    if (changed || now - last >= (this.d.sampleEveryMs ?? 10_000)) {
      this.journal.samples([signal]);
      this.lastSampleAt.set(signal.key, now);
    }
    if (changed) {
      if (prev && prev.status !== signal.status) {
        // A single signal is detail; the alarm is raised once per subsystem (see evaluate),
        // so one WAN incident is one alarm to acknowledge, not ten.
        const severity = signal.status === 'ok' ? 'info' : 'warn';
        this.event({
          kind: 'signal.status',
          severity,
          subsystem: signal.subsystem,
          en: `${signal.key}: ${prev.status} → ${signal.status}${signal.detail ? ` (${signal.detail})` : ''}`,
          nb: `${signal.key}: ${prev.status} → ${signal.status}${signal.detail ? ` (${signal.detail})` : ''}`,
          data: { key: signal.key, from: prev.status, to: signal.status, value: signal.value },
        });
      }
      const eff = this.table.effective(now).find((s) => s.key === signal.key);
      if (eff) this.publish({ type: 'signal', signal: eff });
      // Fail over fast: evaluate on every change, not only on the next tick.
      if (!this.starting) this.evaluate('signal');
    }
  }

  /** Manual failover/failback with an expiry. Recorded with who did it. */
  setOverride(o: { route: RouteTarget; durationMs: number; by: string; reason: string }): Decision | null {
    const now = this.steadyNow();
    this.state = { ...this.state, override: { route: o.route, until: now + o.durationMs, by: o.by, reason: o.reason, setAt: now } };
    this.event({
      kind: 'override.set',
      severity: 'warn',
      actor: o.by,
      en: `Manual route ${o.route} for ${Math.round(o.durationMs / 60000)} min by ${o.by}: ${o.reason}`,
      nb: `Manuell rute ${o.route === 'local' ? 'lokal' : 'reserve'} i ${Math.round(o.durationMs / 60000)} min av ${o.by}: ${o.reason}`,
    });
    return this.evaluate('override');
  }

  clearOverride(by: string): Decision | null {
    if (!this.state.override) return null;
    this.state = { ...this.state, override: null };
    this.event({ kind: 'override.cleared', severity: 'info', actor: by, en: `Manual route cleared by ${by}`, nb: `Manuell rute opphevet av ${by}` });
    return this.evaluate('override');
  }

  snapshot(): Snapshot {
    const now = this.steadyNow();
    const o = this.state.override;
    return {
      at: this.d.clock.now(),
      box: this.d.box,
      route: this.state.route,
      mode: this.state.mode,
      routeSince: Number.isFinite(this.state.routeSince) ? this.toWall(this.state.routeSince) : this.bootAt,
      modeSince: this.toWall(this.state.modeSince),
      reasons: this.lastDecisionReasons,
      override: o ? { ...o, until: this.toWall(o.until), setAt: this.toWall(o.setAt) } : null,
      decidedBy: this.decidedBy,
      health: this.health.subsystems,
      floor: this.health.floor,
      callPath: callPath(this.state.route, this.health),
      signals: this.table.effective(now),
      actuators: this.d.reconcilers.map((r) => r.status()),
    };
  }

  event(e: Omit<EventInput, 'at'> & { at?: number }): void {
    const full: EventInput = { ...e, at: e.at ?? this.d.clock.now() };
    const id = this.journal.event(full);
    const level = full.severity === 'alarm' ? 'error' : full.severity === 'warn' ? 'warn' : 'info';
    this.d.log[level]({ event: full.kind, id, subsystem: full.subsystem, actor: full.actor }, full.en);
    this.publish({ type: 'event', event: { ...full, id } });
  }

  /**
   * The tick runs every tickMs; evaluations never lie further apart unless this process did
   * not run (SIGSTOP, a frozen VM, a blocked event loop, no CPU). Such a gap is recorded —
   * before anything is evaluated after it, so the journal tells the story in order. Signals
   * from before the gap are then judged by their ttl on steady time (stale, not a fresh ok).
   */
  private checkStall(): void {
    if (this.lastRunMono === null) return;
    const mono = this.d.clock.monotonic();
    const wall = this.d.clock.now();
    const gapMs = mono - this.lastRunMono;
    const fromWall = this.lastRunWall;
    this.lastRunMono = mono;
    this.lastRunWall = wall;
    const limitMs = Math.max(STALL_TICKS * this.d.tickMs, STALL_MIN_MS);
    if (gapMs <= limitMs) return;
    const s = (gapMs / 1000).toFixed(1);
    this.event({
      kind: 'supervisor.stalled',
      severity: 'warn',
      subsystem: 'system',
      en: `Vaktpost was not running for ${s} s (no decision tick since ${new Date(fromWall).toISOString()}; expected every ${this.d.tickMs} ms — the process was stopped, frozen or starved of CPU). Meanwhile nothing was watched, decided or corrected; calls kept going where the call path last pointed`,
      nb: `Vaktpost kjørte ikke på ${s} s (ingen vurdering siden ${new Date(fromWall).toISOString()}; ventet hvert ${this.d.tickMs}. ms — prosessen var stoppet, frosset eller fikk ikke CPU). I mellomtiden ble ingenting overvåket, avgjort eller rettet; anropene gikk dit anropsveien sist pekte`,
      data: { gapMs: Math.round(gapMs), limitMs, tickMs: this.d.tickMs, from: fromWall, to: wall },
    });
  }

  private evaluate(cause: string): Decision | null {
    this.checkStall();
    const now = this.steadyNow();
    // Publish signals that went stale since the last tick: silence is news.
    for (const key of this.table.staleTransitions(this.lastTickAt, now)) {
      const eff = this.table.effective(now).find((s) => s.key === key);
      if (eff) {
        this.publish({ type: 'signal', signal: eff });
        if (eff.stale) {
          this.event({
            kind: 'signal.stale',
            severity: 'warn',
            subsystem: eff.subsystem,
            en: `${key}: ${eff.detail ?? 'stale'} — treated as unknown`,
            nb: `${key}: ingen oppdatering — behandles som ukjent`,
          });
        }
      }
    }
    this.lastTickAt = now;
    const effective = this.table.effective(now);
    this.health = evaluateHealth(effective, now, this.d.rules);
    // Status and reason codes: a new reason within an already failing subsystem is news too
    // (e.g. low battery on top of "on battery too long" starts the shutdown).
    const healthKey = JSON.stringify([
      Object.values(this.health.subsystems).map((h) => [h.status, h.reasons.map((r) => r.code)]),
      this.health.floor.map((r) => r.code),
    ]);
    if (healthKey !== this.lastHealthKey) {
      this.lastHealthKey = healthKey;
      this.publish({ type: 'health', health: this.health.subsystems, floor: this.health.floor });
      this.subsystemEvents(now);
    }
    this.unknownAlarms(now);
    this.healthAlarms();
    this.publishCallPath();
    const { state, decision } = this.d.decisionAdvisor
      ? this.d.decisionAdvisor.step(this.state, this.health, now, this.d.policy, effective, this.d.clock.now())
      : step(this.state, this.health, now, this.d.policy);
    this.state = state;
    if (!decision) return null;
    // Record first: the decision and the signals behind it are durable before anything moves.
    // If the store cannot write, the journal keeps it and the route moves all the same.
    const record = this.asRecord(decision);
    const id = this.journal.decision(record, effective);
    this.decidedBy = decision.decidedBy;
    this.lastDecisionReasons = decision.reasons;
    if (decision.routeChanged || decision.mode !== decision.previousMode) {
      const text = decision.reasons.slice(0, 3);
      this.event({
        kind: decision.routeChanged ? 'route.changed' : 'mode.changed',
        severity: decision.routeChanged ? 'alarm' : decision.mode === 'normal' ? 'info' : 'warn',
        en: decision.routeChanged
          ? `Calls now go to ${decision.route} (${decision.mode}): ${text.map((r) => r.en).join('; ')}`
          : `Mode ${decision.previousMode} → ${decision.mode}: ${text.map((r) => r.en).join('; ')}`,
        nb: decision.routeChanged
          ? `Anrop går nå til ${decision.route === 'local' ? 'lokal sentral' : 'reservesentral'} (${decision.mode}): ${text.map((r) => r.nb).join('; ')}`
          : `Modus ${decision.previousMode} → ${decision.mode}: ${text.map((r) => r.nb).join('; ')}`,
        data: { decisionId: id, cause },
      });
    }
    this.publish({ type: 'decision', decision: { ...record, id } });
    for (const r of this.d.reconcilers) r.setTarget(decision.route, id);
    return record;
  }

  /** A decision of the core (steady time) as it is recorded and shown (wall-clock time). */
  private asRecord(d: Decision): Decision {
    return {
      ...d,
      at: this.toWall(d.at),
      override: d.override ? { ...d.override, until: this.toWall(d.override.until), setAt: this.toWall(d.override.setAt) } : null,
    };
  }

  /**
   * One event per subsystem whose status changed; a subsystem turning to fail is an alarm —
   * and so is one that is already failed at start (Kamailio dead at boot must not look fine).
   */
  private subsystemEvents(now: number): void {
    for (const h of Object.values(this.health.subsystems)) {
      if (!this.d.policy.monitored.includes(h.subsystem)) continue;
      const prev = this.subsystemStatus.get(h.subsystem);
      this.subsystemStatus.set(h.subsystem, h.status);
      if (h.status === 'unknown') {
        if (!this.unknownSince.has(h.subsystem)) this.unknownSince.set(h.subsystem, { since: now, alarmed: false });
      } else this.unknownSince.delete(h.subsystem);
      const name = SUBSYSTEM_NAMES[h.subsystem];
      const why = h.reasons.slice(0, 3);
      if (prev === undefined) {
        if (h.status === 'fail') {
          this.event({
            kind: 'subsystem.status',
            severity: 'alarm',
            subsystem: h.subsystem,
            en: `${name.en}: failed at start${why.length ? `: ${why.map((r) => r.en).join('; ')}` : ''}`,
            nb: `${name.nb}: feil ved oppstart${why.length ? `: ${why.map((r) => r.nb).join('; ')}` : ''}`,
            data: { subsystem: h.subsystem, from: null, to: h.status },
          });
        }
        continue;
      }
      if (prev === h.status) continue;
      this.event({
        kind: 'subsystem.status',
        severity: h.status === 'fail' ? 'alarm' : h.status === 'ok' ? 'info' : 'warn',
        subsystem: h.subsystem,
        en: `${name.en}: ${prev} → ${h.status}${why.length ? `: ${why.map((r) => r.en).join('; ')}` : ''}`,
        nb: `${name.nb}: ${prev} → ${h.status}${why.length ? `: ${why.map((r) => r.nb).join('; ')}` : ''}`,
        data: { subsystem: h.subsystem, from: prev, to: h.status },
      });
    }
  }

  /** A monitored subsystem unknown past the grace is an alarm, once per spell of unknown. */
  private unknownAlarms(now: number): void {
    for (const [sub, u] of this.unknownSince) {
      if (u.alarmed || now - u.since < UNKNOWN_GRACE_MS) continue;
      u.alarmed = true;
      const h = this.health.subsystems[sub as keyof Health['subsystems']];
      const name = SUBSYSTEM_NAMES[h.subsystem];
      const why = h.reasons.slice(0, 3);
      const forS = Math.round((now - u.since) / 1000);
      this.event({
        kind: 'subsystem.unknown',
        severity: 'alarm',
        subsystem: h.subsystem,
        en: `${name.en}: state unknown for ${forS} s — Vaktpost cannot tell whether it works${why.length ? `: ${why.map((r) => r.en).join('; ')}` : ''}`,
        nb: `${name.nb}: tilstanden har vært ukjent i ${forS} s — Vaktpost kan ikke se om den virker${why.length ? `: ${why.map((r) => r.nb).join('; ')}` : ''}`,
        data: { subsystem: h.subsystem, unknownForMs: now - u.since },
      });
    }
  }

  /** The operator's headline when it changes (route changes publish it too, via evaluate). */
  private publishCallPath(): void {
    const cp = callPath(this.state.route, this.health);
    const key = `${cp.path}|${cp.reasons.map((r) => r.code).join(',')}`;
    if (key === this.lastCallPathKey) return;
    this.lastCallPathKey = key;
    this.publish({ type: 'callPath', callPath: cp });
  }

  /** Reasons that are alarms although their subsystem only warns (mains lost): raised once each. */
  private healthAlarms(): void {
    const current = new Set<string>();
    for (const r of this.health.alarms) {
      const key = `${r.code}:${r.signals.join(',')}`;
      current.add(key);
      if (this.activeHealthAlarms.has(key)) continue;
      this.event({
        kind: r.code,
        severity: 'alarm',
        subsystem: r.subsystem === 'policy' ? undefined : r.subsystem,
        en: r.en,
        nb: r.nb,
        data: { signals: r.signals },
      });
    }
    this.activeHealthAlarms.clear();
    for (const k of current) this.activeHealthAlarms.add(k);
  }

  private publish(msg: LiveMessage): void {
    this.emit('live', msg);
  }
}
