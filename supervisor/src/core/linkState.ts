/**
 * Uplink health and path reachability — pure state machines, no I/O.
 *
 * A link is judged by *probe rounds*: every `intervalMs` the monitor probes all of
 * the link's targets at once; a round is answered if any target answered. Why all
 * targets at once rather than round-robin: with one anchor dead, round-robin would
 * leave the streak rule watching a single target at half the rate — at 5 % loss
 * that is a false "down" every half hour instead of every few months.
 *
 *   unknown ──upAfter answered──▶ ok ⇄ degraded      (loss % / median RTT, with hysteresis)
 *      │                          │        │
 *      └──downAfter lost──▶ down ◀┴────────┘  downAfter lost rounds in a row, or carrier loss (at once)
 *                            └──upAfter answered (carrier up)──▶ ok/degraded
 *
 * The expected false-down rate of the streak rule is in `falseDownsPerDay` and
 * ops/net/README.md.
 *
 * On top of that machine, flap damping (RFC 2439 / IP event dampening, below): a
 * link whose down edges come too often is *reported* as `flapping` — one state, held
 * until its penalty decays — instead of one event per edge. The raw state above keeps
 * running underneath, so the link resumes normal reporting with its true state.
 */
import type { SignalStatus } from './signal.js';

/** `flapping` is only ever reported (damping); the raw state machine never enters it. */
export type LinkHealth = 'unknown' | 'ok' | 'degraded' | 'down' | 'flapping';

export interface LinkParams {
  /** Consecutive lost rounds (no target answered) before the link is down. */
  downAfter: number;
  /** Consecutive answered rounds (with carrier) before a down/unknown link is up. */
  upAfter: number;
  /** Rounds kept for loss % and RTT. */
  windowRounds: number;
  /** Enter `degraded` at or above this probe loss % over the window. */
  degradedLossPct: number;
  /** Leave `degraded` only below this loss % (hysteresis). */
  recoverLossPct: number;
  /** Enter `degraded` when the window's median RTT reaches this; leave below 80 % of it. */
  degradedRttMs: number;
  /** Rounds needed in the window before loss % may make a link degraded. */
  minRoundsForLoss: number;
  /**
   * Optional dpinger-style rule: down when lost rounds over the window reach this %
   * of `windowRounds` (a fixed denominator: rounds not yet seen count as fine, as for
   * a link that was healthy before the window). Used to model peers in the bench.
   */
  downLossPct?: number;
}

/** One probe round as the monitor saw it. */
export interface RoundResult {
  /** At least one target answered. */
  answered: boolean;
  /** Probes sent and probes lost in the round (for packet-level loss %). */
  sent: number;
  lost: number;
  /** Best RTT among the answers (ms). */
  rttMs?: number;
  /** What went wrong, when nothing answered. */
  detail?: string;
}

interface WindowEntry {
  answered: boolean;
  sent: number;
  lost: number;
  rttMs?: number;
}

export interface LinkState {
  health: LinkHealth;
  /** Carrier as last reported; undefined until the first link event. */
  carrierUp: boolean | undefined;
  lostStreak: number;
  answeredStreak: number;
  window: readonly WindowEntry[];
  /** Why the link is in its current health. */
  reason: string;
  /** When `health` last changed (epoch ms), undefined before the first change. */
  changedAt: number | undefined;
}

export function initialLinkState(): LinkState {
  return {
    health: 'unknown',
    carrierUp: undefined,
    lostStreak: 0,
    answeredStreak: 0,
    window: [],
    reason: 'no probe results yet',
    changedAt: undefined,
  };
}

export interface LinkStats {
  /** Probe loss % over the window; undefined with no probes yet. */
  lossPct: number | undefined;
  /** Median RTT of the answered rounds in the window; undefined with none. */
  rttMs: number | undefined;
  rounds: number;
  probes: number;
}

export function linkStats(s: LinkState): LinkStats {
  let sent = 0;
  let lost = 0;
  const rtts: number[] = [];
  for (const w of s.window) {
    sent += w.sent;
    lost += w.lost;
    if (w.rttMs !== undefined) rtts.push(w.rttMs);
  }
  rtts.sort((a, b) => a - b);
  const mid = rtts.length >> 1;
  const median = rtts.length === 0 ? undefined : rtts.length % 2 ? rtts[mid] : ((rtts[mid - 1] as number) + (rtts[mid] as number)) / 2;
  return { lossPct: sent === 0 ? undefined : (100 * lost) / sent, rttMs: median, rounds: s.window.length, probes: sent };
}

function withHealth(s: LinkState, health: LinkHealth, reason: string, now: number): LinkState {
  if (health === s.health) return { ...s, reason };
  return { ...s, health, reason, changedAt: now };
}

