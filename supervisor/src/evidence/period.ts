/**
 * A report period from what a person types: a month (`2025-03`), local days
 * (`from=2025-03-01&to=2025-03-31`, both inclusive) or exact instants (ISO 8601
 * with a time, e.g. `2025-03-01T10:00:00+01:00`). Default: this month so far.
 */
import { dayStart, dayKey, monthStart, nextDayKey, nextMonthKey } from '../core/evidence.js';

export interface PeriodQuery {
  month?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MONTH = /^\d{4}-\d{2}$/;

function instant(s: string, tz: string, end: boolean, name: string): number {
  if (DAY.test(s)) return dayStart(end ? nextDayKey(s) : s, tz);
  if (MONTH.test(s)) return monthStart(end ? nextMonthKey(s) : s, tz);
  if (s.includes('T')) {
    const t = Date.parse(s);
    if (Number.isFinite(t)) return t;
  }
  throw new Error(`${name}=${JSON.stringify(s)}: expected YYYY-MM-DD, YYYY-MM or an ISO time like 2025-03-01T10:00:00+01:00`);
}

export function parsePeriod(q: PeriodQuery, tz: string, now: number): { from: number; to: number } {
  if (q.month !== undefined) {
    if (!MONTH.test(q.month)) throw new Error(`month=${JSON.stringify(q.month)}: expected YYYY-MM`);
    return { from: monthStart(q.month, tz), to: monthStart(nextMonthKey(q.month), tz) };
  }
  const from = q.from !== undefined ? instant(q.from, tz, false, 'from') : monthStart(dayKey(now, tz).slice(0, 7), tz);
  const to = q.to !== undefined ? instant(q.to, tz, true, 'to') : now;
  if (!(to > from)) throw new Error('the period is empty: "to" must be after "from"');
  if (to - from > 400 * 86_400_000) throw new Error('the period is longer than 400 days — ask for a year at a time');
  return { from, to };
}
