/**
 * Operational evidence, pure (issue #10): call records in, the figures a
 * municipality reports to KoKom out — availability per day and month (T1: a
 * call that got busy or no answer is downtime), answer-time compliance per day
 * (T20: 90 % within 5 min, none over 10 min), and which events open a
 * deviation (T15). No I/O: the store and the clock are the caller's.
 *
 * The definitions (they are printed in every report, see evidence/definitions.ts):
 *
 * - A call is *offered* unless it is the box's own test call or a short abandon
 *   (the caller hung up before `shortAbandonMs`). An offered call is *served* when
 *   the local or the backup centre answered it; *unserved* when the announcement
 *   answered it, it was rejected, the caller gave up after waiting, or no outcome
 *   was ever recorded (lost).
 * - *Wait* is from the moment Kamailio received the INVITE to the answer, or, for
 *   an unserved call, to the moment the caller stopped waiting (abandon, reject,
 *   announcement).
 * - *Availability*: the period is cut into intervals of `bucketMs` from local
 *   midnight. An interval is *down* if an unserved call arrived in it or an
 *   outage (e.g. Kamailio not answering) overlaps it; *up* if it was observed in
 *   full (the supervisor was running throughout) and is not down; otherwise
 *   *not observed*. Availability = up / all intervals: time nobody watched is
 *   not claimed as available. Only intervals wholly inside the period and
 *   already over count.
 */

// ---------------------------------------------------------------------------
// Calls

export type CallEvent = 'arrived' | 'answered' | 'abandoned' | 'rejected' | 'ended';
export const CALL_EVENTS: readonly CallEvent[] = ['arrived', 'answered', 'abandoned', 'rejected', 'ended'];

/** One line of Kamailio's call records. */
export interface CallMilestone {
  callId: string;
  event: CallEvent;
  /** Epoch ms (Kamailio's clock, microsecond source truncated). */
  at: number;
  /** SIP code where it means something (answered 200, abandoned 487, rejected 480). */
  code: number | null;
  /** Which dispatcher destination the call was at: local | backup | announcement. */
  role: string | null;
  /** From user (T22). */
  caller: string | null;
  /** P-Asserted-Identity user, when the trunk sends one. */
  pai: string | null;
  /** The number dialled (Request-URI user). */
  called: string | null;
  /** The box's own verification/drill call. */
  probe: boolean;
}

export type CallOutcome = 'answered' | 'announcement' | 'abandoned' | 'rejected' | 'pending' | 'lost';

export interface CallRecord {
  callId: string;
  arrivedAt: number;
  /** P-Asserted-Identity when present (the network-verified number), else the From user. */
  callerId: string | null;
  called: string | null;
  probe: boolean;
  outcome: CallOutcome;
  /** local | backup | announcement for answered calls. */
  answeredBy: string | null;
  answeredAt: number | null;
  /** When the caller stopped waiting without a centre: abandon / reject / announcement answer. */
  gaveUpAt: number | null;
  endedAt: number | null;
  finalCode: number | null;
  /** Arrival → answer (or → giving up); null while pending. */
  waitMs: number | null;
}

/**
 * Folds milestones (any order, duplicates allowed) into one record per call.
 * Milestones of calls whose arrival is not among them are ignored (they belong
 * to a call outside the window read). A call with no outcome is `pending` until
 * `lostAfterMs` after its arrival, then `lost`.
 */
