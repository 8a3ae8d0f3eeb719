/**
 * Time health: turns chronyd's tracking and source list into the statuses of
 * the time signals. Pure — no I/O, no clocks: the caller passes both the wall
 * time (to age chronyd's reference) and the monotonic time (for hold timers,
 * which must not move when the wall clock is stepped).
 *
 * Rules (issue #4, KoKom T4: all systems within 1 s):
 *  - error bound = |system time| + root dispersion + root delay / 2 — the
 *    largest error chronyd cannot rule out. warn ≥ warnS, fail ≥ failS.
 *  - fail fast, recover slowly: a worse level applies at once; a better one
 *    only after the raw level stayed better for `clearHoldS` (chronyd
 *    overshoots for 1–2 s after its reference jumps; without the hold the
 *    signal would flap while it settles).
 *  - holdover: a chronyd that is down, restarting or not yet synchronised is
 *    a monitoring gap, not a wrong clock. The kernel keeps running at the
 *    frequency chronyd last set, so the clock error stays within the last
 *    good bound grown at `max(holdoverDriftPpm, chronyd's last skew)` per
 *    second (50 ppm: 0.18 s per hour, 1 s after ~5.5 h). While chronyd gives
 *    no synchronised figures, `time.errorBound` shows that grown bound —
 *    `warn` at least (the gap itself), `fail` only once the grown bound
 *    reaches failS. The other signals say `unknown` (chronyd down: a
 *    monitoring fault) or `warn` (chronyd up but not synchronised yet).
 *    A chronyd back in sync whose own bound is still loose (≥ failS, e.g.
 *    without a drift file) while its measured offset is small is "settling":
 *    the holdover bound stays in force until chronyd's bound drops below failS.
 *  - start-up grace: with no good bound yet (Vaktpost or the box just
 *    started), "not synchronised" is `warn` for `startupGraceS`, then `fail`.
 *    A source that answers "unsynchronised" ends the grace at once.
 *  - leap status "Not synchronised" without holdover or grace = fail.
 *  - an upstream that answers but calls itself unsynchronised (leap 3 or
 *    stratum 16 in its last packet, `chronyc ntpdata`) is explicitly
 *    unusable: with no other usable source `time.source` fails at once —
 *    chronyd meanwhile keeps `*`, the last good stratum and "Normal" for
 *    several polls.
 *  - chronyd keeps saying "Normal" after every source vanished. What tells
 *    is the lack of a selected (`*`) source with a non-zero reach, and the
 *    growing age of the reference. Lost → warn at once, fail once nothing was
 *    heard (by the sources' lastRx, or since the loss was seen) for longer
 *    than `maxSourceLossS`; a reference older than that is a fail too.
 */
import type { SignalStatus } from './signal.js';

/** Mirrors hardware/chrony's types structurally (the core must not import drivers). */
export type TimeLeapStatus = 'Normal' | 'Insert second' | 'Delete second' | 'Not synchronised';
export type TimeSourceState = 'selected' | 'combined' | 'notCombined' | 'falseticker' | 'jittery' | 'unusable';

export interface TimeTrackingFacts {
  refName: string;
  /** Epoch seconds (NTP time) of the last reference update; 0 = never. */
  refTime: number;
  /** Positive = system clock slow. */
  systemTimeS: number;
  rootDelayS: number;
  rootDispersionS: number;
  leapStatus: TimeLeapStatus;
  /** chronyd's bound on its frequency error, ppm (the holdover bound grows at least this fast). */
  skewPpm?: number;
}

/** What the source's last NTP packet said about itself (`chronyc ntpdata`). */
export interface TimeSourcePacket {
  leapStatus: TimeLeapStatus;
  stratum: number;
  /** Valid responses received so far; 0 = the packet fields are chronyd's placeholders. */
  validRx: number;
}

export interface TimeSourceFacts {
  address: string;
  state: TimeSourceState;
  /** Reach register (8 bits; 0 = none of the last 8 polls answered). */
  reach: number;
  /** Seconds since chronyd last had a good sample from it; null = never. */
  lastRxS?: number | null;
  /** Its last packet; absent when chronyd could not be asked (then refusals go unseen). */
  lastPacket?: TimeSourcePacket;
}