/** ok or degraded from the window; `wasDegraded` applies the recovery hysteresis. */
function quality(s: LinkState, p: LinkParams, wasDegraded: boolean): { health: 'ok' | 'degraded'; reason: string } {
  const st = linkStats(s);
  const lossLimit = wasDegraded ? p.recoverLossPct : p.degradedLossPct;
  const rttLimit = wasDegraded ? 0.8 * p.degradedRttMs : p.degradedRttMs;
  const lossy = st.lossPct !== undefined && st.rounds >= p.minRoundsForLoss && st.lossPct >= lossLimit;
  const slow = st.rttMs !== undefined && st.rttMs >= rttLimit;
  if (lossy || slow) {
    const cmp = wasDegraded ? 'not yet below' : '≥';
    const why = [
      lossy ? `probe loss ${st.lossPct?.toFixed(1)} % ${cmp} ${lossLimit} %` : undefined,
      slow ? `median RTT ${st.rttMs?.toFixed(0)} ms ${cmp} ${rttLimit.toFixed(0)} ms` : undefined,
    ].filter(Boolean);
    return { health: 'degraded', reason: why.join(', ') };
  }
  return { health: 'ok', reason: 'probes answered' };
}

/** A carrier / admin-state change from the link watcher. Carrier loss is down at once. */
export function onCarrier(s: LinkState, up: boolean, reason: string, now: number): LinkState {
  if (!up) {
    return withHealth({ ...s, carrierUp: false, answeredStreak: 0 }, 'down', reason, now);
  }
  // Carrier back: still down until upAfter rounds answer through it.
  const next = { ...s, carrierUp: true, answeredStreak: 0 };
  return s.health === 'down' ? { ...next, reason: `${reason}; waiting for probes to answer` } : next;
}

export function onRound(s: LinkState, p: LinkParams, r: RoundResult, now: number): LinkState {
  const entry: WindowEntry = { answered: r.answered, sent: r.sent, lost: r.lost, ...(r.rttMs !== undefined ? { rttMs: r.rttMs } : {}) };
  let next: LinkState = {
    ...s,
    window: [...s.window, entry].slice(-p.windowRounds),
    lostStreak: r.answered ? 0 : s.lostStreak + 1,
    // While the carrier is known down nothing can honestly answer through the link.
    answeredStreak: r.answered && s.carrierUp !== false ? s.answeredStreak + 1 : 0,
  };

  if (next.carrierUp === false) return withHealth(next, 'down', s.reason, now);

  const lostReason = () => `${next.lostStreak} probe rounds in a row lost to every target${r.detail ? ` (${r.detail})` : ''}`;

  if (s.health === 'down' || s.health === 'unknown') {
    if (next.answeredStreak >= p.upAfter) {
      // A fresh window: the outage's losses are history, not the link's current quality.
      next = { ...next, window: next.window.slice(-next.answeredStreak) };
      const q = quality(next, p, false);
      return withHealth(next, q.health, `${next.answeredStreak} probe rounds in a row answered; ${q.reason}`, now);
    }
    if (s.health === 'unknown' && next.lostStreak >= p.downAfter) return withHealth(next, 'down', lostReason(), now);
    return next;
  }

  // ok or degraded
  if (next.lostStreak >= p.downAfter) return withHealth(next, 'down', lostReason(), now);
  if (p.downLossPct !== undefined) {
    const lostRounds = next.window.reduce((n, w) => n + (w.answered ? 0 : 1), 0);
    if ((100 * lostRounds) / p.windowRounds >= p.downLossPct) {
      return withHealth(next, 'down', `${lostRounds} of the last ${p.windowRounds} probe rounds lost (≥ ${p.downLossPct} %)`, now);
    }
  }
  const q = quality(next, p, s.health === 'degraded');
  return withHealth(next, q.health, q.reason, now);
}

/** The site's WAN: down only when every link is down (a flapping link counts as down: it is not trusted). */
export function siteWan(links: readonly LinkHealth[]): LinkHealth {
  if (links.length === 0) return 'unknown';
  if (links.every((h) => h === 'down' || h === 'flapping')) return 'down';
  if (links.includes('ok')) return 'ok';
  if (links.includes('degraded')) return 'degraded';
  return 'unknown';
}

export function healthStatus(h: LinkHealth): SignalStatus {
  switch (h) {
    case 'ok':
      return 'ok';
    case 'degraded':
      return 'warn';
    case 'down':
    case 'flapping':
      // fail, not warn: warn counts as known-good in the policy, and a flapping link's
      // "up" moments must not let calls fail back.
      return 'fail';
    case 'unknown':
      return 'unknown';
  }
}

// ── Flap damping (RFC 2439 §4.2 / Cisco IP event dampening) ──────────────────

export interface DampingParams {
  /** Added per down edge. */
  penalty: number;
  /** At or above this the link is suppressed (reported `flapping`). */
  suppressAt: number;
  /** Below this a suppressed link is reported normally again. */
  reuseAt: number;
  /** The penalty halves every this long (ms). */
  halfLifeMs: number;
  /** Cap: the penalty never exceeds what decays to `reuseAt` in this long (ms). */
  maxSuppressMs: number;
}

