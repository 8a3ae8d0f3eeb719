/**
 * The audio-log page of the technician view (issue 9: "the audio log — search by
 * time and caller, play with a stated reason"), in Debian's Chromium against the
 * REAL supervisor process whose audio log archives REAL calls: Kamailio puts the
 * media through rtpengine, which records it; talking SIPp callers ring the centre.
 *  - search by caller finds that caller's call and not the other; a time range
 *    after the calls finds nothing
 *  - Play is refused without a reason (the button, and the server behind it);
 *    with one, the archived WAV plays in the page (streamed with a playback
 *    ticket, by Range requests) and the access is in the hash-chained access
 *    record once, with the user and the reason, and is an event — without the
 *    reason, which every role reads (#17)
 *  - a technician (listenRole admin) is told the page is not theirs; no serious
 *    or critical accessibility violations
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startRecordingLab, talkingCalls } from '../helpers/rtpengine.js';
import { writeRecordingConfig } from '../helpers/supervisorCallLab.js';
import { startSupervisor } from '../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../helpers/util.js';
import { axeViolations, ensureUiBuilt, login, openBrowser, ROOT } from './helpers/browser.js';

const run = promisify(execFile);
const ADMIN_PW = 'e2e-admin-password-2';
const TECH = { username: 'tora', password: 'e2e-technician-pass-1' };
const CALLERS = { first: '4790000111', second: '4790000222' } as const;
const REASON = 'Klagesak 2026-114: pårørende klager på vurderingen';

interface RecordingRow {
  id: string;
  caller: string | null;
  audioMs: number;
  startedAt: number;
}
interface AccessEntry {
  seq: number;
  action: string;
  by: string;
  role: string;
  reason: string;
  recordings: string[];
  caller?: string;
}

/** `YYYY-MM-DDTHH:MM` in local time, as a datetime-local input takes it (Chromium runs in our TZ). */
function localMinute(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

t.test('audio log page: search by time and caller, play only with a stated reason, every access logged', async (t) => {
  await ensureUiBuilt();
  const lab = await startRecordingLab(t);
  const { dir, cleanup } = await scratchDir('e2e-audiolog');
  t.teardown(cleanup);
  const { file, port } = await writeRecordingConfig(dir, lab, { name: 'e2e-audiolog' });
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW });
  t.teardown(() => sup.kill('SIGKILL'));
  t.equal((await sup.api('POST', '/api/users', { ...TECH, role: 'technician' })).status, 201, 'a technician account');

  // Two real calls from two callers, answered by the local centre and recorded.
  const t0 = Date.now();
  await talkingCalls(t, lab, { caller: CALLERS.first, holdMs: 1500 });
  await talkingCalls(t, lab, { caller: CALLERS.second, holdMs: 1500 });
  await waitFor(async () => ((await sup.api<{ recordings: number }>('GET', '/api/audiolog/status')).json.recordings ?? 0) >= 2, {
    timeoutMs: 30_000,
    what: 'the supervisor to archive both recordings',
  });

  const b = await openBrowser();
  t.teardown(() => b.close());
  const page = b.page;
  await login(page, sup.url, 'admin', ADMIN_PW);
  await page.goto(`${sup.url}/#/technician/audio`);
  await page.getByTestId('audio-search').waitFor({ timeout: 30_000 });

  let first: { id: string; audioMs: number } | null = null;
  await t.test('search by caller finds that caller only', async (t) => {
    await page.getByTestId('audio-caller').fill('90000111');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByTestId('audio-count').waitFor();
    const rows = page.getByTestId('audio-row');
    t.equal(await rows.count(), 1, 'one recording for 90000111');
    t.match(await rows.first().textContent(), CALLERS.first, 'and it is that caller’s');
    t.notMatch(await page.getByTestId('audio-results').textContent(), CALLERS.second, 'the other caller is not listed');
    const id = (await rows.first().getAttribute('data-id')) ?? '';
    const rec = (await sup.api<{ recordings: RecordingRow[] }>('POST', '/api/audiolog/recordings/search', { caller: CALLERS.first })).json.recordings[0];
    t.equal(rec?.id, id, 'the row is the archived recording');
    first = rec ? { id: rec.id, audioMs: rec.audioMs } : null;
  });

  await t.test('search by time: the calls’ period finds both, a later period none', async (t) => {
    await page.getByTestId('audio-caller').fill('');
    await page.getByTestId('audio-since').fill(localMinute(t0 - 120_000));
    await page.getByTestId('audio-until').fill(localMinute(Date.now() + 120_000));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await waitFor(async () => (await page.getByTestId('audio-row').count()) === 2, { timeoutMs: 30_000, what: 'both recordings in the period' });
    await page.getByTestId('audio-since').fill(localMinute(Date.now() + 120_000));
    await page.getByTestId('audio-until').fill(localMinute(Date.now() + 240_000));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('No recordings match.').waitFor({ timeout: 30_000 });
    t.equal(await page.getByTestId('audio-row').count(), 0, 'nothing after the calls');
    // Back to the first caller for playback.
    await page.getByTestId('audio-since').fill('');
    await page.getByTestId('audio-until').fill('');
    await page.getByTestId('audio-caller').fill(CALLERS.first);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await waitFor(async () => (await page.getByTestId('audio-row').count()) === 1, { timeoutMs: 30_000, what: 'the first caller again' });
  });

  await t.test('bad search input is refused by the server with what is wrong', async (t) => {
    const ask = async (q: Record<string, unknown>) => {
      const r = await sup.api<{ error: string; issues?: Array<{ path: string; message: string }> }>('POST', '/api/audiolog/recordings/search', q);
      return { status: r.status, text: `${r.json.error} ${JSON.stringify(r.json.issues ?? [])}` };
    };
    const wildcard = await ask({ caller: '47%' });
    t.equal(wildcard.status, 400, 'a caller with a wildcard');
    t.match(wildcard.text, /digits of the caller number/);
    const range = await ask({ since: 2000, before: 1000 });
    t.equal(range.status, 400, 'a period that ends before it starts');
    t.match(range.text, /since must be before/);
    t.equal((await ask({ limit: 0 })).status, 400, 'limit 0');
    const get = await sup.api<{ error: string }>('GET', `/api/audiolog/recordings?caller=${CALLERS.first}`);
    t.equal(get.status, 405, 'searching by GET is gone (it wrote an access record)');
    t.match(get.json.error, /POST \/api\/audiolog\/recordings\/search/, 'and the refusal says what to use');
  });

  await t.test('playback is refused without a reason, by the page and by the server', async (t) => {
    const play = page.getByTestId('audio-play').first();
    t.ok(await play.isDisabled(), 'Play is disabled while no reason is given');
    t.match(await page.getByTestId('audio-need-reason').textContent(), /at least 8 characters/);
    await page.getByTestId('audio-reason').fill('sak 1');
    t.ok(await play.isDisabled(), 'and while the reason is too short');
    // The same session asking the server directly: refused, nothing served.
    const direct = await page.evaluate(async (id) => {
      const r = await fetch(`/api/audiolog/recordings/${id}/listen`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-vaktpost-csrf': '1' },
        body: '{}',
      });
      return { status: r.status, type: r.headers.get('content-type') ?? '' };
    }, first?.id ?? '');
    t.equal(direct.status, 400, 'the server refuses playback without a reason');
    t.notMatch(direct.type, /audio/, 'and serves no audio');
    t.equal(await page.getByTestId('audio-player').count(), 0, 'nothing is playing');
  });

  await t.test('with a reason the recording plays, and the access is logged with user and reason', async (t) => {
    await page.getByTestId('audio-reason').fill(REASON);
    const play = page.getByTestId('audio-play').first();
    t.notOk(await play.isDisabled(), 'Play is enabled with a reason');
    await play.click();
    const player = page.getByTestId('audio-player');
    await player.waitFor({ timeout: 30_000 });
    t.equal(await player.getAttribute('data-id'), first?.id, 'the chosen recording');
    // Chromium decodes the archived WAV: its length is the recording's.
    // Polled with page.evaluate (CDP, not subject to the page's CSP, unlike waitForFunction's
    // in-page eval); a string because this file is compiled without the DOM library.
    let seconds = 0;
    await waitFor(
      async () => {
        const d = (await page.evaluate(
          `(() => { const a = document.querySelector('[data-testid=audio-element]'); return a && a.readyState >= 1 && Number.isFinite(a.duration) ? a.duration : null })()`,
        )) as number | null;
        if (d !== null) seconds = d;
        return d !== null;
      },
      { timeoutMs: 30_000, what: 'Chromium to load the recording into the audio element' },
    );
    t.ok(
      Math.abs(seconds * 1000 - (first?.audioMs ?? 0)) < 250,
      `the browser decoded ${seconds.toFixed(2)} s of audio (recording: ${((first?.audioMs ?? 0) / 1000).toFixed(2)} s)`,
    );
    t.match(await page.getByTestId('audio-logged').textContent(), /admin.*Klagesak 2026-114/, 'the page says the access was logged');
    const src = (await page.getByTestId('audio-element').getAttribute('src')) ?? '';
    t.match(src, new RegExp(`^/api/audiolog/recordings/${first?.id}/audio\\?ticket=[A-Za-z0-9_-]{43}$`), 'the player streams with a playback ticket');
    // README screenshot (VAKTPOST_SCREENSHOTS=1 npx tap test/e2e/audiolog.test.ts): real recordings, real playback.
    if (process.env.VAKTPOST_SCREENSHOTS) {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.screenshot({ path: path.join(ROOT, 'docs/screenshots/technician-audiolog.png'), fullPage: true });
    }

    const log = (await sup.api<{ access: AccessEntry[] }>('GET', '/api/audiolog/access?limit=50')).json.access;
    const listens = log.filter((e) => e.action === 'listen');
    t.equal(listens.length, 1, 'one playback, one listen in the record (the player’s range requests write nothing)');
    t.match(listens[0], { action: 'listen', by: 'admin', role: 'admin', reason: REASON, recordings: [first?.id] }, 'who, which and why are in the chain');
    t.ok(
      log.some((e) => e.action === 'list' && e.by === 'admin' && e.caller === '90000111'),
      'the caller search itself is in the access record, with what was searched for',
    );
    const events = (
      await sup.api<{ events: Array<{ kind: string; actor: string | null; en: string; data: { action?: string; chainSeq?: number } }> }>(
        'GET',
        '/api/events?kind=recording.access&limit=20',
      )
    ).json.events;
    t.ok(
      events.some((e) => e.actor === 'admin' && e.data.action === 'listen' && e.data.chainSeq === listens[0]?.seq),
      'the playback is an event with the user and its access entry',
    );
    t.notMatch(JSON.stringify(events), 'Klagesak', 'but not the reason: every role reads events');
  });

  await t.test('export and legal hold from the page, each with the reason in the access record', async (t) => {
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByTestId('audio-export').first().click()]);
    const file = path.join(dir, 'export.tar');
    await dl.saveAs(file);
    const listing = (await run('tar', ['-tf', file])).stdout;
    t.match(listing, /audio\.wav/, 'the downloaded bundle holds the audio');
    t.match(listing, /SHA256SUMS|sha256/i, 'and its hashes');
    t.match(await page.getByTestId('audio-done').textContent(), /Exported .*\.tar/);

    const hold = page.getByTestId('audio-hold').first();
    t.ok(await hold.isDisabled(), 'no legal hold without a case number');
    await page.getByTestId('audio-case').fill('Sak 2026-114');
    await hold.click();
    await page.getByTestId('audio-row').first().getByText('legal hold Sak 2026-114').waitFor({ timeout: 30_000 });
    t.equal(await hold.textContent(), 'Release hold', 'the row now offers the release');

    const log = (await sup.api<{ access: AccessEntry[] }>('GET', '/api/audiolog/access?limit=50')).json.access;
    t.match(
      log.find((e) => e.action === 'export'),
      { by: 'admin', reason: REASON, recordings: [first?.id] },
      'the export is chained with its reason',
    );
    t.match(
      log.find((e) => e.action === 'hold'),
      { by: 'admin', reason: REASON, recordings: [first?.id] },
      'so is the hold',
    );
    const rec = (
      await sup.api<{ recordings: Array<RecordingRow & { held: boolean; holdCase: string }> }>('POST', '/api/audiolog/recordings/search', {
        caller: CALLERS.first,
      })
    ).json.recordings[0];
    t.match(rec, { held: true, holdCase: 'Sak 2026-114' }, 'and the recording is held in the store');
  });

  await t.test('no serious or critical accessibility violations on the audio page', async (t) => {
    // axe is injected as a script, which the strict CSP refuses: a second session without it
    // (the playback above ran under the real CSP: media from our own origin).
    const ab = await openBrowser({ bypassCSP: true });
    t.teardown(() => ab.close());
    await login(ab.page, sup.url, 'admin', ADMIN_PW);
    await ab.page.goto(`${sup.url}/#/technician/audio`);
    await ab.page.getByTestId('audio-caller').fill(CALLERS.first);
    await ab.page.getByRole('button', { name: 'Search', exact: true }).click();
    await ab.page.getByTestId('audio-row').first().waitFor({ timeout: 30_000 });
    const v = await axeViolations(ab.page);
    t.same(v, [], v.map((x) => `${x.id} (${x.impact}): ${x.help} — ${x.nodes.join(', ')}`).join('\n') || 'none');
  });

  await t.test('a technician is told recordings are for the admin role', async (t) => {
    const tb = await openBrowser();
    t.teardown(() => tb.close());
    await login(tb.page, sup.url, TECH.username, TECH.password);
    await tb.page.goto(`${sup.url}/#/technician/audio`);
    await tb.page.getByTestId('audio-denied').waitFor({ timeout: 30_000 });
    t.match(await tb.page.getByTestId('audio-denied').textContent(), /only the admin role/);
    t.equal(await tb.page.getByTestId('audio-search').count(), 0, 'no search form');
    const r = await tb.page.evaluate(
      async () =>
        (
          await fetch('/api/audiolog/recordings/search', {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-vaktpost-csrf': '1' },
            body: '{}',
          })
        ).status,
    );
    t.equal(r, 403, 'and the API refuses the technician');
  });
});
