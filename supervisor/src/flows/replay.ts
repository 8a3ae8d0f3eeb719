/**
 * Replaying recorded signals through the decision logic, for the dry-run. No I/O here:
 * the flows are reached through the `FlowsAnswerer` the caller passes (a Node-RED child
 * in dryRun.ts, or nothing for the built-in policy alone), so the same loop — health,
 * built-in opinion, the flow's answer, flowStep — runs in tests without a child.
 */
import { builtinOpinion, type FlowVerdict, flowStep } from '../core/flowDecision.js';
import { evaluateHealth, type HealthRules } from '../core/health.js';
import { initialPolicyState, type PolicyConfig, type PolicyMode, type PolicyState, type RouteTarget, step } from '../core/policy.js';
import { isSignalStatus, SUBSYSTEMS, type Signal, type Subsystem } from '../core/signal.js';
import { SignalTable } from '../core/signalTable.js';
import type { SampleRow } from '../store/flowsStore.js';
import { EvalInputBuilder } from './evalInput.js';
import type { EvalInput, TabProposal } from './protocol.js';

/**
 * Turns recorded samples (an unchanged signal is re-stored every ~10 s) into the few
 * moments where something changed. Each kept sample's ttl is stretched over the run of
 * identical samples that followed it, so it goes stale in the replay exactly when the
 * recording stopped refreshing it.
 */
export class SampleCompressor {
  readonly events: Signal[] = [];
  private readonly byKey = new Map<string, { kept: Signal; lastAt: number }>();
  skipped = 0;
  samples = 0;

  constructor(private readonly ttlMs: number) {}

  push(r: SampleRow): void {
    this.samples++;
    if (!(SUBSYSTEMS as readonly string[]).includes(r.subsystem) || !isSignalStatus(r.status)) {
      this.skipped++;
      return;
    }
    const value = r.value === null || ['number', 'string', 'boolean'].includes(typeof r.value) ? (r.value as Signal['value']) : JSON.stringify(r.value);
    const prev = this.byKey.get(r.key);
    if (prev && r.at - prev.lastAt <= this.ttlMs && prev.kept.status === r.status && prev.kept.value === value) {
      prev.kept.ttlMs = r.at - prev.kept.observedAt + this.ttlMs;
      prev.lastAt = r.at;
      return;
    }
    const kept: Signal = {
      subsystem: r.subsystem as Subsystem,
      source: r.source,
      key: r.key,
      status: r.status,
      value,
      observedAt: r.at,
      ttlMs: this.ttlMs,
      ...(r.unit ? { unit: r.unit } : {}),
      ...(r.detail ? { detail: r.detail } : {}),
    };
    this.events.push(kept);
    this.byKey.set(r.key, { kept, lastAt: r.at });
  }
}

export interface TimelinePoint {
  at: number;
  route: RouteTarget;
  mode: PolicyMode;
  decidedBy: string;
  reason: { code: string; en: string; nb: string } | null;
}

/** The flows' answer to one input, or null when none came in time. */
export interface FlowsAnswerer {
  answer(input: EvalInput): Promise<TabProposal[] | null>;
}

export interface ReplayOptions {
  events: readonly Signal[];
  from: number;
  to: number;
  tickMs: number;
  policy: PolicyConfig;
  rules: HealthRules;
  /** null: the built-in policy alone. */
  flows: FlowsAnswerer | null;
  /** e.g. `flows:candidate` (decidedBy of the flow's decisions). */
  label: string;
  /** Checked between evaluations; throws to abort. */
  checkDeadline?: () => void;
  /** After this many answers in a row that did not come, stop asking (the flow is stuck). */
  maxConsecutiveMisses?: number;
}

export interface ReplayResult {
  timeline: TimelinePoint[];
  evaluations: number;
  missedAnswers: number;
  /** Epoch ms (replayed time) from which the flow was no longer asked, if it got stuck. */
  gaveUpAt: number | null;
}

function evaluationTimes(events: readonly Signal[], from: number, to: number, tickMs: number): number[] {
  const times = new Set<number>();
  for (let t = from; t < to; t += tickMs) times.add(t);
  for (const e of events) {
    if (e.observedAt >= from && e.observedAt < to) times.add(e.observedAt);
    // The moment it would go stale without a newer sample.
    const stale = e.observedAt + e.ttlMs + 1;
    if (stale >= from && stale < to) times.add(stale);
  }
  return [...times].sort((a, b) => a - b);
}

