/**
 * The printable report page (self-contained HTML, A4-friendly print styles):
 * what a municipality hands over — figures against targets per month and day,
 * lost time, unanswered calls, deviations with who/when, the duty log, and the
 * definitions of every figure, in bokmål and English. Also the deviations
 * register on its own page.
 */
import type { Deviation } from '../store/evidenceStore.js';
import { duration, esc, localTimestamp, pct, seconds } from './format.js';
import type { EvidenceReport, PeriodFigures } from './report.js';

const STYLE = `
  body { font: 11pt/1.35 system-ui, "Segoe UI", Roboto, sans-serif; color: #111; margin: 2em; }
  h1 { font-size: 17pt; margin: 0 0 .2em; } h2 { font-size: 13pt; margin: 1.4em 0 .4em; border-bottom: 1px solid #999; }
  .meta { color: #444; margin-bottom: 1em; }
  table { border-collapse: collapse; width: 100%; margin: .3em 0 1em; font-size: 9.5pt; }
  th, td { border: 1px solid #bbb; padding: .2em .4em; text-align: left; vertical-align: top; }
  th { background: #eee; } td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .ok { color: #05620b; font-weight: 600; } .bad { color: #a10000; font-weight: 600; }
  .note { background: #fff6d6; border: 1px solid #e0c060; padding: .4em .6em; }
  dl dt { font-weight: 600; margin-top: .5em; } dl dd { margin: 0 0 0 1em; }
  @page { size: A4; margin: 15mm; }
  @media print { body { margin: 0; } tr, dd { break-inside: avoid; } h2 { break-after: avoid; } .noprint { display: none; } }
`;

const PRINT = 'window.print()';

/**
 * The page's only inline code, for its Content-Security-Policy (served by the API):
 * the <style> block and the print button's handler (CSP 'unsafe-hashes' + its hash).
 */
export const REPORT_PAGE_INLINE = { style: [STYLE], handlers: [PRINT] } as const;

const met = (b: boolean | null) => (b === null ? '–' : b ? '<span class="ok">✓ ja / yes</span>' : '<span class="bad">✗ nei / no</span>');

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="nb"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
${body}
<p class="noprint"><button onclick="${PRINT}">Skriv ut / Print</button></p>
</body></html>
`;
}

function figuresRow(label: string, f: PeriodFigures): string {
  const a = f.availability;
  const w = f.answer;
  return `<tr><td>${esc(label)}</td><td class="n">${pct(a.percent)}</td><td>${met(a.targetMet)}</td><td class="n">${a.up}/${a.buckets}</td><td class="n">${a.down}</td><td class="n">${a.unobserved}</td>
<td class="n">${w.offered}</td><td class="n">${w.served}</td><td class="n">${w.unserved}</td><td class="n">${pct(w.sharePercent)}</td><td>${met(w.shareMet)}</td>
<td class="n">${duration(w.longestWaitMs)}</td><td class="n">${w.overMax}</td><td>${met(w.maxMet)}</td><td class="n">${duration(f.backupMs)}</td></tr>`;
}

const FIGURES_HEAD = `<tr><th>Periode / Period</th><th>Tilgj. / Avail. %</th><th>Mål nådd / Target met</th><th>Oppe / Up</th><th>Nede / Down</th><th>Ikke obs. / Not obs.</th>
<th>Anrop / Calls</th><th>Besvart / Answered</th><th>Ubesvart / Unanswered</th><th>Innen grense / Within limit %</th><th>Mål / Target</th>
<th>Lengste vent / Longest wait</th><th>Over maks / Over max</th><th>Ingen over maks / None over max</th><th>På reserve / On backup</th></tr>`;

export function deviationsTable(ds: readonly Deviation[], tz: string): string {
  if (ds.length === 0) return '<p>Ingen avvik / No deviations.</p>';
  const rows = ds
    .map(
      (
        d,
      ) => `<tr><td class="n">${d.id}</td><td>${esc(localTimestamp(d.openedAt, tz))}<br>${esc(d.openedBy)}</td><td>${esc(d.titleNb)}<br><i>${esc(d.titleEn)}</i><br><small>${esc(d.kind)} · ${d.occurrences}×, sist / last ${esc(localTimestamp(d.lastEventAt, tz))}</small></td>
<td>${esc(d.state)}</td><td>${d.ack ? `${esc(localTimestamp(d.ack.at, tz))}<br>${esc(d.ack.by)}${d.ack.comment ? `<br>«${esc(d.ack.comment)}»` : ''}` : '–'}</td>
<td>${d.closed ? `${esc(localTimestamp(d.closed.at, tz))}<br>${esc(d.closed.by)}<br>«${esc(d.closed.comment)}»` : '–'}</td></tr>`,
    )
    .join('\n');
  return `<table><tr><th>#</th><th>Åpnet / Opened</th><th>Avvik / Deviation</th><th>Status</th><th>Kvittert / Acknowledged</th><th>Lukket / Closed</th></tr>