export function assembleCalls(milestones: readonly CallMilestone[], now: number, lostAfterMs: number): CallRecord[] {
  const byCall = new Map<string, CallMilestone[]>();
  for (const m of milestones) {
    const list = byCall.get(m.callId);
    if (list) list.push(m);
    else byCall.set(m.callId, [m]);
  }
  const out: CallRecord[] = [];
  for (const [callId, list] of byCall) {
    const first = (e: CallEvent) => list.filter((m) => m.event === e).sort((a, b) => a.at - b.at)[0];
    const arrived = first('arrived');
    if (!arrived) continue;
    const answered = first('answered');
    const abandoned = first('abandoned');
    const rejected = first('rejected');
    const ended = first('ended');
    let outcome: CallOutcome;
    let gaveUpAt: number | null = null;
    let finalCode: number | null = null;
    if (answered) {
      outcome = answered.role === 'announcement' ? 'announcement' : 'answered';
      finalCode = answered.code;
      if (outcome === 'announcement') gaveUpAt = answered.at;
    } else if (abandoned) {
      outcome = 'abandoned';
      gaveUpAt = abandoned.at;
      finalCode = abandoned.code;
    } else if (rejected) {
      outcome = 'rejected';
      gaveUpAt = rejected.at;
      finalCode = rejected.code;
    } else {
      outcome = now - arrived.at >= lostAfterMs ? 'lost' : 'pending';
    }
    const answeredAt = answered && outcome === 'answered' ? answered.at : null;
    const endOfWait = answeredAt ?? gaveUpAt ?? (outcome === 'lost' ? arrived.at + lostAfterMs : null);
    out.push({
      callId,
      arrivedAt: arrived.at,
      callerId: arrived.pai || arrived.caller || null,
      called: arrived.called,
      probe: arrived.probe,
      outcome,
      answeredBy: answered ? answered.role : null,
      answeredAt,
      gaveUpAt,
      endedAt: ended ? ended.at : null,
      finalCode,
      waitMs: endOfWait === null ? null : Math.max(0, endOfWait - arrived.at),
    });
  }
  return out.sort((a, b) => a.arrivedAt - b.arrivedAt || (a.callId < b.callId ? -1 : 1));
}

export type CallClass =
  | { kind: 'served' }
  | { kind: 'unserved'; why: 'announcement' | 'rejected' | 'abandoned' | 'lost' | 'unknownAnswerer' }
  | { kind: 'excluded'; why: 'probe' | 'shortAbandon' | 'pending' };

const CENTRE_ROLES = new Set(['local', 'backup']);

export function classifyCall(c: CallRecord, o: { shortAbandonMs: number }): CallClass {
  if (c.probe) return { kind: 'excluded', why: 'probe' };
  switch (c.outcome) {
    case 'pending':
      return { kind: 'excluded', why: 'pending' };
    case 'answered':
      return c.answeredBy !== null && CENTRE_ROLES.has(c.answeredBy) ? { kind: 'served' } : { kind: 'unserved', why: 'unknownAnswerer' };
    case 'announcement':
      return { kind: 'unserved', why: 'announcement' };
    case 'rejected':
      return { kind: 'unserved', why: 'rejected' };
    case 'lost':
      return { kind: 'unserved', why: 'lost' };
    case 'abandoned':
      return (c.waitMs ?? 0) < o.shortAbandonMs ? { kind: 'excluded', why: 'shortAbandon' } : { kind: 'unserved', why: 'abandoned' };
  }
}

// ---------------------------------------------------------------------------
// Local days and months (Intl does the zone arithmetic; no I/O)

export interface ZonedParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