export interface TimeThresholds {
  warnS: number;
  failS: number;
  clearHoldS: number;
  maxSourceLossS: number;
  /** Floor of the rate at which the last good bound grows while chronyd gives none, ppm (default 50). */
  holdoverDriftPpm?: number;
  /** With no good bound yet, "not synchronised" is warn for this long, s (default 60). */
  startupGraceS?: number;
}

export const DEFAULT_HOLDOVER_DRIFT_PPM = 50;
export const DEFAULT_STARTUP_GRACE_S = 60;

export const defaultTimeThresholds: Required<TimeThresholds> = {
  warnS: 0.5,
  failS: 1.0,
  clearHoldS: 60,
  maxSourceLossS: 120,
  holdoverDriftPpm: DEFAULT_HOLDOVER_DRIFT_PPM,
  startupGraceS: DEFAULT_STARTUP_GRACE_S,
};

export type Level = 'ok' | 'warn' | 'fail';
const RANK: Record<Level, number> = { ok: 0, warn: 1, fail: 2 };
const worse = (a: Level, b: Level): Level => (RANK[a] >= RANK[b] ? a : b);

/** Hysteresis state of one level: what is shown, and how long a better raw level has lasted. */
export interface LevelHold {
  held: Level;
  /** Monotonic ms since the raw level has been better than `held`; null = not clearing. */
  clearingSinceMs: number | null;
  /** Worst raw level seen while clearing — what `held` drops to when the hold is over. */
  clearingWorst: Level;
}

/**
 * One step of "fail fast, recover slowly". A worse (or equal) raw level is
 * taken at once. A better one must last `holdMs` without interruption; the held
 * level then drops to the worst raw level seen in that window — so fail → ok
 * needs the raw level below warn for the whole hold, and a bound hovering
 * between warn and fail after a failure settles at warn, not ok.
 */
export function holdLevel(raw: Level, prev: LevelHold | undefined, monoMs: number, holdMs: number): LevelHold {
  if (!prev || RANK[raw] >= RANK[prev.held]) return { held: raw, clearingSinceMs: null, clearingWorst: raw };
  const since = prev.clearingSinceMs ?? monoMs;
  const worst = prev.clearingSinceMs === null || RANK[raw] > RANK[prev.clearingWorst] ? raw : prev.clearingWorst;
  if (monoMs - since < holdMs) return { held: prev.held, clearingSinceMs: since, clearingWorst: worst };
  // Hold served: step down to the worst level of the window; keep clearing if still better.
  return RANK[raw] < RANK[worst] ? { held: worst, clearingSinceMs: monoMs, clearingWorst: raw } : { held: worst, clearingSinceMs: null, clearingWorst: worst };
}

export function levelFor(valueS: number, t: Pick<TimeThresholds, 'warnS' | 'failS'>): Level {
  if (!(valueS < t.failS)) return 'fail'; // NaN fails too
  return valueS >= t.warnS ? 'warn' : 'ok';
}

export function errorBoundS(t: Pick<TimeTrackingFacts, 'systemTimeS' | 'rootDelayS' | 'rootDispersionS'>): number {
  return Math.abs(t.systemTimeS) + t.rootDispersionS + t.rootDelayS / 2;
}

/** The last error bound taken from a synchronised chronyd, and how fast it grows without one. */
export interface GoodBound {
  boundS: number;
  /** Monotonic ms of that sample. */
  monoMs: number;
  /** Growth rate, ppm (s per 10⁶ s). */
  ratePpm: number;
}

/** Growth rate of the holdover bound: chronyd's skew, never below the floor (NaN/missing skew → the floor). */
export function holdoverRatePpm(skewPpm: number | undefined, floorPpm: number): number {
  return skewPpm !== undefined && skewPpm > floorPpm ? skewPpm : floorPpm;
}

/** The last good bound grown to `monoMs`: an upper bound on the clock error while chronyd gives none. */
export function holdoverBoundS(good: GoodBound, monoMs: number): number {
  return good.boundS + (good.ratePpm * 1e-6 * Math.max(0, monoMs - good.monoMs)) / 1000;
}