export async function replay(o: ReplayOptions): Promise<ReplayResult> {
  const table = new SignalTable();
  const builder = new EvalInputBuilder();
  let state: PolicyState = initialPolicyState(o.from);
  const timeline: TimelinePoint[] = [];
  let i = 0;
  let seq = 0;
  let missed = 0;
  let consecutive = 0;
  let gaveUpAt: number | null = null;
  const maxMisses = o.maxConsecutiveMisses ?? 3;
  const times = evaluationTimes(o.events, o.from, o.to, o.tickMs);
  for (const t of times) {
    o.checkDeadline?.();
    while (i < o.events.length && (o.events[i] as Signal).observedAt <= t) table.apply(o.events[i++] as Signal);
    const signals = table.effective(t);
    const health = evaluateHealth(signals, t, o.rules);
    let next: {
      state: PolicyState;
      decision: { route: RouteTarget; mode: PolicyMode; decidedBy: string; reasons: Array<{ code: string; en: string; nb: string }> } | null;
    };
    if (!o.flows) {
      next = step(state, health, t, o.policy);
    } else {
      const builtin = builtinOpinion(state, health, t, o.policy);
      const input = builder.build({
        seq: ++seq,
        at: t,
        signals,
        health,
        builtin,
        applied: { route: state.route, mode: state.mode, since: Number.isFinite(state.routeSince) ? state.routeSince : null },
      });
      let proposals: TabProposal[] | null = null;
      if (gaveUpAt === null) {
        proposals = await o.flows.answer(input);
        if (proposals === null) {
          missed++;
          if (++consecutive >= maxMisses) gaveUpAt = t;
        } else consecutive = 0;
      }
      const verdict: FlowVerdict = proposals
        ? { kind: 'proposals', proposals, by: o.label }
        : {
            kind: 'unavailable',
            code: 'flows.late',
            en: 'The flow did not answer in time; the built-in policy decides',
            nb: 'Flyten svarte ikke i tide; den innebygde policyen bestemmer',
          };
      next = flowStep(state, health, t, o.policy, verdict);
    }
    state = next.state;
    const d = next.decision;
    const last = timeline[timeline.length - 1];
    if (d && (!last || last.route !== d.route || last.mode !== d.mode || last.decidedBy !== d.decidedBy)) {
      const r = d.reasons[0];
      timeline.push({ at: t, route: d.route, mode: d.mode, decidedBy: d.decidedBy, reason: r ? { code: r.code, en: r.en, nb: r.nb } : null });
    } else if (!last) {
      timeline.push({ at: t, route: state.route, mode: state.mode, decidedBy: o.flows ? o.label : 'builtin', reason: null });
    }
  }
  return { timeline, evaluations: times.length, missedAnswers: missed, gaveUpAt };
}

export interface TimelineDifference {
  from: number;
  to: number;
  durationMs: number;
  candidate: TimelinePoint;
  current: TimelinePoint;
}

function at(tl: readonly TimelinePoint[], t: number): TimelinePoint | null {
  let found: TimelinePoint | null = null;
  for (const p of tl) {
    if (p.at <= t) found = p;
    else break;
  }
  return found;
}

/** Intervals within [from, to) where the two timelines route calls differently. */
export function diffTimelines(candidate: readonly TimelinePoint[], current: readonly TimelinePoint[], from: number, to: number): TimelineDifference[] {
  const cuts = [...new Set([from, ...candidate.map((p) => p.at), ...current.map((p) => p.at)])].filter((t) => t >= from && t < to).sort((a, b) => a - b);
  const out: TimelineDifference[] = [];
  for (let k = 0; k < cuts.length; k++) {
    const start = cuts[k] as number;
    const end = k + 1 < cuts.length ? (cuts[k + 1] as number) : to;
    const a = at(candidate, start);
    const b = at(current, start);
    if (!a || !b || a.route === b.route) continue;
    const prev = out[out.length - 1];
    if (prev && prev.to === start && prev.candidate.route === a.route && prev.current.route === b.route) {
      prev.to = end;
      prev.durationMs = end - prev.from;
    } else {
      out.push({ from: start, to: end, durationMs: end - start, candidate: a, current: b });
    }
  }
  return out;
}
