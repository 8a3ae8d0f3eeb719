/**
 * Turns one supervisor evaluation (signals, health, the built-in decision, the route
 * in force) into the JSON the flows receive, and works out what changed since the
 * previous one. No I/O: shared by the live advisor and the dry-run replay, so a flow
 * sees exactly the same inputs in both.
 */
import type { Health } from '../core/health.js';
import type { Decision, PolicyMode, RouteTarget } from '../core/policy.js';
import type { Reason } from '../core/reason.js';
import type { EffectiveSignal } from '../core/signalTable.js';
import type { EvalInput, WireReason, WireSignal } from './protocol.js';

const wireReason = (r: Reason): WireReason => ({ code: r.code, en: r.en, nb: r.nb });

export interface EvalContext {
  seq: number;
  at: number;
  signals: readonly EffectiveSignal[];
  health: Health;
  builtin: Pick<Decision, 'route' | 'mode' | 'reasons'>;
  applied: { route: RouteTarget; mode: PolicyMode; since: number | null };
  initial?: boolean;
}

export class EvalInputBuilder {
  private prevSignals = new Map<string, string>();
  private prevSignalStatus = new Map<string, string>();
  private prevHealth = new Map<string, string>();
  private prevFloor = '';
  private prevBuiltin = '';

  /** `commit: false` computes the input without moving the "previous" it compares against. */
  build(c: EvalContext, commit = true): EvalInput {
    const changed: string[] = [];
    const statusChanged: string[] = [];
    const signals: Record<string, WireSignal> = {};
    const seenKeys = new Set<string>();
    for (const s of c.signals) {
      seenKeys.add(s.key);
      signals[s.key] = {
        subsystem: s.subsystem,
        status: s.status,
        value: s.value,
        ...(s.unit ? { unit: s.unit } : {}),
        ...(s.detail ? { detail: s.detail } : {}),
        stale: s.stale,
        changedAt: s.changedAt,
      };
      const id = `${s.status}|${JSON.stringify(s.value)}`;
      if (this.prevSignals.get(s.key) !== id) changed.push(s.key);
      if (this.prevSignalStatus.get(s.key) !== s.status) statusChanged.push(s.key);
      if (commit) {
        this.prevSignals.set(s.key, id);
        this.prevSignalStatus.set(s.key, s.status);
      }
    }
    if (commit)
      for (const k of [...this.prevSignals.keys()]) {
        if (!seenKeys.has(k)) {
          this.prevSignals.delete(k);
          this.prevSignalStatus.delete(k);
        }
      }
    const health: EvalInput['health'] = {};
    for (const [sub, h] of Object.entries(c.health.subsystems)) {
      health[sub] = { status: h.status, reasons: h.reasons.map(wireReason) };
      if (this.prevHealth.get(sub) !== h.status) {
        changed.push(`health.${sub}`);
        statusChanged.push(`health.${sub}`);
      }
      if (commit) this.prevHealth.set(sub, h.status);
    }
    const floorKey = c.health.floor.map((r) => r.code).join(',');
    if (floorKey !== this.prevFloor) {
      changed.push('floor');
      statusChanged.push('floor');
    }
    if (commit) this.prevFloor = floorKey;
    const builtinKey = `${c.builtin.route}|${c.builtin.mode}`;
    if (builtinKey !== this.prevBuiltin) {
      changed.push('builtin');
      statusChanged.push('builtin');
    }
    if (commit) this.prevBuiltin = builtinKey;
    return {
      seq: c.seq,
      at: c.at,
      changed,
      statusChanged,
      initial: c.initial ?? false,
      signals,
      health,
      floor: c.health.floor.map(wireReason),
      builtin: { route: c.builtin.route, mode: c.builtin.mode, reasons: c.builtin.reasons.map(wireReason) },
      applied: { route: c.applied.route, mode: c.applied.mode, since: Number.isFinite(c.applied.since ?? 0) ? c.applied.since : null },
    };
  }
}

/**
 * What a flow decides on, without the time: when this changes, the answer to the new
 * input must be awaited before the route moves (see core/flowDecision.ts, "pending").
 */
export function decisionInputKey(input: EvalInput): string {
  const sig = Object.entries(input.signals)
    .map(([k, s]) => `${k}=${s.status}:${JSON.stringify(s.value)}`)
    .join(';');
  const health = Object.entries(input.health)
    .map(([k, h]) => `${k}=${h.status}`)
    .join(';');
  return `${sig}#${health}#${input.floor.map((r) => r.code).join(',')}#${input.builtin.route}:${input.builtin.mode}`;
}