/** Seconds until the holdover bound reaches `limitS` (0 when already there). */
export function holdoverLeftS(good: GoodBound, monoMs: number, limitS: number): number {
  return Math.max(0, (limitS - holdoverBoundS(good, monoMs)) / (good.ratePpm * 1e-6));
}

/** The source's last packet says it has no time of its own (leap 3 / stratum ≥ 16). */
export function refusesTime(s: TimeSourceFacts): boolean {
  const p = s.lastPacket;
  return p !== undefined && p.validRx > 0 && (p.leapStatus === 'Not synchronised' || p.stratum >= 16);
}

export interface TimeHealthState {
  bound: LevelHold | undefined;
  offset: LevelHold | undefined;
  /** Monotonic ms since no selected, reachable source; null = have one. */
  sourceLostSinceMs: number | null;
  /** Last bound from a synchronised chronyd; null = none yet (since Vaktpost started). */
  lastGood: GoodBound | null;
  /** Monotonic ms since chronyd last gave a synchronised bound below failS; null = it does now. */
  waitingSinceMs: number | null;
}

export interface TimeVerdict<V> {
  status: SignalStatus;
  value: V;
  detail: string;
}

/** Whose figures the time signals show. */
export type TimeBasis = 'chronyd' | 'holdover' | 'grace' | 'unsynchronised' | 'unknown';

export interface TimeEvaluation {
  state: TimeHealthState;
  basis: TimeBasis;
  /** System clock minus NTP time, s (positive = box ahead); null when not known. */
  offset: TimeVerdict<number | null>;
  errorBound: TimeVerdict<number | null>;
  leap: TimeVerdict<TimeLeapStatus | null>;
  /** Address of the selected source, or null. */
  source: TimeVerdict<string | null>;
  /** Age of chronyd's last reference update, s; null = never updated. */
  refAge: TimeVerdict<number | null>;
}

export interface TimeInput {
  tracking: TimeTrackingFacts;
  sources: readonly TimeSourceFacts[];
  /** Wall clock, epoch ms (to age refTime, which chronyd gives in wall time). */
  nowMs: number;
  /** Monotonic ms (for holds). */
  monoMs: number;
  /** Why the sources' last packets (ntpdata) could not be had, if so: named in time.source's detail. */
  packetsUnavailable?: string;
}

const fmt = (s: number): string => `${s.toFixed(3)} s`;
const holdNote = (h: LevelHold, raw: Level): string => (h.held !== raw && h.clearingSinceMs !== null ? ` (now ${raw}; clearing, hold not yet served)` : '');

function duration(s: number): string {
  if (!Number.isFinite(s)) return 'never';
  if (s >= 3600) return `${(s / 3600).toFixed(1)} h`;
  if (s >= 120) return `${(s / 60).toFixed(0)} min`;
  return `${s.toFixed(0)} s`;
}

function packetNote(s: TimeSourceFacts): string {
  return refusesTime(s) && s.lastPacket ? ` (says unsynchronised: leap ${s.lastPacket.leapStatus}, stratum ${s.lastPacket.stratum})` : '';
}

function sourceSummary(sources: readonly TimeSourceFacts[]): string {
  if (sources.length === 0) return 'no sources configured';
  return sources.map((s) => `${s.address} ${s.state} reach ${s.reach.toString(8)}${packetNote(s)}`).join(', ');
}

interface SourceView {
  verdict: TimeVerdict<string | null>;
  lostSince: number | null;
  /** Some source explicitly refuses and none is usable: nothing will synchronise chronyd. */
  refused: boolean;
}

