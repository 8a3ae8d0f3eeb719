/**
 * What the calls themselves say about a centre. Pure.
 *
 * A centre can answer every OPTIONS keepalive and still drop or refuse every
 * INVITE: its probes say "reachable", Kamailio keeps putting it back in rotation,
 * and every caller pays the no-reply timer there (issue #16). Kamailio counts each
 * centre's INVITE outcomes (reconcilers/kamailio/render.ts, "Call outcomes"):
 * failed (no reply at all, or 5xx), taken (ringing or answered), and the failures
 * in a row since the centre last took a call. This module turns those counts into
 * one status:
 *  - fail when the last `failAfter` calls there failed and nothing was taken since;
 *  - ok otherwise — also when no call has come yet (a quiet night says nothing bad).
 * Once the box has moved the calls away, no call reaches the centre and the streak
 * cannot end by itself: a failure older than `quietClearMs` stops counting, the
 * centre is judged by its probes again, and the normal failback hold applies. A
 * centre still broken then fails the first calls (or the verification call) and
 * fails again at once.
 */
import type { SignalStatus } from './signal.js';

/** One centre's counters as Kamailio keeps them (since Kamailio started). */
export interface CentreCallCounts {
  failed: number;
  taken: number;
  /** Failures in a row since the centre last took a call. */
  streak: number;
  /** SIP code of the last failure (408 = no reply), if any. */
  lastCode: number | null;
}

export interface CallOutcomeRules {
  /** This many failed calls in a row, none taken in between → fail. */
  failAfter: number;
  /** A failure older than this (ms, steady time) no longer counts. */
  quietClearMs: number;
}

export const defaultCallOutcomeRules: CallOutcomeRules = { failAfter: 3, quietClearMs: 120_000 };

export interface CallOutcomeState {
  /** `failed` at the last look; null before the first. */
  failed: number | null;
  /** Steady time the last new failure was seen. */
  lastFailAt: number | null;
}

export const initialCallOutcomeState: CallOutcomeState = { failed: null, lastFailAt: null };

export interface CallOutcomeJudgement {
  state: CallOutcomeState;
  status: Extract<SignalStatus, 'ok' | 'fail'>;
  /** Failed calls in a row (the signal's value). */
  streak: number;
  /** Technical detail (English) for the signal. */
  detail: string;
}

export function judgeCentreCalls(
  prev: CallOutcomeState,
  counts: CentreCallCounts,
  now: number,
  rules: CallOutcomeRules = defaultCallOutcomeRules,
): CallOutcomeJudgement {
  // First look (the supervisor just started) with failures pending: count them from now.
  // A counter that went down is a restarted Kamailio: its streak starts over too.
  const newFailure = prev.failed === null ? counts.streak > 0 : counts.failed !== prev.failed && counts.failed > 0;
  const lastFailAt = newFailure ? now : prev.lastFailAt;
  const state: CallOutcomeState = { failed: counts.failed, lastFailAt };
  const code = counts.lastCode === null ? '' : `, the last ${counts.lastCode === 408 ? 'with no reply (408)' : `answered ${counts.lastCode}`}`;
  if (counts.streak >= rules.failAfter && lastFailAt !== null) {
    const ageMs = now - lastFailAt;
    if (ageMs < rules.quietClearMs) {
      return { state, status: 'fail', streak: counts.streak, detail: `the last ${counts.streak} calls to the centre failed${code}; it took none since` };
    }
    return {
      state,
      status: 'ok',
      streak: counts.streak,
      detail: `${counts.streak} calls in a row failed${code}, but none for ${Math.round(ageMs / 1000)} s (no calls go there): judged by its probes again`,
    };
  }
  return {
    state,
    status: 'ok',
    streak: counts.streak,
    detail:
      counts.streak > 0
        ? `${counts.streak} failed call(s) in a row${code} (fails at ${rules.failAfter})`
        : `took ${counts.taken} call(s), failed ${counts.failed}`,
  };
}
