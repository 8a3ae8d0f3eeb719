/**
 * Where a caller actually ends up — the operator's headline. Pure.
 *
 * The route (local | backup) is where Vaktpost *sends* calls. It is not enough for the
 * headline: with the call router down, or with no centre answering, "BACKUP CENTRE"
 * would look like a normal failover while callers reach nobody. So:
 *  - `noRouter`     — the call router on this box (Kamailio) is down: calls cannot be sent
 *                     to the local centre from here; only the carrier's own reroute helps;
 *  - `announcement` — the centre calls go to answers on no path (and the other one does
 *                     not either, or is taken out): callers hear the recorded message that
 *                     tells them to call 113 if it is acute;
 *  - otherwise the route itself — also when every WAN link is down: then the box cannot see
 *    any centre, which says nothing about whether they answer; calls reach the backup through
 *    the carrier's reroute (the heartbeat stopped), and the WAN reasons say so.
 * The first two are critical: the UI shows them as their own state, with what to do.
 */
import type { Health } from './health.js';
import type { RouteTarget } from './policy.js';
import type { Reason } from './reason.js';

export type CallPath = RouteTarget | 'announcement' | 'noRouter';

export interface CallPathState {
  path: CallPath;
  critical: boolean;
  reasons: Reason[];
}

export function callPath(route: RouteTarget, health: Health): CallPathState {
  const router = health.subsystems.telephony.reasons.filter((r) => r.signals.includes('telephony.kamailio') && r.code === 'signal.fail');
  if (router.length > 0) return { path: 'noRouter', critical: true, reasons: router };
  if (health.subsystems.wan.reasons.some((r) => r.code === 'wan.allLinksDown')) return { path: route, critical: false, reasons: [] };
  const centres = health.subsystems.centres.reasons;
  const local = centres.filter((r) => r.code === 'centres.localUnreachable');
  const backup = centres.filter((r) => r.code === 'centres.backupUnreachable');
  const target = route === 'local' ? local : backup;
  if (target.length > 0) return { path: 'announcement', critical: true, reasons: [...local, ...backup] };
  return { path: route, critical: false, reasons: [] };
}