function evaluateSources(sources: readonly TimeSourceFacts[], prevLostSince: number | null, monoMs: number, th: TimeThresholds): SourceView {
  // At 64 s polls reach needs 8 polls (~8.5 min) to drain: a selected source
  // silent for longer than the loss time is lost too. One whose last packet
  // says "unsynchronised" is not usable, whatever chronyd still shows.
  const selected = sources.find((s) => s.state === 'selected' && s.reach !== 0 && (s.lastRxS ?? 0) <= th.maxSourceLossS && !refusesTime(s));
  const refusing = sources.filter(refusesTime);
  const usable = sources.filter((s) => (s.state === 'selected' || s.state === 'combined' || s.state === 'notCombined') && s.reach !== 0 && !refusesTime(s));
  const lostSince = selected ? null : (prevLostSince ?? monoMs);
  if (selected) {
    return {
      verdict: { status: 'ok', value: selected.address, detail: `synchronised to ${selected.address}, reach ${selected.reach.toString(8)}` },
      lostSince,
      refused: false,
    };
  }
  if (refusing.length > 0 && usable.length === 0) {
    const names = refusing.map((s) => `${s.address}${packetNote(s)}`).join(', ');
    return {
      verdict: {
        status: 'fail',
        value: null,
        detail: `no usable NTP source: ${names} — the upstream has lost its own time and chronyd cannot use it; fix the upstream server or configure others (${sourceSummary(sources)})`,
      },
      lostSince,
      refused: true,
    };
  }
  // chronyd notices the loss only when reach drains (2–9 s at fast polls, far
  // longer at 64 s polls); the last good sample tells when the silence began.
  const lastHeardS = Math.min(...sources.map((s) => s.lastRxS ?? Number.POSITIVE_INFINITY));
  const lostForS = lostSince === null ? 0 : Math.max((monoMs - lostSince) / 1000, Number.isFinite(lastHeardS) ? lastHeardS : 0);
  return {
    verdict: {
      status: lostForS >= th.maxSourceLossS ? 'fail' : 'warn',
      value: null,
      detail: `no selected, reachable NTP source; nothing heard for ${lostForS.toFixed(0)} s (fail after ${th.maxSourceLossS} s): ${sourceSummary(sources)}`,
    },
    lostSince,
    refused: false,
  };
}

function holdoverDetail(good: GoodBound, monoMs: number, th: TimeThresholds): string {
  const agoS = Math.max(0, (monoMs - good.monoMs) / 1000);
  const bound = holdoverBoundS(good, monoMs);
  const left = holdoverLeftS(good, monoMs, th.failS);
  return `holdover: last good bound ${fmt(good.boundS)} ${agoS.toFixed(0)} s ago + ${good.ratePpm.toFixed(0)} ppm × ${agoS.toFixed(0)} s = ${fmt(bound)} (fail ≥ ${th.failS} s${left > 0 ? `, reached in ${duration(left)}` : ''})`;
}