export function zonedParts(ms: number, tz: string): ZonedParts {
  const p: Record<string, number> = {};
  for (const part of formatter(tz).formatToParts(ms)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return { year: p.year ?? 0, month: p.month ?? 0, day: p.day ?? 0, hour: p.hour ?? 0, minute: p.minute ?? 0, second: p.second ?? 0 };
}

function offsetAt(ms: number, tz: string): number {
  const p = zonedParts(ms, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(ms / 1000) * 1000;
}

/** The instant of local wall time y-m-d h:mi in `tz` (the later one in a DST gap). */
export function localTime(tz: string, y: number, m: number, d: number, h = 0, mi = 0): number {
  const guess = Date.UTC(y, m - 1, d, h, mi);
  const off1 = offsetAt(guess, tz);
  const t1 = guess - off1;
  const off2 = offsetAt(t1, tz);
  return off2 === off1 ? t1 : guess - off2;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD` of the local day containing `ms`. */
export function dayKey(ms: number, tz: string): string {
  const p = zonedParts(ms, tz);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}`;
}

export function monthKey(ms: number, tz: string): string {
  return dayKey(ms, tz).slice(0, 7);
}

function parseDay(key: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (!m) throw new Error(`not a day: ${JSON.stringify(key)} (expected YYYY-MM-DD)`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Local midnight starting day `key` (YYYY-MM-DD). */
export function dayStart(key: string, tz: string): number {
  const [y, m, d] = parseDay(key);
  return localTime(tz, y, m, d);
}

export function nextDayKey(key: string): string {
  const [y, m, d] = parseDay(key);
  const t = new Date(Date.UTC(y, m - 1, d + 1));
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

/** Local midnight starting month `key` (YYYY-MM). */
export function monthStart(key: string, tz: string): number {
  return dayStart(`${key}-01`, tz);
}

export function nextMonthKey(key: string): string {
  const [y, m] = parseDay(`${key}-01`);
  return m === 12 ? `${pad(y + 1, 4)}-01` : `${pad(y, 4)}-${pad(m + 1)}`;
}

export interface Span {
  key: string;
  start: number;
  end: number;
}

/** The local days overlapping [from, to), each clipped to the period. */
export function daysOf(from: number, to: number, tz: string): Span[] {
  const out: Span[] = [];
  let key = dayKey(from, tz);
  let start = dayStart(key, tz);
  while (start < to) {
    const next = nextDayKey(key);
    const end = dayStart(next, tz);
    out.push({ key, start: Math.max(start, from), end: Math.min(end, to) });
    key = next;
    start = end;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Intervals

export interface Interval {
  from: number;
  to: number;
}

/** Sorted, non-overlapping, non-empty. */
export function mergeIntervals(xs: readonly Interval[]): Interval[] {
  const s = xs.filter((x) => x.to > x.from).sort((a, b) => a.from - b.from);
  const out: Interval[] = [];
  for (const x of s) {
    const last = out[out.length - 1];
    if (last && x.from <= last.to) last.to = Math.max(last.to, x.to);
    else out.push({ ...x });
  }
  return out;
}

/** Total length of `merged` inside [from, to). */
export function overlapMs(merged: readonly Interval[], from: number, to: number): number {
  let sum = 0;
  for (const x of merged) {
    const a = Math.max(x.from, from);
    const b = Math.min(x.to, to);
    if (b > a) sum += b - a;
  }
  return sum;
}

// ---------------------------------------------------------------------------
// Availability

export interface AvailabilityFigures {
  /** Intervals counted (wholly inside the period, already over). */
  buckets: number;
  up: number;
  down: number;
  unobserved: number;
  /** up / buckets × 100; null when no interval counted. */
  percent: number | null;
  /** up / (up + down) × 100: availability of the time that was observed. */
  observedPercent: number | null;
  bucketMs: number;
}

export interface AvailabilityInput {
  from: number;
  to: number;
  now: number;
  bucketMs: number;
  tz: string;
  /** Arrival times of unserved offered calls. */
  unservedArrivals: readonly number[];
  /** Times calls could not be taken at all. */
  outages: readonly Interval[];
  /** Times the supervisor was running and watching. */
  observed: readonly Interval[];
}

export type BucketState = 'up' | 'down' | 'unobserved';

export interface AvailabilityResult {
  total: AvailabilityFigures;
  byDay: Map<string, AvailabilityFigures>;
  byMonth: Map<string, AvailabilityFigures>;
  /** Down and not-observed intervals, consecutive ones joined (for the report's list). */
  lost: Array<Interval & { state: Exclude<BucketState, 'up'> }>;
}

function emptyFigures(bucketMs: number): AvailabilityFigures {
  return { buckets: 0, up: 0, down: 0, unobserved: 0, percent: null, observedPercent: null, bucketMs };
}

function finish(f: AvailabilityFigures): AvailabilityFigures {
  return {
    ...f,
    percent: f.buckets > 0 ? (f.up / f.buckets) * 100 : null,
    observedPercent: f.up + f.down > 0 ? (f.up / (f.up + f.down)) * 100 : null,
  };
}

export function availability(i: AvailabilityInput): AvailabilityResult {
  const unserved = [...i.unservedArrivals].sort((a, b) => a - b);
  const outages = mergeIntervals(i.outages);
  const observed = mergeIntervals(i.observed);
  const end = Math.min(i.to, i.now);
  const total = emptyFigures(i.bucketMs);
  const byDay = new Map<string, AvailabilityFigures>();
  const byMonth = new Map<string, AvailabilityFigures>();
  const lost: AvailabilityResult['lost'] = [];
  let u = 0; // next unserved arrival
  let o = 0; // next outage
  let c = 0; // next observed interval
  for (const day of daysOf(i.from, i.to, i.tz)) {
    const midnight = dayStart(day.key, i.tz);
    const dayEnd = dayStart(nextDayKey(day.key), i.tz);
    const dayFig = byDay.get(day.key) ?? emptyFigures(i.bucketMs);
    const month = day.key.slice(0, 7);
    const monthFig = byMonth.get(month) ?? emptyFigures(i.bucketMs);
    for (let b = midnight; b < dayEnd; b += i.bucketMs) {
      const e = Math.min(b + i.bucketMs, dayEnd);
      if (b < i.from || e > end) continue;
      while (u < unserved.length && (unserved[u] as number) < b) u++;
      const failedCall = u < unserved.length && (unserved[u] as number) < e;
      while (o < outages.length && (outages[o] as Interval).to <= b) o++;
      const outage = o < outages.length && (outages[o] as Interval).from < e;
      while (c < observed.length && (observed[c] as Interval).to < e) c++;
      const watched = c < observed.length && (observed[c] as Interval).from <= b;
      const state: BucketState = failedCall || outage ? 'down' : watched ? 'up' : 'unobserved';
      for (const f of [total, dayFig, monthFig]) {
        f.buckets++;
        f[state]++;
      }
      if (state !== 'up') {
        const last = lost[lost.length - 1];
        if (last && last.state === state && last.to === b) last.to = e;
        else lost.push({ from: b, to: e, state });
      }
    }
    byDay.set(day.key, dayFig);
    byMonth.set(month, monthFig);
  }
  return {
    total: finish(total),
    byDay: new Map([...byDay].map(([k, v]) => [k, finish(v)])),
    byMonth: new Map([...byMonth].map(([k, v]) => [k, finish(v)])),
    lost,
  };
}

/**
 * Outage intervals from samples of the outage signals: a key is out from a
 * `fail`/`unknown` sample until its next `ok`/`warn` sample, or until the end of
 * the observed stretch the bad sample fell in (after that the time is "not
 * observed", not "down"). `samples` must include, per key, the last sample
 * before the window so a window starting inside an outage sees it.
 */
export function outageIntervals(samples: ReadonlyArray<{ key: string; at: number; status: string }>, observed: readonly Interval[]): Interval[] {
  const merged = mergeIntervals(observed);
  const endOfStretch = (t: number) => merged.find((x) => x.from <= t && t <= x.to)?.to ?? t;
  const byKey = new Map<string, Array<{ at: number; bad: boolean }>>();
  for (const s of samples) {
    const list = byKey.get(s.key) ?? [];
    list.push({ at: s.at, bad: s.status === 'fail' || s.status === 'unknown' });
    byKey.set(s.key, list);
  }
  const out: Interval[] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => a.at - b.at);
    let badSince: number | null = null;
    for (const s of list) {
      if (s.bad && badSince === null) badSince = s.at;
      else if (!s.bad && badSince !== null) {
        out.push({ from: badSince, to: Math.min(s.at, Math.max(endOfStretch(badSince), badSince)) });
        badSince = null;
      }
    }
    if (badSince !== null) out.push({ from: badSince, to: endOfStretch(badSince) });
  }
  return mergeIntervals(out);
}

/** Time the route pointed at the backup within [from, to), from route changes (sorted or not). */
export function backupIntervals(
  initial: 'local' | 'backup',
  changes: ReadonlyArray<{ at: number; route: 'local' | 'backup' }>,
  from: number,
  to: number,
): Interval[] {
  const sorted = [...changes].filter((c) => c.at < to).sort((a, b) => a.at - b.at);
  const out: Interval[] = [];
  let route = initial;
  let since = from;
  for (const ch of sorted) {
    if (ch.at <= from) {
      route = ch.route;
      continue;
    }
    if (ch.route !== route) {
      if (route === 'backup') out.push({ from: since, to: ch.at });
      route = ch.route;
      since = ch.at;
    }
  }
  if (route === 'backup') out.push({ from: since, to });
  return mergeIntervals(out);
}

// ---------------------------------------------------------------------------
// Answer times

export interface AnswerTimeLimits {
  limitMs: number;
  targetPercent: number;
  maxMs: number;
  shortAbandonMs: number;
}

export interface AnswerTimeFigures {
  offered: number;
  served: number;
  unserved: number;
  /** Probes, short abandons, still pending: not counted. */
  excluded: number;
  answeredWithinLimit: number;
  /** answeredWithinLimit / offered × 100; null with no offered call. */
  sharePercent: number | null;
  longestWaitMs: number | null;
  longestWaitCallId: string | null;
  /** Offered calls that waited longer than maxMs (answered late or gave up). */
  overMax: number;
  /** Share target met (null with no offered call) and nobody over the max. */
  shareMet: boolean | null;
  maxMet: boolean;
}

export function answerTimes(calls: readonly CallRecord[], l: AnswerTimeLimits): AnswerTimeFigures {
  let offered = 0;
  let served = 0;
  let unserved = 0;
  let excluded = 0;
  let within = 0;
  let overMax = 0;
  let longest: CallRecord | null = null;
  for (const c of calls) {
    const k = classifyCall(c, l);
    if (k.kind === 'excluded') {
      excluded++;
      continue;
    }
    offered++;
    const wait = c.waitMs ?? 0;
    if (k.kind === 'served') {
      served++;
      if (wait <= l.limitMs) within++;
    } else unserved++;
    if (wait > l.maxMs) overMax++;
    if (longest === null || wait > (longest.waitMs ?? 0)) longest = c;
  }
  const sharePercent = offered > 0 ? (within / offered) * 100 : null;
  return {
    offered,
    served,
    unserved,
    excluded,
    answeredWithinLimit: within,
    sharePercent,
    longestWaitMs: longest ? (longest.waitMs ?? 0) : null,
    longestWaitCallId: longest ? longest.callId : null,
    overMax,
    shareMet: sharePercent === null ? null : sharePercent >= l.targetPercent,
    maxMet: overMax === 0,
  };
}

/** Calls grouped by the local day of their arrival. */
export function callsByDay(calls: readonly CallRecord[], tz: string): Map<string, CallRecord[]> {
  const out = new Map<string, CallRecord[]>();
  for (const c of calls) {
    const k = dayKey(c.arrivedAt, tz);
    const list = out.get(k);
    if (list) list.push(c);
    else out.set(k, [c]);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Deviations (T15): which recorded event opens one, and under which key

export interface DeviationRules {
  ignoreKinds: readonly string[];
  alsoKinds: readonly string[];
}

export interface EventLike {
  kind: string;
  severity: 'info' | 'warn' | 'alarm';
  subsystem?: string | null | undefined;
  data?: unknown;
}

/**
 * The key a deviation is kept under: while one with the same key is open, a
 * repeat of the fault is added to it instead of opening another. Null: this
 * event opens nothing. A route change *to local* never opens one (it is the
 * recovery of the failover's deviation, added to it while that is open).
 */
export function deviationKey(e: EventLike, rules: DeviationRules, routeTo?: 'local' | 'backup'): { key: string; opens: boolean } | null {
  if (rules.ignoreKinds.includes(e.kind)) return null;
  const counts = e.severity === 'alarm' || rules.alsoKinds.includes(e.kind);
  if (!counts) return null;
  if (e.kind === 'route.changed') return { key: 'route', opens: routeTo !== 'local' };
  const data = (e.data ?? {}) as { key?: unknown; target?: unknown; subsystem?: unknown };
  const detail = [data.key, data.target, data.subsystem, e.subsystem].find((x): x is string => typeof x === 'string' && x !== '') ?? '';
  return { key: `${e.kind}:${detail}`, opens: true };
}