export interface DampState {
  /** Penalty as of `at` (decays from there). */
  penalty: number;
  /** Monotonic ms the penalty was last updated. */
  at: number;
  suppressed: boolean;
  /** Down edges counted since the penalty was last zero-ish (for the detail text). */
  downEdges: number;
  /** Monotonic ms suppression began. */
  suppressedAt: number | undefined;
}

export function initialDamp(now = 0): DampState {
  return { penalty: 0, at: now, suppressed: false, downEdges: 0, suppressedAt: undefined };
}

/** The highest penalty kept: decays to `reuseAt` in exactly `maxSuppressMs`. */
export function penaltyCeiling(p: DampingParams): number {
  return p.reuseAt * 2 ** (p.maxSuppressMs / p.halfLifeMs);
}

/** The penalty at `now` (exponential decay, half-life `halfLifeMs`). */
export function penaltyAt(d: DampState, p: DampingParams, now: number): number {
  const dt = Math.max(0, now - d.at);
  return d.penalty * 2 ** (-dt / p.halfLifeMs);
}

/** Let time pass: decay the penalty and lift suppression once it is below `reuseAt`. */
export function dampDecay(d: DampState, p: DampingParams, now: number): DampState {
  const penalty = penaltyAt(d, p, now);
  const suppressed = d.suppressed && penalty >= p.reuseAt;
  // Forget the edge count once the penalty is negligible (one edge's worth has mostly decayed).
  const downEdges = penalty < p.penalty / 16 ? 0 : d.downEdges;
  return { penalty, at: Math.max(now, d.at), suppressed, downEdges, suppressedAt: suppressed ? d.suppressedAt : undefined };
}

/** A down edge (the link went from up to down): add the penalty; suppress at or above `suppressAt`. */
export function dampDownEdge(d: DampState, p: DampingParams, now: number): DampState {
  const decayed = dampDecay(d, p, now);
  const penalty = Math.min(penaltyCeiling(p), decayed.penalty + p.penalty);
  const suppressed = decayed.suppressed || penalty >= p.suppressAt;
  return {
    penalty,
    at: decayed.at,
    suppressed,
    downEdges: decayed.downEdges + 1,
    suppressedAt: suppressed ? (decayed.suppressedAt ?? now) : undefined,
  };
}

/** How long until a suppressed link is reused if it does not flap again (ms); 0 when not suppressed. */
export function msUntilReuse(d: DampState, p: DampingParams, now: number): number {
  if (!d.suppressed) return 0;
  const pen = penaltyAt(d, p, now);
  return pen < p.reuseAt ? 0 : p.halfLifeMs * Math.log2(pen / p.reuseAt);
}

/** The up → down edge that damping counts (unknown → down at start is not a flap). */
export function isDownEdge(before: LinkHealth, after: LinkHealth): boolean {
  return (before === 'ok' || before === 'degraded') && after === 'down';
}

// ── Path reachability (a centre over one uplink) ─────────────────────────────

export interface ReachParams {
  /** Consecutive unanswered probes before the path is `fail`. */
  failAfter: number;
  /** Consecutive answered probes before the path is `ok`. */
  okAfter: number;
}

export interface ReachState {
  status: 'unknown' | 'ok' | 'fail';
  failStreak: number;
  okStreak: number;
}

export function initialReach(): ReachState {
  return { status: 'unknown', failStreak: 0, okStreak: 0 };
}

export function onReachProbe(s: ReachState, p: ReachParams, answered: boolean): ReachState {
  const failStreak = answered ? 0 : s.failStreak + 1;
  const okStreak = answered ? s.okStreak + 1 : 0;
  let status = s.status;
  if (okStreak >= p.okAfter) status = 'ok';
  else if (failStreak >= p.failAfter) status = 'fail';
  return { status, failStreak, okStreak };
}

/**
 * A centre over all paths: reachable if any path is ok; unreachable only when every
 * path says fail; anything else (a path unknown or stale) is unknown — never healthy.
 */
export function combinePaths(paths: readonly SignalStatus[]): 'reachable' | 'unreachable' | 'unknown' {
  if (paths.includes('ok') || paths.includes('warn')) return 'reachable';
  if (paths.length > 0 && paths.every((s) => s === 'fail')) return 'unreachable';
  return 'unknown';
}

// ── The false-down arithmetic behind the defaults ────────────────────────────

/**
 * Expected false "down" transitions per day of the streak rule on a link that is
 * healthy but loses each round independently with probability `roundLoss`:
 * a run of `downAfter` losses starts after an answered round, so the rate is
 * (1 − q)·q^N per round. With several targets probed per round and independent
 * loss, q is the product of the targets' loss probabilities.
 */
export function falseDownsPerDay(roundLoss: number, downAfter: number, intervalMs: number): number {
  const roundsPerDay = 86_400_000 / intervalMs;
  return roundsPerDay * (1 - roundLoss) * roundLoss ** downAfter;
}

/** Worst-case time from a silent failure to `down`: the last lost round's send plus its timeout. */
export function worstDetectionMs(downAfter: number, intervalMs: number, timeoutMs: number): number {
  return downAfter * intervalMs + timeoutMs;
}
