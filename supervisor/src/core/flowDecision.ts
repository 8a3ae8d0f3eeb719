/**
 * Combining a municipality's flow proposal with the built-in policy. Pure.
 *
 * The built-in policy (policy.ts) always runs, on the route actually in force, so that
 * the moment the flows fall away it has an opinion ready — with its own hold-down and
 * failback timers measured against the real history. On top of it, in this order:
 *  1. Safety floor (box shutting down, local centre unreachable on every path) → the
 *     built-in decision (backup). Flows cannot override it.
 *  2. A manual override → the built-in decision (maintenance). A person at the box wins
 *     over a flow.
 *  3. Flows unavailable (stopped, crashed, hung, late, not trusted yet) → the built-in
 *     decision, with a reason that says so.
 *  4. Flows pending (the answer to the latest input is not in yet, still within its
 *     timeout) → keep the route in force. Applying the built-in decision first and the
 *     flow's a few ms later would move calls twice and then sit out a hold-down.
 *  5. Flow proposals: backup beats local beats "builtin" (defer). A change of route is
 *     still subject to the hold-down: flows cannot make the route flap.
 */
import type { Health } from './health.js';
import { type Decision, type PolicyConfig, type PolicyMode, type PolicyState, type RouteTarget, step } from './policy.js';
import { type Reason, reason, reasonsKey } from './reason.js';

export type FlowRoute = RouteTarget | 'builtin';

export interface FlowProposal {
  tab: string;
  tabLabel?: string;
  node: string;
  nodeName?: string;
  route: FlowRoute;
  en: string;
  nb: string;
}

export type FlowVerdict =
  | { kind: 'proposals'; proposals: readonly FlowProposal[] /** e.g. `flows:v3` */; by: string }
  | { kind: 'pending' }
  | { kind: 'unavailable'; code: string; en: string; nb: string };

/** Never equal to a real reasons key: makes step() always return its decision (with reasons). */
const FORCE_DECISION = '\u0000force';

const RANK: Record<FlowRoute, number> = { builtin: 0, local: 1, backup: 2 };

/**
 * Several tabs may propose at once. The most conservative wins: backup, then local,
 * then "let the built-in policy decide". Returns the winning route and the proposals
 * that made it.
 */
export function combineProposals(proposals: readonly FlowProposal[]): { route: FlowRoute; decisive: FlowProposal[] } {
  let route: FlowRoute = 'builtin';
  for (const p of proposals) if (RANK[p.route] > RANK[route]) route = p.route;
  return { route, decisive: proposals.filter((p) => p.route === route) };
}

function proposalReason(p: FlowProposal): Reason {
  const where = p.tabLabel ? ` [${p.tabLabel}${p.nodeName ? ` / ${p.nodeName}` : ''}]` : '';
  return reason('flows.proposal', 'flows', [], `Flyt: ${p.nb}${where}`, `Flow: ${p.en}${where}`);
}

interface Chosen {
  route: RouteTarget;
  mode: PolicyMode;
  reasons: Reason[];
  decidedBy: string;
}

function finish(prev: PolicyState, next: PolicyState, c: Chosen, now: number): { state: PolicyState; decision: Decision | null } {
  const routeChanged = c.route !== prev.route;
  // The flow's own words are part of "why": a changed text is a changed reason.
  const key = `${reasonsKey(c.reasons)}#${c.decidedBy}#${c.reasons
    .filter((r) => r.subsystem === 'flows')
    .map((r) => r.en)
    .join('|')}`;
  const state: PolicyState = {
    ...next,
    route: c.route,
    mode: c.mode,
    routeSince: routeChanged ? now : prev.routeSince,
    modeSince: c.mode !== prev.mode ? now : prev.modeSince,
    reasonsKey: key,
  };
  const changed = routeChanged || c.mode !== prev.mode || key !== prev.reasonsKey || next.override !== prev.override;
  if (!changed) return { state, decision: null };
  return {
    state,
    decision: {
      at: now,
      mode: c.mode,
      route: c.route,
      previousMode: prev.mode,
      previousRoute: prev.route,
      routeChanged,
      reasons: c.reasons,
      override: next.override,
      decidedBy: c.decidedBy,
    },
  };
}

/** What the built-in policy would decide now, with its reasons (even when nothing changed). */
export function builtinOpinion(state: PolicyState, health: Health, now: number, cfg: PolicyConfig): Decision {
  // step() always decides when the previous reasons key cannot match.
  return step({ ...state, reasonsKey: FORCE_DECISION }, health, now, cfg).decision as Decision;
}

/**
 * One evaluation with flows in the loop. Same contract as policy.step(): returns the
 * next state and a decision when route, mode or reasons changed.
 */
export function flowStep(
  state: PolicyState,
  health: Health,
  now: number,
  cfg: PolicyConfig,
  verdict: FlowVerdict,
): { state: PolicyState; decision: Decision | null; builtin: Decision } {
  const b = step({ ...state, reasonsKey: FORCE_DECISION }, health, now, cfg);
  // step() always decides when the previous reasons key cannot match.
  const builtin = b.decision as Decision;
  const asBuiltin = (extra: Reason[] = []) =>
    finish(state, b.state, { route: builtin.route, mode: builtin.mode, reasons: [...builtin.reasons, ...extra], decidedBy: 'builtin' }, now);

  if (health.floor.length > 0 || builtin.override) return { ...asBuiltin(), builtin };

  if (verdict.kind === 'unavailable') return { ...asBuiltin([reason(verdict.code, 'flows', [], verdict.nb, verdict.en)]), builtin };

  if (verdict.kind === 'pending') {
    // Keep everything as it is, but let the built-in bookkeeping (healthySince, an
    // expired override) advance.
    const kept: PolicyState = {
      ...b.state,
      route: state.route,
      mode: state.mode,
      routeSince: state.routeSince,
      modeSince: state.modeSince,
      reasonsKey: state.reasonsKey,
    };
    return { state: kept, decision: null, builtin };
  }

  const { route: proposed, decisive } = combineProposals(verdict.proposals);
  if (proposed === 'builtin') return { ...asBuiltin(), builtin };

  const flowReasons = decisive.map(proposalReason);
  // Facts behind the built-in decision stay visible; its own policy words only when it agrees.
  const facts = builtin.reasons.filter((r) => r.subsystem !== 'policy');
  if (proposed !== state.route && now - state.routeSince < cfg.holdDownMs) {
    const waitS = Math.ceil((cfg.holdDownMs - (now - state.routeSince)) / 1000);
    const hold = reason(
      'policy.holdDown',
      'policy',
      [],
      `Venter ${waitS} s (hold-down) før ny omruting`,
      `Waiting ${waitS} s (hold-down) before rerouting again`,
    );
    return {
      ...finish(state, b.state, { route: state.route, mode: state.mode, reasons: [...flowReasons, hold, ...facts], decidedBy: verdict.by }, now),
      builtin,
    };
  }
  const agrees = proposed === builtin.route;
  const mode: PolicyMode = agrees ? builtin.mode : proposed === 'backup' ? 'failover' : 'degraded';
  const reasons = agrees ? [...flowReasons, ...builtin.reasons] : [...flowReasons, ...facts];
  return { ...finish(state, b.state, { route: proposed, mode, reasons, decidedBy: verdict.by }, now), builtin };
}
