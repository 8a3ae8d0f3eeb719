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
 *  - leap status "Not synchronised" = fail (the offset is then unknown).
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
}

export interface TimeSourceFacts {
  address: string;
  state: TimeSourceState;
  /** Reach register (8 bits; 0 = none of the last 8 polls answered). */
  reach: number;
  /** Seconds since chronyd last had a good sample from it; null = never. */
  lastRxS?: number | null;
}

export interface TimeThresholds {
  warnS: number;
  failS: number;
  clearHoldS: number;
  maxSourceLossS: number;
}

export const defaultTimeThresholds: TimeThresholds = {
  warnS: 0.5,
  failS: 1.0,
  clearHoldS: 60,
  maxSourceLossS: 120,
};

export type Level = 'ok' | 'warn' | 'fail';
const RANK: Record<Level, number> = { ok: 0, warn: 1, fail: 2 };

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

export interface TimeHealthState {
  bound: LevelHold;
  offset: LevelHold;
  /** Monotonic ms since no selected, reachable source; null = have one. */
  sourceLostSinceMs: number | null;
}

export interface TimeVerdict<V> {
  status: SignalStatus;
  value: V;
  detail: string;
}

export interface TimeEvaluation {
  state: TimeHealthState;
  /** System clock minus NTP time, s (positive = box ahead); null when not synchronised. */
  offset: TimeVerdict<number | null>;
  errorBound: TimeVerdict<number | null>;
  leap: TimeVerdict<TimeLeapStatus>;
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
}

const fmt = (s: number): string => `${s.toFixed(3)} s`;
const holdNote = (h: LevelHold, raw: Level): string => (h.held !== raw && h.clearingSinceMs !== null ? ` (now ${raw}; clearing, hold not yet served)` : '');

function sourceSummary(sources: readonly TimeSourceFacts[]): string {
  if (sources.length === 0) return 'no sources configured';
  return sources.map((s) => `${s.address} ${s.state} reach ${s.reach.toString(8)}`).join(', ');
}

export function evaluateTime(input: TimeInput, prev: TimeHealthState | undefined, th: TimeThresholds): TimeEvaluation {
  const { tracking: tr, sources, nowMs, monoMs } = input;
  const holdMs = th.clearHoldS * 1000;
  const synced = tr.leapStatus !== 'Not synchronised';

  // Bound and offset. Unsynchronised: chronyd reports zeros, which mean "unknown", not "perfect".
  const bound = errorBoundS(tr);
  const absOffset = Math.abs(tr.systemTimeS);
  const boundRaw: Level = synced ? levelFor(bound, th) : 'fail';
  const offsetRaw: Level = synced ? levelFor(absOffset, th) : 'fail';
  const boundHold = holdLevel(boundRaw, prev?.bound, monoMs, holdMs);
  const offsetHold = holdLevel(offsetRaw, prev?.offset, monoMs, holdMs);
  const limits = `warn ≥ ${th.warnS} s, fail ≥ ${th.failS} s`;

  const errorBound: TimeVerdict<number | null> = synced
    ? {
        status: boundHold.held,
        value: bound,
        detail: `|system time| ${fmt(absOffset)} + root dispersion ${fmt(tr.rootDispersionS)} + root delay/2 ${fmt(tr.rootDelayS / 2)} (${limits})${holdNote(boundHold, boundRaw)}`,
      }
    : { status: 'fail', value: null, detail: 'chronyd is not synchronised: the clock error is unknown' };

  const offset: TimeVerdict<number | null> = synced
    ? {
        status: offsetHold.held,
        // chronyd's system time is positive when the clock is slow; the signal says "box minus NTP time".
        value: -tr.systemTimeS,
        detail: `system clock ${fmt(absOffset)} ${tr.systemTimeS > 0 ? 'slow' : 'fast'} of NTP time (${limits})${holdNote(offsetHold, offsetRaw)}`,
      }
    : { status: 'fail', value: null, detail: 'chronyd is not synchronised: the offset is unknown' };

  const leap: TimeVerdict<TimeLeapStatus> = {
    status: synced ? 'ok' : 'fail',
    value: tr.leapStatus,
    detail: synced
      ? tr.leapStatus === 'Normal'
        ? 'synchronised'
        : `synchronised; leap second announced (${tr.leapStatus})`
      : 'chronyd is not synchronised to any source — check the upstream NTP servers and UDP 123',
  };

  // Selected source. chronyd still says Normal when every source has gone; this is what tells.
  // At 64 s polls reach needs 8 polls (~8.5 min) to drain: a selected source
  // silent for longer than the loss time is lost too.
  const selected = sources.find((s) => s.state === 'selected' && s.reach !== 0 && (s.lastRxS ?? 0) <= th.maxSourceLossS);
  const lostSince = selected ? null : (prev?.sourceLostSinceMs ?? monoMs);
  // chronyd notices the loss only when reach drains (2–9 s at fast polls, far
  // longer at 64 s polls); the last good sample tells when the silence began.
  const lastHeardS = Math.min(...sources.map((s) => s.lastRxS ?? Number.POSITIVE_INFINITY));
  const lostForS = lostSince === null ? 0 : Math.max((monoMs - lostSince) / 1000, Number.isFinite(lastHeardS) ? lastHeardS : 0);
  const source: TimeVerdict<string | null> = selected
    ? { status: 'ok', value: selected.address, detail: `synchronised to ${selected.address}, reach ${selected.reach.toString(8)}` }
    : {
        status: lostForS >= th.maxSourceLossS ? 'fail' : 'warn',
        value: null,
        detail: `no selected, reachable NTP source; nothing heard for ${lostForS.toFixed(0)} s (fail after ${th.maxSourceLossS} s): ${sourceSummary(sources)}`,
      };

  // Reference age. refTime is in NTP (corrected) time: correct our wall clock by chronyd's estimate first.
  let refAge: TimeVerdict<number | null>;
  if (tr.refTime <= 0) {
    refAge = { status: 'fail', value: null, detail: 'chronyd has never updated its reference' };
  } else {
    const age = Math.max(0, nowMs / 1000 + tr.systemTimeS - tr.refTime);
    refAge = {
      status: age > th.maxSourceLossS ? 'fail' : 'ok',
      value: age,
      detail: `last reference update ${age.toFixed(1)} s ago (fail beyond ${th.maxSourceLossS} s)`,
    };
  }

  return {
    state: { bound: boundHold, offset: offsetHold, sourceLostSinceMs: lostSince },
    offset,
    errorBound,
    leap,
    source,
    refAge,
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