${rows}</table>`;
}

export function reportHtml(r: EvidenceReport): string {
  const tz = r.timeZone;
  const when = `${localTimestamp(r.period.from, tz)} – ${localTimestamp(r.period.to, tz)} (${tz})`;
  const t = r.targets;
  const lost =
    r.lostTime.length === 0
      ? '<p>Ingen / None.</p>'
      : `<table><tr><th>Fra / From</th><th>Til / To</th><th>Varighet / Duration</th><th>Status</th></tr>${r.lostTime
          .map(
            (l) =>
              `<tr><td>${esc(localTimestamp(l.from, tz))}</td><td>${esc(localTimestamp(l.to, tz))}</td><td class="n">${duration(l.to - l.from)}</td><td>${l.state === 'down' ? 'nede / down' : 'ikke observert / not observed'}</td></tr>`,
          )
          .join('')}</table>`;
  const unserved =
    r.unservedCalls.length === 0
      ? '<p>Ingen / None.</p>'
      : `<table><tr><th>Kom inn / Arrived</th><th>Utfall / Outcome</th><th>Ventet / Waited (s)</th><th>Call-ID</th></tr>${r.unservedCalls
          .map(
            (c) =>
              `<tr><td>${esc(localTimestamp(c.arrivedAt, tz))}</td><td>${esc(c.why)}</td><td class="n">${seconds(c.waitMs)}</td><td><small>${esc(c.callId)}</small></td></tr>`,
          )
          .join('')}</table>`;
  const duties =
    r.duties.length === 0
      ? '<p>Ingen / None.</p>'
      : `<table><tr><th>Oppgave / Duty</th><th>Planlagt / Scheduled</th><th>Kjørt / Ran</th><th>Utløser / Trigger</th><th>Utfall / Outcome</th><th>Detaljer / Detail</th></tr>${r.duties
          .map(
            (d) =>
              `<tr><td>${esc(d.duty)}</td><td>${esc(localTimestamp(d.scheduledFor, tz))}</td><td>${esc(localTimestamp(d.startedAt, tz))}</td><td>${esc(d.trigger)}</td><td class="${d.outcome === 'missed' || d.outcome === 'failed' ? 'bad' : ''}">${esc(d.outcome)}</td><td>${esc(d.detail)}</td></tr>`,
          )
          .join('')}</table>`;
  const body = `
<h1>Driftsrapport / Operations report — ${esc(r.box)}</h1>
<div class="meta">Periode / Period: ${esc(when)}<br>Laget / Generated: ${esc(localTimestamp(r.generatedAt, tz))}<br>
Mål / Targets: tilgjengelighet / availability ≥ ${t.availabilityPercent} %; ≥ ${t.answerTargetPercent} % besvart innen / answered within ${t.answerLimitS} s; ingen venter over / nobody waits over ${t.answerMaxS} s.</div>
${r.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<h2>Sammendrag / Summary</h2>
<table>${FIGURES_HEAD}
${figuresRow('Hele perioden / Whole period', r.total)}
${r.months.map((m) => figuresRow(m.month, m)).join('\n')}
</table>
<h2>Per døgn / Per day</h2>
<table>${FIGURES_HEAD}
${r.days.map((d) => figuresRow(d.day, d)).join('\n')}
</table>
<h2>Tapt tid / Lost time</h2>
${lost}
<h2>Ubesvarte anrop / Unanswered calls</h2>
${unserved}
<h2>Avvik / Deviations</h2>
${deviationsTable(r.deviations, tz)}
<h2>Planlagte oppgaver / Scheduled duties</h2>
${duties}
<h2>Definisjoner / Definitions</h2>
<dl>${r.definitions.map((d) => `<dt>${esc(d.term.nb)} / ${esc(d.term.en)}</dt><dd>${esc(d.text.nb)}<br><i>${esc(d.text.en)}</i></dd>`).join('\n')}</dl>
`;
  return page(`Vaktpost ${r.box} ${when}`, body);
}

export function deviationsHtml(box: string, ds: readonly Deviation[], tz: string, period: { from: number; to: number } | null, now: number): string {
  const when = period ? `${localTimestamp(period.from, tz)} – ${localTimestamp(period.to, tz)} (${tz})` : `alle / all (${tz})`;
  return page(
    `Vaktpost ${box} avvik / deviations`,
    `<h1>Avviksregister / Deviations register — ${esc(box)}</h1>
<div class="meta">Periode / Period: ${esc(when)}<br>Laget / Generated: ${esc(localTimestamp(now, tz))}</div>
${deviationsTable(ds, tz)}`,
  );
}