export function evaluateTime(input: TimeInput, prev: TimeHealthState | undefined, th: TimeThresholds): TimeEvaluation {
  const { tracking: tr, sources, nowMs, monoMs } = input;
  const holdMs = th.clearHoldS * 1000;
  const graceMs = (th.startupGraceS ?? DEFAULT_STARTUP_GRACE_S) * 1000;
  const synced = tr.leapStatus !== 'Not synchronised';
  const bound = errorBoundS(tr);
  const absOffset = Math.abs(tr.systemTimeS);
  const limits = `warn ≥ ${th.warnS} s, fail ≥ ${th.failS} s`;
  const lastGood = prev?.lastGood ?? null;
  const src = evaluateSources(sources, prev?.sourceLostSinceMs ?? null, monoMs, th);
  if (input.packetsUnavailable) {
    src.verdict.detail += ` [without ntpdata (${input.packetsUnavailable}): an upstream that answers "unsynchronised" shows only as a lost source]`;
  }

  // Until chronyd first gives a synchronised bound below failS we are "waiting" (start, restart, fault).
  let waitingSince = prev ? prev.waitingSinceMs : monoMs;
  // Synchronised again, measured offset small, but its own bound still loose: settling.
  const settling = synced && waitingSince !== null && !(bound < th.failS) && absOffset < th.failS;
  if (!synced) waitingSince ??= monoMs;
  let basis: TimeBasis;
  if (synced && !settling) basis = 'chronyd';
  else if (lastGood) basis = 'holdover';
  else if (waitingSince !== null && monoMs - waitingSince < graceMs && !src.refused) basis = 'grace';
  else basis = synced ? 'chronyd' : 'unsynchronised';

  // Reference age. refTime is in NTP (corrected) time: correct our wall clock by chronyd's estimate first.
  const refAgeFromChronyd = (): TimeVerdict<number | null> => {
    if (tr.refTime <= 0) return { status: 'fail', value: null, detail: 'chronyd has never updated its reference' };
    const age = Math.max(0, nowMs / 1000 + tr.systemTimeS - tr.refTime);
    return {
      status: age > th.maxSourceLossS ? 'fail' : 'ok',
      value: age,
      detail: `last reference update ${age.toFixed(1)} s ago (fail beyond ${th.maxSourceLossS} s)`,
    };
  };

  const base = { sourceLostSinceMs: src.lostSince };

  if (basis === 'chronyd') {
    const boundRaw = levelFor(bound, th);
    const offsetRaw = levelFor(absOffset, th);
    const boundHold = holdLevel(boundRaw, prev?.bound, monoMs, holdMs);
    const offsetHold = holdLevel(offsetRaw, prev?.offset, monoMs, holdMs);
    return {
      basis,
      state: {
        ...base,
        bound: boundHold,
        offset: offsetHold,
        lastGood: { boundS: bound, monoMs, ratePpm: holdoverRatePpm(tr.skewPpm, th.holdoverDriftPpm ?? DEFAULT_HOLDOVER_DRIFT_PPM) },
        waitingSinceMs: bound < th.failS ? null : waitingSince,
      },
      errorBound: {
        status: boundHold.held,
        value: bound,
        detail: `|system time| ${fmt(absOffset)} + root dispersion ${fmt(tr.rootDispersionS)} + root delay/2 ${fmt(tr.rootDelayS / 2)} (${limits})${holdNote(boundHold, boundRaw)}`,
      },
      offset: {
        status: offsetHold.held,
        // chronyd's system time is positive when the clock is slow; the signal says "box minus NTP time".
        value: -tr.systemTimeS,
        detail: `system clock ${fmt(absOffset)} ${tr.systemTimeS > 0 ? 'slow' : 'fast'} of NTP time (${limits})${holdNote(offsetHold, offsetRaw)}`,
      },
      leap: {
        status: 'ok',
        value: tr.leapStatus,
        detail: tr.leapStatus === 'Normal' ? 'synchronised' : `synchronised; leap second announced (${tr.leapStatus})`,
      },
      source: src.verdict,
      refAge: refAgeFromChronyd(),
    };
  }

  if (basis === 'holdover' && lastGood) {
    const hb = holdoverBoundS(lastGood, monoMs);
    const raw = levelFor(hb, th);
    const boundHold = holdLevel(raw, prev?.bound, monoMs, holdMs);
    const offsetHold = holdLevel(raw, prev?.offset, monoMs, holdMs); // |offset| ≤ bound
    const why = synced
      ? `chronyd is synchronised again but still settling (its own bound ${fmt(bound)} is not below ${th.failS} s yet)`
      : 'chronyd is not synchronised (restarted, or has no usable source yet)';
    const hd = holdoverDetail(lastGood, monoMs, th);
    return {
      basis,
      state: { ...base, bound: boundHold, offset: offsetHold, lastGood, waitingSinceMs: waitingSince },
      errorBound: { status: worse(boundHold.held, 'warn'), value: hb, detail: `${why}; ${hd}` },
      offset: synced
        ? {
            status: worse(offsetHold.held, 'warn'),
            value: -tr.systemTimeS,
            detail: `system clock ${fmt(absOffset)} ${tr.systemTimeS > 0 ? 'slow' : 'fast'} of NTP time while ${why}; ${hd}`,
          }
        : { status: worse(offsetHold.held, 'warn'), value: null, detail: `offset unknown while ${why}; |offset| ≤ ${hd}` },
      leap: { status: 'warn', value: tr.leapStatus, detail: `${why}; ${hd}` },
      source: src.verdict,
      refAge: synced && tr.refTime > 0 ? refAgeFromChronyd() : { status: 'warn', value: null, detail: `chronyd has no reference since it (re)started; ${hd}` },
    };
  }

  if (basis === 'grace') {
    const elapsedS = (monoMs - (waitingSince ?? monoMs)) / 1000;
    const wait = `waiting for chronyd's first synchronisation: ${elapsedS.toFixed(0)} s of the ${graceMs / 1000} s start-up grace (then not synchronised = fail)`;
    const why = synced ? `${wait}; its bound ${fmt(bound)} is still settling` : wait;
    return {
      basis,
      state: { ...base, bound: prev?.bound, offset: prev?.offset, lastGood, waitingSinceMs: waitingSince },
      errorBound: { status: 'warn', value: synced ? bound : null, detail: why },
      offset: { status: 'warn', value: synced ? -tr.systemTimeS : null, detail: why },
      leap: { status: 'warn', value: tr.leapStatus, detail: why },
      source: src.verdict,
      refAge: { status: 'warn', value: null, detail: why },
    };
  }

  // Not synchronised, no good bound, grace over (or the only sources refuse): the clock error is unknown.
  const boundHold = holdLevel('fail', prev?.bound, monoMs, holdMs);
  const offsetHold = holdLevel('fail', prev?.offset, monoMs, holdMs);
  const refAge = refAgeFromChronyd();
  return {
    basis,
    state: { ...base, bound: boundHold, offset: offsetHold, lastGood, waitingSinceMs: waitingSince },
    errorBound: { status: 'fail', value: null, detail: 'chronyd is not synchronised: the clock error is unknown' },
    offset: { status: 'fail', value: null, detail: 'chronyd is not synchronised: the offset is unknown' },
    leap: {
      status: 'fail',
      value: tr.leapStatus,
      detail: 'chronyd is not synchronised to any source — check the upstream NTP servers and UDP 123',
    },
    source: src.verdict,
    refAge: refAge.status === 'ok' ? refAge : { ...refAge, status: 'fail' },
  };
}

