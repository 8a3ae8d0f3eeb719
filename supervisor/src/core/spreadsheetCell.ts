/**
 * One CSV cell that a spreadsheet program opens as text, never as a formula. Shared by
 * the server's exports (evidence/format.ts) and the web UI's (web/src/csv.ts), so both
 * follow one rule (issue #17).
 *
 * Excel, LibreOffice and Google Sheets run a cell that starts with `=`, `+`, `-` or `@`
 * (and strip a leading tab or CR first): `=HYPERLINK(…)` leaks data, `=cmd|…` ran
 * programs. Such a cell gets a leading `'`, which the programs show as text (OWASP "CSV
 * injection"). Plain numbers such as `-1.5` stay numbers: they cannot run anything.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?\d+(\.\d+)?$/;

export type CellValue = string | number | boolean | null | undefined;

/** The cell's text with a formula defused (a leading `'`). */
export function defuseFormula(s: string): string {
  return FORMULA_START.test(s) && !PLAIN_NUMBER.test(s) ? `'${s}` : s;
}

/** One cell: formula defused, quoted (RFC 4180) when it holds the separator, a quote or a line break. */
export function csvCell(v: CellValue, sep = ','): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? defuseFormula(v) : String(v);
  return s.includes(sep) || /["\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
