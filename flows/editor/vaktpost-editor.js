/*
 * Loaded into the Node-RED editor page that Vaktpost serves at /flows
 * (editorTheme.page.scripts). Two jobs:
 *  1. Vaktpost accepts a state change from a browser session only with the
 *     X-Vaktpost-CSRF header; the editor's own requests get it here.
 *  2. A "Dry-run 24 h" button: replays the last day of recorded signals through the
 *     flows as they are in the editor (not yet deployed) and shows where calls would
 *     have been routed differently from what runs now.
 */
/* global $, RED */
(() => {
  $.ajaxSetup({ headers: { 'X-Vaktpost-CSRF': '1' } });

  const fmt = (ms) => new Date(ms).toLocaleString('nb-NO', { dateStyle: 'short', timeStyle: 'short' });
  const esc = (s) => $('<div>').text(String(s)).html();

  function show(report) {
    const d = report.differences;
    let html = `<p><b>Prøvekjøring / dry-run</b> — ${fmt(report.window.from)}–${fmt(report.window.to)}, ${report.evaluations} evalueringer</p>`;
    if (d.length === 0) {
      html += '<p>Ingen forskjell i ruting / no difference in routing.</p>';
    } else {
      html += `<p>${d.length} perioder med annen rute / periods routed differently:</p><ul>`;
      for (const x of d.slice(0, 12)) {
        html += `<li>${fmt(x.from)}–${fmt(x.to)}: ny <b>${esc(x.candidate.route)}</b>, nå <b>${esc(x.current.route)}</b>${x.candidate.reason ? ` — ${esc(x.candidate.reason.nb)}` : ''}</li>`;
      }
      html += d.length > 12 ? '<li>…</li></ul>' : '</ul>';
    }
    for (const w of report.warnings) html += `<p>⚠ ${esc(w)}</p>`;
    const n = RED.notify(html, {
      modal: true,
      fixed: true,
      type: d.length ? 'warning' : 'success',
      buttons: [{ text: 'OK', click: () => n.close() }],
    });
  }

  function dryRun() {
    const flows = RED.nodes.createCompleteNodeSet({ credentials: false });
    const busy = RED.notify('Prøvekjører siste døgn … / dry-running the last day …', { type: 'compact', fixed: true });
    $.ajax({
      url: '/api/flows/dry-run',
      method: 'POST',
      contentType: 'application/json',
      data: JSON.stringify({ flows }),
      success: (res) => {
        busy.close();
        show(res.report);
      },
      error: (xhr) => {
        busy.close();
        RED.notify(`Prøvekjøring feilet / dry-run failed: ${esc(xhr.responseJSON?.error || xhr.statusText)}`, { type: 'error' });
      },
    });
  }

  const addButton = () => {
    const bar = $('.red-ui-header-toolbar');
    if (bar.length === 0 || $('#vaktpost-dry-run').length) return bar.length > 0;
    $('<li><a id="vaktpost-dry-run" class="red-ui-deploy-button" href="#"><span>Prøvekjør 24 t</span></a></li>')
      .prependTo(bar)
      .on('click', (e) => {
        e.preventDefault();
        dryRun();
      });
    return true;
  };
  const timer = setInterval(() => {
    if (addButton()) clearInterval(timer);
  }, 250);
})();
