/**
 * The flows in the supervisor's loop.
 *
 * `DecisionAdvisor` is the one hook the Supervisor needs: in `evaluate()` it calls
 * `advisor.step(...)` instead of the built-in `step(...)` (same contract), and it
 * re-evaluates when the advisor says an answer (or its absence) may change the decision.
 *
 * `FlowsAdvisor` implements it over the live Node-RED child:
 *  - every evaluation whose inputs changed (and at least every evalEveryMs, for flows
 *    that look at the time) is sent to the child, one at a time;
 *  - the child answers when the flow has settled, with the standing proposals;
 *  - an answer counts only if it arrives within proposalTimeoutMs. Missing it makes the
 *    flows "late": alarm, and the built-in policy decides until they have answered in
 *    time for recoverAfterMs;
 *  - stopped (e.g. unknown node type), crashed, hung or starting → built-in policy;
 *  - while the answer to a changed input is on its way the route in force is kept
 *    (core/flowDecision.ts explains why); the safety floor and overrides never wait.
 * It is also the Monitor of the `flows` subsystem (signal `flows.runtime`).
 */
import { builtinOpinion, type FlowProposal, type FlowVerdict, flowStep } from '../core/flowDecision.js';
import type { Health } from '../core/health.js';
import type { Decision, PolicyConfig, PolicyState } from '../core/policy.js';
import type { Signal } from '../core/signal.js';
import type { EffectiveSignal } from '../core/signalTable.js';
import type { Logger } from '../log.js';
import type { Clock, Monitor, SignalSink } from '../monitors/monitor.js';
import { decisionInputKey, EvalInputBuilder } from './evalInput.js';
import type { ChildToHost, TabProposal } from './protocol.js';
import type { FlowsEventSink, FlowsRuntime, RuntimeStatus } from './runtime.js';

export interface DecisionAdvisor {
  /**
   * Replaces the built-in `step()` in Supervisor.evaluate(). Same contract: the next
   * policy state, and a decision when route, mode or reasons changed. Synchronous and
   * cheap; it may send the input to the flows as a side effect.
   */
  step(
    state: PolicyState,
    health: Health,
    now: number,
    cfg: PolicyConfig,
    signals: readonly EffectiveSignal[],
    /** Wall-clock time for the flows (time of day); `now` is the core's steady time. */
    wallNow?: number,
  ): { state: PolicyState; decision: Decision | null };
  /**
   * `listener` is called (never synchronously from step) when the Supervisor should
   * evaluate again: a flow answered, a timeout passed, the flows runtime changed state.
   * Returns an unsubscribe function.
   */
  onReevaluate(listener: () => void): () => void;
}

export interface FlowsAdvisorOptions {
  proposalTimeoutMs: number;
  evalEveryMs: number;
  recoverAfterMs: number;
  /** On the supervisor's first start, keep the resumed route this long while Node-RED boots. */
  startGraceMs: number;
  /** A deploy stops and restarts the flows; keep the route this long while it does. */
  deployGraceMs: number;
  /** How often flows.runtime is re-reported. */
  reportMs: number;
  deviationsPerMinute: number;
}

export interface FlowsAdvisorDeps {
  runtime: FlowsRuntime;
  clock: Clock;
  log: Logger;
  event: FlowsEventSink;
  /** e.g. `flows:v3` — recorded as decidedBy. */
  versionLabel: () => string;
}

export interface AdvisorStatus {
  runtime: RuntimeStatus;
  trusted: boolean;
  late: boolean;
  verdict: FlowVerdict['kind'];
  proposals: TabProposal[];
  evaluationsSent: number;
  lastAnswerMs: number | null;
  answerMs: { median: number | null; p95: number | null };
}

interface Outstanding {
  seq: number;
  key: string;
  sentMono: number;
}

export class FlowsAdvisor implements DecisionAdvisor, Monitor {
  readonly name = 'flows';
  private readonly builder = new EvalInputBuilder();
  private readonly listeners = new Set<() => void>();
  private seq = 0;
  private minValidSeq = 1;
  private outstanding: Outstanding | null = null;
  private lastSentKey = '';
  private lastSentMono = Number.NEGATIVE_INFINITY;
  private forceSend = true;
  private currentKey = '';
  private answer: { key: string; proposals: TabProposal[] } | null = null;
  private waitingSinceMono: number | null = null;
  private late = false;
  private goodSinceMono: number | null = null;
  private readonly startedMono: number;
  private bootGraceOver = false;
  private deployingSinceMono = 0;
  private reevalQueued = false;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastVerdict: FlowVerdict['kind'] = 'pending';
  private readonly answerTimes: number[] = [];
  private sent = 0;
  private emitSignal: SignalSink | null = null;
  private reportTimer: NodeJS.Timeout | null = null;
  private lastSignalKey = '';
  private deviationWindow: number[] = [];
  private deviationsSuppressed = 0;
  private readonly offMessage: () => void;

