/**
 * Small formatting helpers shared by the CSV and HTML renderers: local times in
 * the report's zone, durations, percentages, CSV cells (RFC 4180, formulas defused) and
 * HTML escaping.
 */
import { zonedParts } from '../core/evidence.js';
import { type CellValue, csvCell as sharedCsvCell } from '../core/spreadsheetCell.js';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:MM:SS` local time in `tz`; '' for null. */
export function localTimestamp(ms: number | null, tz: string): string {
  if (ms === null) return '';
  const p = zonedParts(ms, tz);
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}`;
}

/** `H:MM:SS` (whole seconds, rounded down); '' for null. */
export function duration(ms: number | null): string {
  if (ms === null) return '';
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

/** Seconds with millisecond precision, e.g. `5.021`; '' for null. */
export function seconds(ms: number | null): string {
  return ms === null ? '' : (ms / 1000).toFixed(3);
}

/** Percent with 3 decimals (exact enough to compare with a target like 99.7); '' for null. */
export function pct(x: number | null): string {
  return x === null ? '' : x.toFixed(3);
}

export function yesNo(b: boolean | null): string {
  return b === null ? '' : b ? 'yes' : 'no';
}

/** A cell with formulas defused (`=HYPERLINK(…)` in a caller ID or comment stays text). */
export function csvCell(v: CellValue): string {
  return sharedCsvCell(v, ',');
}

/**
 * RFC 4180 CSV (CRLF) with a UTF-8 byte-order mark so spreadsheet programs read
 * æøå right.
 */
export function csv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<CellValue>>): string {
  return `\ufeff${[header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n')}\r\n`;
}

export function esc(s: string | number | null | undefined): string {
  if (s === null || s === undefined) return '';
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
