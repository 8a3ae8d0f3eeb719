/**
 * CSV for the event log export. UTF-8 with BOM so spreadsheet programs read æøå;
 * semicolon-separated in Norwegian (what Norwegian Excel expects), comma in English.
 * Cells that a spreadsheet would run as a formula are defused with a leading quote — the
 * same rule as the server's exports (src/core/spreadsheetCell.ts).
 */
import { csvCell } from '../../src/core/spreadsheetCell.js';

export { csvCell };

export function toCsv(header: string[], rows: Array<Array<string | number | null | undefined>>, sep: string): string {
  return `\ufeff${[header, ...rows].map((r) => r.map((c) => csvCell(c, sep)).join(sep)).join('\r\n')}\r\n`;
}

export function download(name: string, content: string | Blob, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(typeof content === 'string' ? new Blob([content], { type }) : content);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