  constructor(
    private readonly o: FlowsAdvisorOptions,
    private readonly d: FlowsAdvisorDeps,
  ) {
    this.startedMono = d.clock.monotonic();
    const onStatus = (s: RuntimeStatus) => this.onRuntimeStatus(s);
    const onMessage = (m: ChildToHost) => this.onMessage(m);
    d.runtime.on('status', onStatus);
    d.runtime.on('message', onMessage);
    this.offMessage = () => {
      d.runtime.off('status', onStatus);
      d.runtime.off('message', onMessage);
    };
  }

  // --- DecisionAdvisor -------------------------------------------------------------

  onReevaluate(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  step(
    state: PolicyState,
    health: Health,
    now: number,
    cfg: PolicyConfig,
    signals: readonly EffectiveSignal[],
    wallNow: number = now,
  ): { state: PolicyState; decision: Decision | null } {
    const mono = this.d.clock.monotonic();
    const builtin = builtinOpinion(state, health, now, cfg);
    const ctx = {
      seq: this.seq + 1,
      at: wallNow,
      signals,
      health,
      builtin,
      applied: { route: state.route, mode: state.mode, since: Number.isFinite(state.routeSince) ? state.routeSince + (wallNow - now) : null },
    };
    const key = decisionInputKey(this.builder.build(ctx, false));
    this.currentKey = key;
    if (this.answer?.key === key) this.waitingSinceMono = null;
    else this.waitingSinceMono ??= mono;

    const rs = this.d.runtime.status().state;
    const due = this.forceSend || key !== this.lastSentKey || mono - this.lastSentMono >= this.o.evalEveryMs;
    if (rs === 'running' && !this.outstanding && due) {
      const input = this.builder.build(ctx);
      if (this.d.runtime.sendEval(input)) {
        this.seq = input.seq;
        this.sent++;
        this.outstanding = { seq: input.seq, key, sentMono: mono };
        this.lastSentKey = key;
        this.lastSentMono = mono;
        this.forceSend = false;
        this.arm(mono + this.o.proposalTimeoutMs);
      }
    }
    const verdict = this.verdict(mono);
    this.lastVerdict = verdict.kind;
    const r = flowStep(state, health, now, cfg, verdict);
    return { state: r.state, decision: r.decision };
  }

  status(): AdvisorStatus {
    const sorted = [...this.answerTimes].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number) : null);
    return {
      runtime: this.d.runtime.status(),
      trusted: !this.late,
      late: this.late,
      verdict: this.lastVerdict,
      proposals: this.answer?.proposals ?? [],
      evaluationsSent: this.sent,
      lastAnswerMs: this.answerTimes.length ? (this.answerTimes[this.answerTimes.length - 1] as number) : null,
      answerMs: { median: at(0.5), p95: at(0.95) },
    };
  }

  // --- Monitor (the `flows` subsystem) ---------------------------------------------

  async start(emit: SignalSink): Promise<void> {
    this.emitSignal = emit;
    this.report(true);
    this.reportTimer = setInterval(() => this.report(true), this.o.reportMs);
    this.reportTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.reportTimer) clearInterval(this.reportTimer);
    this.reportTimer = null;
    this.emitSignal = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Detach from the runtime (when the service shuts down). */
  dispose(): void {
    void this.stop();
    this.offMessage();
    this.listeners.clear();
  }

  // --- internals -----------------------------------------------------------------

  private verdict(mono: number): FlowVerdict {
    const rt = this.d.runtime.status();
    switch (rt.state) {
      case 'off':
      case 'stopping':
        return unavailable('flows.off', 'Flytmotoren kjører ikke; innebygd policy bestemmer', 'Flows runtime is not running; the built-in policy decides');
      case 'starting':
        if (!this.bootGraceOver && mono - this.startedMono < this.o.startGraceMs) {
          this.arm(this.startedMono + this.o.startGraceMs);
          return { kind: 'pending' };
        }
        this.bootGraceOver = true;
        return unavailable('flows.starting', 'Flytmotoren starter; innebygd policy bestemmer', 'Flows runtime is starting; the built-in policy decides');
      case 'crashed':
      case 'hung':
        return unavailable(
          `flows.${rt.state}`,
          `Flytmotoren er nede (${rt.detail}); innebygd policy bestemmer`,
          `Flows runtime is down (${rt.detail}); the built-in policy decides`,
        );
      case 'stopped':
        return unavailable(
          'flows.stopped',
          `Flytene er stoppet (${rt.detail}); innebygd policy bestemmer`,
          `Flows are stopped (${rt.detail}); the built-in policy decides`,
        );
      case 'deploying':
        if (mono - this.deployingSinceMono < this.o.deployGraceMs) {
          this.arm(this.deployingSinceMono + this.o.deployGraceMs);
          return { kind: 'pending' };
        }
        return unavailable(
          'flows.deploying',
          'Utlegging av flyt tar for lang tid; innebygd policy bestemmer',
          'A flow deploy is taking too long; the built-in policy decides',
        );
      case 'running':
        break;
    }
    this.checkLate(mono);
    if (this.late) {
      return unavailable(
        'flows.late',
        `Flyten svarte ikke innen ${this.o.proposalTimeoutMs} ms; innebygd policy bestemmer`,
        `The flow did not answer within ${this.o.proposalTimeoutMs} ms; the built-in policy decides`,
      );
    }
    if (this.answer && this.answer.key === this.currentKey) {
      return { kind: 'proposals', proposals: this.answer.proposals.map(toFlowProposal), by: this.d.versionLabel() };
    }
    // The answer to the current input is on its way (checkLate would have said otherwise).
    return { kind: 'pending' };
  }

  private checkLate(mono: number): void {
    if (this.late) return;
    const o = this.outstanding;
    if (o && mono - o.sentMono > this.o.proposalTimeoutMs) {
      this.markLate(`no answer to evaluation #${o.seq} within ${this.o.proposalTimeoutMs} ms`);
    } else if (this.waitingSinceMono !== null && mono - this.waitingSinceMono > this.o.proposalTimeoutMs) {
      this.markLate(`no answer to the changed input within ${this.o.proposalTimeoutMs} ms`);
    }
  }

  private markLate(why: string): void {
    this.late = true;
    this.goodSinceMono = null;
    this.d.event({
      kind: 'flows.late',
      severity: 'alarm',
      subsystem: 'flows',
      en: `Flows are late: ${why}; the built-in policy decides until they answer in time for ${Math.round(this.o.recoverAfterMs / 1000)} s`,
      nb: `Flytene er for sene: ${why}; den innebygde policyen bestemmer til de har svart i tide i ${Math.round(this.o.recoverAfterMs / 1000)} s`,
    });
    this.report(false);
  }

  private onMessage(m: ChildToHost): void {
    const mono = this.d.clock.monotonic();
    if (m.t === 'settled') {
      const o = this.outstanding;
      if (m.seq < this.minValidSeq) return; // answered before a restart/redeploy: void
      if (!o || m.seq !== o.seq) {
        // An answer we stopped waiting for long ago: its proposals are still the newest.
        if (this.answer) this.answer = { ...this.answer, proposals: m.proposals };
        return;
      }
      this.outstanding = null;
      const took = mono - o.sentMono;
      this.answerTimes.push(took);
      if (this.answerTimes.length > 500) this.answerTimes.shift();
      this.answer = { key: o.key, proposals: m.proposals };
      if (o.key === this.currentKey) this.waitingSinceMono = null;
      if (took <= this.o.proposalTimeoutMs) {
        this.goodSinceMono ??= mono;
        if (this.late && mono - this.goodSinceMono >= this.o.recoverAfterMs) {
          this.late = false;
          this.d.event({
            kind: 'flows.recovered',
            severity: 'info',
            subsystem: 'flows',
            en: `Flows have answered in time for ${Math.round(this.o.recoverAfterMs / 1000)} s; they decide again`,
            nb: `Flytene har svart i tide i ${Math.round(this.o.recoverAfterMs / 1000)} s; de bestemmer igjen`,
          });
          this.report(false);
        }
      } else {
        this.goodSinceMono = null;
      }
      this.reevaluate();
    } else if (m.t === 'proposal') {
      if (this.answer) this.answer = { ...this.answer, proposals: m.proposals };
      else this.answer = { key: '', proposals: m.proposals };
      this.reevaluate();
    } else if (m.t === 'deviation') {
      this.onDeviation(m.deviation);
    }
  }

  private onDeviation(dev: Extract<ChildToHost, { t: 'deviation' }>['deviation']): void {
    const now = this.d.clock.monotonic();
    this.deviationWindow = this.deviationWindow.filter((t) => now - t < 60_000);
    if (this.deviationWindow.length >= this.o.deviationsPerMinute) {
      // A flow in a loop must not flood the event log.
      if (this.deviationsSuppressed++ === 0) {
        this.d.event({
          kind: 'flows.deviation.suppressed',
          severity: 'warn',
          subsystem: 'flows',
          en: `More than ${this.o.deviationsPerMinute} deviations from flows in a minute; further ones are dropped for now`,
          nb: `Mer enn ${this.o.deviationsPerMinute} avvik fra flyter på ett minutt; flere blir forkastet en stund`,
        });
      }
      return;
    }
    this.deviationsSuppressed = 0;
    this.deviationWindow.push(now);
    this.d.event({
      kind: 'flows.deviation',
      severity: dev.severity,
      subsystem: 'flows',
      actor: `flows:${dev.nodeName ?? dev.node}`,
      en: dev.en,
      nb: dev.nb,
      data: { tab: dev.tab, node: dev.node, data: dev.data },
    });
  }

  private onRuntimeStatus(s: RuntimeStatus): void {
    const mono = this.d.clock.monotonic();
    if (s.state === 'running') {
      // New flows or a new child: what was said before is void; ask again at once.
      this.bootGraceOver = true;
      this.minValidSeq = this.seq + 1;
      this.outstanding = null;
      this.answer = null;
      this.waitingSinceMono = null;
      this.forceSend = true;
      if (this.late) {
        this.late = false;
        this.goodSinceMono = null;
      }
    } else if (s.state === 'deploying') {
      this.deployingSinceMono = mono;
    } else {
      this.outstanding = null;
      this.answer = null;
      if (s.state !== 'starting') this.bootGraceOver = true;
    }
    this.report(false);
    this.reevaluate();
  }

  private reevaluate(): void {
    if (this.reevalQueued) return;
    this.reevalQueued = true;
    setImmediate(() => {
      this.reevalQueued = false;
      for (const l of [...this.listeners]) {
        try {
          l();
        } catch (err) {
          this.d.log.error({ err: (err as Error).message }, 'flows re-evaluation failed');
        }
      }
    });
  }

  /** One timer for the nearest deadline; when it fires the supervisor evaluates again. */
  private arm(atMono: number): void {
    if (atMono >= this.timerAt && this.timer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = atMono;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
        this.reevaluate();
      },
      Math.max(0, atMono - this.d.clock.monotonic()) + 1,
    );
  }

  private report(periodic: boolean): void {
    const emit = this.emitSignal;
    if (!emit) return;
    const rt = this.d.runtime.status();
    let status: Signal['status'];
    let value: string;
    if (rt.state === 'running') {
      status = this.late ? 'fail' : 'ok';
      value = this.late ? 'late' : 'running';
    } else if (rt.state === 'deploying') {
      // A deploy is a person's intended change, not a fault (it is bounded by deployGraceMs).
      status = 'ok';
      value = rt.state;
    } else if (rt.state === 'starting') {
      status = 'warn';
      value = rt.state;
    } else {
      status = 'fail';
      value = rt.state;
    }
    const detail = this.late ? `answers later than ${this.o.proposalTimeoutMs} ms; built-in policy decides` : rt.detail;
    const key = `${status}|${value}|${detail}`;
    if (!periodic && key === this.lastSignalKey) return;
    this.lastSignalKey = key;
    emit({
      subsystem: 'flows',
      source: 'node-red',
      key: 'flows.runtime',
      status,
      value,
      observedAt: this.d.clock.now(),
      ttlMs: this.o.reportMs * 3 + 1000,
      detail,
    });
  }
}

function unavailable(code: string, nb: string, en: string): FlowVerdict {
  return { kind: 'unavailable', code, nb, en };
}

function toFlowProposal(p: TabProposal): FlowProposal {
  return {
    tab: p.tab,
    node: p.node,
    route: p.route,
    en: p.en,
    nb: p.nb,
    ...(p.tabLabel ? { tabLabel: p.tabLabel } : {}),
    ...(p.nodeName ? { nodeName: p.nodeName } : {}),
  };
}
