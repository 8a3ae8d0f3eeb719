/**
 * The built-in routing policy: health in, target route out. Pure state machine.
 *
 *   normal ──fault──► failover ──all clear──► recovering ──stable for failbackHold──► normal
 *     │  ▲                                       │ fault again
 *     ▼  │ (non-trigger problems)                ▼
 *   degraded                                   failover
 *   maintenance: a manual override is active (wins until it expires)
 *
 * Rules, in order of precedence:
 *  1. Safety floor (box shutting down, local centre unreachable on every path) → backup, always.
 *  2. A manual override wins until it expires.
 *  3. A failing trigger subsystem → backup at once (fail over fast) — unless the route
 *     changed less than holdDown ago (never flap faster than the hold-down).
 *  4. Back to local only after every trigger subsystem has been known-good
 *     (not unknown, not failing) for failbackHold, and the hold-down has passed.
 * Unknown is never healthy: it keeps the box out of `normal` and blocks failback.
 */
import type { Health } from './health.js';
import { type Reason, reason, reasonsKey } from './reason.js';
import type { Subsystem } from './signal.js';

export type RouteTarget = 'local' | 'backup';
export const POLICY_MODES = ['normal', 'degraded', 'failover', 'recovering', 'maintenance'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export interface Override {
  route: RouteTarget;
  /** Epoch ms when the override ends by itself. */
  until: number;
  by: string;
  reason: string;
  setAt: number;
}

export interface PolicyConfig {
  /** Subsystems that are monitored on this box; others are ignored by the policy. */
  monitored: readonly Subsystem[];
  /** Subsystems whose failure moves calls to backup. */
  failoverOn: readonly Subsystem[];
  /** How long every trigger must be known-good before calls return to local (ms). */
  failbackHoldMs: number;
  /** Minimum time between two route changes caused by health (ms). */
  holdDownMs: number;
}

export interface PolicyState {
  mode: PolicyMode;
  route: RouteTarget;
  /** When the current route was set (epoch ms). */
  routeSince: number;
  /** When the current mode was entered. */
  modeSince: number;
  /** Since when every trigger subsystem has been known-good; null if not. */
  healthySince: number | null;
  override: Override | null;
  /** Identity of the last reasons, to notice a change of "why". */
  reasonsKey: string;
}

export interface Decision {
  at: number;
  mode: PolicyMode;
  route: RouteTarget;
  previousMode: PolicyMode;
  previousRoute: RouteTarget;
  routeChanged: boolean;
  reasons: Reason[];
  override: Override | null;
  /** Set when a decision came from a source other than the built-in policy (e.g. flows). */
  decidedBy: string;
}

export function initialPolicyState(now: number, stored?: Pick<PolicyState, 'route' | 'routeSince' | 'mode' | 'override'>): PolicyState {
  // On restart we resume the stored target: no route change until health says so.
  return {
    mode: stored?.mode ?? 'degraded',
    route: stored?.route ?? 'local',
    // No history: nothing to hold down, so a fault right after boot fails over at once.
    routeSince: stored?.routeSince ?? Number.NEGATIVE_INFINITY,
    modeSince: now,
    healthySince: null,
    override: stored?.override ?? null,
    reasonsKey: '',
  };
}

interface Desired {
  mode: PolicyMode;
  route: RouteTarget;
  reasons: Reason[];
}

function triggerReasons(health: Health, cfg: PolicyConfig): Reason[] {
  const out: Reason[] = [];
  for (const sub of cfg.failoverOn) {
    if (!cfg.monitored.includes(sub)) continue;
    const h = health.subsystems[sub];
    if (h.status === 'fail') out.push(...h.reasons.filter((r) => r.code !== 'signal.ok'));
  }
  return out;
}

function problemReasons(health: Health, cfg: PolicyConfig): Reason[] {
  const out: Reason[] = [];
  for (const sub of cfg.monitored) {
    const h = health.subsystems[sub];
    if (h.status !== 'ok') out.push(...h.reasons);
  }
  return out;
}

function triggersKnownGood(health: Health, cfg: PolicyConfig): boolean {
  return cfg.failoverOn
    .filter((s) => cfg.monitored.includes(s))
    .every((s) => {
      const st = health.subsystems[s].status;
      return st === 'ok' || st === 'warn';
    });
}

export function step(state: PolicyState, health: Health, now: number, cfg: PolicyConfig): { state: PolicyState; decision: Decision | null } {
  const override = state.override && now < state.override.until ? state.override : null;
  const healthySince = triggersKnownGood(health, cfg) && health.floor.length === 0 ? (state.healthySince ?? now) : null;
  const holdDownOver = now - state.routeSince >= cfg.holdDownMs;
  const desired = decide(state, health, now, cfg, override, healthySince, holdDownOver);

  const routeChanged = desired.route !== state.route;
  const key = reasonsKey(desired.reasons);
  const changed = routeChanged || desired.mode !== state.mode || key !== state.reasonsKey || override !== state.override;
  const next: PolicyState = {
    mode: desired.mode,
    route: desired.route,
    routeSince: routeChanged ? now : state.routeSince,
    modeSince: desired.mode !== state.mode ? now : state.modeSince,
    healthySince,
    override,
    reasonsKey: key,
  };
  if (!changed) return { state: next, decision: null };
  return {
    state: next,
    decision: {
      at: now,
      mode: desired.mode,
      route: desired.route,
      previousMode: state.mode,
      previousRoute: state.route,
      routeChanged,
      reasons: desired.reasons,
      override,
      decidedBy: 'builtin',
    },
  };
}

function decide(
  state: PolicyState,
  health: Health,
  now: number,
  cfg: PolicyConfig,
  override: Override | null,
  healthySince: number | null,
  holdDownOver: boolean,
): Desired {
  if (health.floor.length > 0) {
    // The floor decides; the other failing triggers are shown too, so "why" is complete.
    const floorCodes = new Set(health.floor.map((r) => r.code));
    const others = triggerReasons(health, cfg).filter((r) => !floorCodes.has(r.code));
    return { mode: 'failover', route: 'backup', reasons: [...health.floor, ...others] };
  }
  if (override) {
    const until = new Date(override.until).toISOString();
    return {
      mode: 'maintenance',
      route: override.route,
      reasons: [
        reason(
          'policy.override',
          'policy',
          [],
          `Manuelt satt til ${override.route === 'local' ? 'lokal' : 'reserve'} av ${override.by} til ${until}: ${override.reason}`,
          `Manually set to ${override.route} by ${override.by} until ${until}: ${override.reason}`,
        ),
      ],
    };
  }
  const triggers = triggerReasons(health, cfg);
  if (triggers.length > 0) {
    if (state.route === 'local' && !holdDownOver) {
      const waitS = Math.ceil((cfg.holdDownMs - (now - state.routeSince)) / 1000);
      return {
        mode: 'degraded',
        route: 'local',
        reasons: [
          ...triggers,
          reason('policy.holdDown', 'policy', [], `Venter ${waitS} s (hold-down) før ny omruting`, `Waiting ${waitS} s (hold-down) before rerouting again`),
        ],
      };
    }
    return { mode: 'failover', route: 'backup', reasons: triggers };
  }
  if (state.route === 'backup') {
    if (healthySince === null) {
      return {
        mode: 'failover',
        route: 'backup',
        reasons: [
          reason(
            'policy.waitingForHealth',
            'policy',
            [],
            'Blir på reserve til alle kontroller er kjent gode',
            'Staying on backup until every check is known good',
          ),
          ...problemReasons(health, cfg),
        ],
      };
    }
    const stableFor = now - healthySince;
    if (stableFor >= cfg.failbackHoldMs && holdDownOver) {
      return localMode(health, cfg, [
        reason('policy.failback', 'policy', [], 'Stabil lenge nok: tilbake til lokal sentral', 'Stable long enough: back to the local centre'),
      ]);
    }
    const waitS = Math.ceil(Math.max(cfg.failbackHoldMs - stableFor, cfg.holdDownMs - (now - state.routeSince)) / 1000);
    return {
      mode: 'recovering',
      route: 'backup',
      reasons: [
        reason(
          'policy.recovering',
          'policy',
          [],
          `Alt er i orden; tilbake til lokal om ${waitS} s hvis det holder seg`,
          `All clear; back to local in ${waitS} s if it stays so`,
        ),
      ],
    };
  }
  return localMode(health, cfg, []);
}

function localMode(health: Health, cfg: PolicyConfig, lead: Reason[]): Desired {
  const problems = problemReasons(health, cfg);
  if (problems.length > 0) return { mode: 'degraded', route: 'local', reasons: [...lead, ...problems] };
  const allOk = reason('policy.allOk', 'policy', [], 'Alle kontroller er i orden', 'All checks are OK');
  return { mode: 'normal', route: 'local', reasons: lead.length > 0 ? lead : [allOk] };
}