/**
 * chronyd could not be asked (down, restarting, hung, unparsable answer): a
 * monitoring fault. Every signal is `unknown` with the cause — except the
 * error bound once a good bound is known: it shows the holdover bound, `warn`
 * at least, `fail` once it reaches failS.
 */
export function evaluateTimeFault(input: { cause: string; monoMs: number }, prev: TimeHealthState | undefined, th: TimeThresholds): TimeEvaluation {
  const { cause, monoMs } = input;
  const detail = `monitoring fault: ${cause}`;
  const lastGood = prev?.lastGood ?? null;
  const waitingSince = prev?.waitingSinceMs ?? monoMs;
  const unknown = { status: 'unknown' as const, value: null, detail };
  let boundHold = prev?.bound;
  let errorBound: TimeVerdict<number | null> = unknown;
  if (lastGood) {
    const hb = holdoverBoundS(lastGood, monoMs);
    boundHold = holdLevel(levelFor(hb, th), prev?.bound, monoMs, th.clearHoldS * 1000);
    errorBound = { status: worse(boundHold.held, 'warn'), value: hb, detail: `${detail}; ${holdoverDetail(lastGood, monoMs, th)}` };
  }
  return {
    basis: lastGood ? 'holdover' : 'unknown',
    state: {
      bound: boundHold,
      offset: prev?.offset,
      sourceLostSinceMs: prev?.sourceLostSinceMs ?? null,
      lastGood,
      waitingSinceMs: waitingSince,
    },
    errorBound,
    offset: unknown,
    leap: unknown,
    source: unknown,
    refAge: unknown,
  };
}

/**
 * Wall-clock step between two samples, ms: how much further the wall clock
 * moved than the monotonic clock. NTP slewing moves both alike; a step (date
 * -s, chronyd makestep, a VM resume) moves only the wall clock.
 */
export function wallClockStepMs(prev: { wallMs: number; monoMs: number }, cur: { wallMs: number; monoMs: number }): number {
  return cur.wallMs - prev.wallMs - (cur.monoMs - prev.monoMs);
}
