/**
 * When a node-cron schedule SHOULD have fired — the other half of noticing a
 * missed run: node-cron only knows the future, so after the box was off we
 * enumerate the past slots of the same expression (parsed by node-cron itself,
 * same semantics: day-of-month AND day-of-week must both match, `L` = last day
 * of the month) in the same time zone, and compare them with the duty log.
 * Pure apart from node-cron's parser.
 */
import cron from 'node-cron';
import { localTime, nextDayKey, dayKey } from '../core/evidence.js';

interface Fields {
  second: number[];
  minute: number[];
  hour: number[];
  dom: Set<number>;
  lastDom: boolean;
  month: Set<number>;
  dow: Set<number>;
}

function fields(expr: string): Fields {
  if (!cron.validate(expr)) throw new Error(`"${expr}" is not a valid cron expression (5 or 6 fields, e.g. "5 0 * * *")`);
  const p = cron.parse(expr);
  const dom = new Set<number>();
  let lastDom = false;
  for (const d of p.dayOfMonth) {
    if (typeof d === 'number') dom.add(d);
    else if (d === 'L') lastDom = true;
    else throw new Error(`cron day-of-month "${d}" in "${expr}" is not supported for missed-run detection (use numbers or L)`);
  }
  const dow = new Set<number>();
  for (const d of p.dayOfWeek) {
    if (typeof d === 'number') dow.add(d % 7);
    else throw new Error(`cron day-of-week "${d}" in "${expr}" is not supported for missed-run detection (use numbers 0-7)`);
  }
  const desc = (xs: number[]) => [...xs].sort((a, b) => b - a);
  return { second: desc(p.second), minute: desc(p.minute), hour: desc(p.hour), dom, lastDom, month: new Set(p.month), dow };
}

function parseKey(key: string): [number, number, number] {
  return key.split('-').map(Number) as [number, number, number];
}

function prevDayKey(key: string): string {
  const [y, m, d] = parseKey(key);
  const t = new Date(Date.UTC(y, m - 1, d - 1));
  return `${String(t.getUTCFullYear()).padStart(4, '0')}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
}

function dayMatches(f: Fields, key: string): boolean {
  const [y, m, d] = parseKey(key);
  if (!f.month.has(m)) return false;
  const last = nextDayKey(key).endsWith('-01');
  if (!(f.dom.has(d) || (f.lastDom && last))) return false;
  return f.dow.has(new Date(Date.UTC(y, m - 1, d)).getUTCDay());
}

/**
 * The instants in (after, upTo] at which `expr` fires in `tz`, ascending; at most
 * the `max` most recent ones.
 */
export function cronSlots(expr: string, after: number, upTo: number, tz: string, max = 1000): number[] {
  const f = fields(expr);
  const found = new Set<number>();
  const stopKey = dayKey(after, tz);
  let key = dayKey(upTo, tz);
  // Walk local days backwards; within a day, times descending.
  for (let guard = 0; guard < 800 && found.size < max; guard++) {
    if (dayMatches(f, key)) {
      const [y, m, d] = parseKey(key);
      outer: for (const h of f.hour) {
        for (const mi of f.minute) {
          const base = localTime(tz, y, m, d, h, mi);
          if (base > upTo) continue;
          if (base + 59_000 <= after) break outer;
          for (const s of f.second) {
            const t = base + s * 1000;
            if (t > upTo) continue;
            if (t <= after) break;
            found.add(t);
            if (found.size >= max) break outer;
          }
        }
      }
    }
    if (key === stopKey) break;
    key = prevDayKey(key);
  }
  return [...found].sort((a, b) => a - b);
}

/** The latest instant at or before `at` at which `expr` fires (within ~400 days), or null. */
export function lastSlotAtOrBefore(expr: string, at: number, tz: string): number | null {
  const s = cronSlots(expr, at - 400 * 86_400_000, at, tz, 1);
  return s[0] ?? null;
}
