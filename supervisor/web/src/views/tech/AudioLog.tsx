/**
 * The audio log (lydlogg): search recordings by time and caller, play one with a
 * stated reason. Recordings are patient record: the server refuses playback without
 * a reason and writes every search and playback to the hash-chained access log (who,
 * when, which, why) before a byte is served. Search and Play are POSTs with the reason
 * in the body (not in a URL that proxies and histories keep): Play chains the access
 * and gets a short-lived playback ticket bound to this session and recording; the
 * <audio> element streams with it (seeking by Range requests), and those GETs write
 * nothing — so no page elsewhere can make the browser write an access in our name.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, apiFile, errText } from '../../api.js';
import { download } from '../../csv.js';
import { fmtDateTime, fmtDuration } from '../../format.js';
import { type MsgKey, t } from '../../i18n.js';
import { roleAtLeast } from '../../roles.js';
import type { RecordingRow, Role, User } from '../../wire.js';

/** A row of POST /api/audiolog/recordings/search: the store's own shape, the fields shown here. */
type Recording = Pick<RecordingRow, 'id' | 'kind' | 'status' | 'startedAt' | 'caller' | 'called' | 'route' | 'centre' | 'audioMs' | 'held' | 'holdCase'>;

interface AudiologStatus {
  recordings: number;
  access: { listenRole: Role; exportRole: Role; holdRole: Role; minReasonLength: number };
}

interface Search {
  since: string;
  until: string;
  caller: string;
}

interface Playing {
  id: string;
  /** The audio URL with its playback ticket (same origin: the session cookie goes along). */
  url: string;
  accessSeq: number;
  reason: string;
}

/** The answer of POST /api/audiolog/recordings/:id/listen. */
interface ListenGrant {
  accessSeq: number;
  url: string;
  expiresAt: number;
}

const PAGE = 100;

/** The body of POST /api/audiolog/recordings/search. */
function searchBody(s: Search, reason: string): Record<string, string | number> {
  const b: Record<string, string | number> = { limit: PAGE };
  if (s.since) b.since = new Date(s.since).getTime();
  if (s.until) b.before = new Date(s.until).getTime();
  if (s.caller.trim()) b.caller = s.caller.replace(/[\s-]/g, '');
  if (reason.trim()) b.reason = reason.trim();
  return b;
}

export function AudioLog({ user }: { user: User }) {
  // undefined: loading; null: this box has no audio log (the API answers 404).
  const [status, setStatus] = useState<AudiologStatus | null | undefined>(undefined);
  const [draft, setDraft] = useState<Search>({ since: '', until: '', caller: '' });
  const [rows, setRows] = useState<Recording[] | null>(null);
  const [reason, setReason] = useState('');
  const [playing, setPlaying] = useState<Playing | null>(null);
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const [caseRef, setCaseRef] = useState('');
  const [done, setDone] = useState<string | null>(null);

  useEffect(() => {
    api<AudiologStatus>('GET', '/api/audiolog/status')
      .then(setStatus)
      .catch((e) => (e instanceof ApiError && e.status === 404 ? setStatus(null) : setErr(errText(e))));
  }, []);

  if (status === undefined) return err ? <ErrorLine text={err} /> : <p class="muted">{t('audio.loading')}</p>;
  if (status === null) {
    return (
      <section class="card" data-testid="audio">
        <p>{t('audio.unavailable')}</p>
      </section>
    );
  }
  const { listenRole, exportRole, holdRole, minReasonLength } = status.access;
  const mayExport = roleAtLeast(user.role, exportRole);
  const mayHold = roleAtLeast(user.role, holdRole);
  if (!roleAtLeast(user.role, listenRole)) {
    return (
      <section class="card" data-testid="audio">
        <p data-testid="audio-denied">{t('audio.denied', { role: t(`role.${listenRole}` as MsgKey) })}</p>
      </section>
    );
  }

  const reasonOk = reason.trim().length >= minReasonLength;

  const search = async (e: Event) => {
    e.preventDefault();
    if (draft.since && draft.until && new Date(draft.since) >= new Date(draft.until)) {
      setErr(t('audio.badRange'));
      return;
    }
    setBusy(true);
    try {
      const r = await api<{ recordings: Recording[] }>('POST', '/api/audiolog/recordings/search', searchBody(draft, reason));
      setRows(r.recordings);
      setErr(null);
    } catch (e2) {
      setErr(errText(e2));
    } finally {
      setBusy(false);
    }
  };

  const play = async (rec: Recording) => {
    setBusy(true);
    setErr(null);
    try {
      const g = await api<ListenGrant>('POST', `/api/audiolog/recordings/${encodeURIComponent(rec.id)}/listen`, { reason: reason.trim() });
      setPlaying({ id: rec.id, url: g.url, accessSeq: g.accessSeq, reason: reason.trim() });
    } catch (e2) {
      setErr(errText(e2));
    } finally {
      setBusy(false);
    }
  };

  /** The recording, its metadata, hashes and chain proof as a tar (the access is chained first). */
  const exportOne = async (rec: Recording) => {
    setBusy(true);
    setErr(null);
    try {
      const res = await apiFile('/api/audiolog/export', { ids: [rec.id], reason: reason.trim() });
      const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? `vaktpost-audiolog-${rec.id}.tar`;
      download(name, await res.blob());
      setDone(t('audio.exported', { name }));
    } catch (e2) {
      setErr(errText(e2));
    } finally {
      setBusy(false);
    }
  };

  /** Legal hold (kept past retention for a case) or its release; both chained with the reason. */
  const hold = async (rec: Recording) => {
    setBusy(true);
    setErr(null);
    try {
      const path = `/api/audiolog/recordings/${encodeURIComponent(rec.id)}/${rec.held ? 'release' : 'hold'}`;
      const r = await api<{ held: boolean; case?: string }>(
        'POST',
        path,
        rec.held ? { reason: reason.trim() } : { reason: reason.trim(), case: caseRef.trim() },
      );
      setRows((rows ?? []).map((x) => (x.id === rec.id ? { ...x, held: r.held, holdCase: r.case ?? null } : x)));
      setDone(t(rec.held ? 'audio.released' : 'audio.heldNow', { id: rec.id }));
    } catch (e2) {
      setErr(errText(e2));
    } finally {
      setBusy(false);
    }
  };

  const set = (k: keyof Search) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  return (
    <div class="audiolog" data-testid="audio">
      <p class="muted">{t('audio.intro', { n: status.recordings })}</p>
      <form class="filters" onSubmit={search} data-testid="audio-search">
        <fieldset>
          <legend>{t('audio.search')}</legend>
          <label>
            {t('ev.since')} <input type="datetime-local" value={draft.since} onInput={set('since')} data-testid="audio-since" />
          </label>
          <label>
            {t('ev.until')} <input type="datetime-local" value={draft.until} onInput={set('until')} data-testid="audio-until" />
          </label>
          <label>
            {t('audio.caller')}{' '}
            <input
              value={draft.caller}
              onInput={set('caller')}
              inputMode="tel"
              pattern="\+?[0-9 \-]{2,40}"
              placeholder="90012345"
              size={14}
              data-testid="audio-caller"
            />
          </label>
          <button type="submit" class="btn btn-primary" disabled={busy}>
            {t('audio.find')}
          </button>
        </fieldset>
        <label class="reason">
          {t('audio.reason', { n: minReasonLength })}{' '}
          <input
            value={reason}
            maxLength={500}
            size={40}
            placeholder={t('audio.reasonExample')}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
            aria-describedby="audio-reason-hint"
            data-testid="audio-reason"
          />
        </label>
        <p id="audio-reason-hint" class="muted">
          {t('audio.reasonHint')}
        </p>
        {mayHold ? (
          <label>
            {t('audio.case')}{' '}
            <input
              value={caseRef}
              maxLength={100}
              size={16}
              placeholder="2026-114"
              onInput={(e) => setCaseRef((e.target as HTMLInputElement).value)}
              data-testid="audio-case"
            />
          </label>
        ) : null}
      </form>
      {err ? <ErrorLine text={err} /> : null}
      {done ? (
        <p class="muted" role="status" data-testid="audio-done">
          {done}
        </p>
      ) : null}
      {playing ? (
        <section class="card" aria-labelledby="audio-playing-h" data-testid="audio-player" data-id={playing.id}>
          <h3 id="audio-playing-h">{t('audio.playing', { id: playing.id })}</h3>
          {/* biome-ignore lint/a11y/useMediaCaption: call recordings have no transcript to caption */}
          <audio
            controls
            autoPlay
            preload="auto"
            src={playing.url}
            // The ticket ran out (or the box restarted): say so, and how to go on.
            onError={() => setErr(t('audio.playFailed'))}
            data-testid="audio-element"
          />
          <p class="muted" data-testid="audio-logged">
            {t('audio.logged', { user: user.username, seq: playing.accessSeq, reason: playing.reason })}
          </p>
        </section>
      ) : null}
      {rows ? (
        <>
          <p class="muted" aria-live="polite" data-testid="audio-count">
            {t('audio.count', { n: rows.length })}
          </p>
          <div class="table-wrap">
            <table data-testid="audio-results">
              <thead>
                <tr>
                  <th scope="col">{t('ev.time')}</th>
                  <th scope="col">{t('audio.caller')}</th>
                  <th scope="col">{t('audio.called')}</th>
                  <th scope="col">{t('audio.length')}</th>
                  <th scope="col">{t('audio.answeredBy')}</th>
                  <th scope="col">{t('acc.state')}</th>
                  <th scope="col">
                    <span class="sr-only">{t('audio.actions')}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.length === 0 ? (
                  <tr>
                    <td colSpan={7}>{t('audio.none')}</td>
                  </tr>
                ) : (
                  rows.map((r) => (
                    <tr key={r.id} data-testid="audio-row" data-id={r.id}>
                      <td class="nowrap">{fmtDateTime(r.startedAt)}</td>
                      <td class="mono">{r.kind === 'test' ? t('audio.testCall') : (r.caller ?? '—')}</td>
                      <td class="mono">{r.called ?? '—'}</td>
                      <td class="nowrap">{fmtDuration(r.audioMs)}</td>
                      <td>
                        {r.route ?? '—'}
                        {r.centre ? <span class="muted mono"> {r.centre}</span> : null}
                      </td>
                      <td>
                        {t(`audio.status.${r.status}` as MsgKey)}
                        {r.held ? ` · ${t('audio.held', { case: r.holdCase ?? '' })}` : ''}
                      </td>
                      <td>
                        <button
                          type="button"
                          class="btn btn-small"
                          disabled={busy || !reasonOk || r.status === 'no-audio'}
                          title={reasonOk ? undefined : t('audio.needReason', { n: minReasonLength })}
                          onClick={() => play(r)}
                          data-testid="audio-play"
                        >
                          {t('audio.play')}
                        </button>
                        {mayExport ? (
                          <button type="button" class="btn btn-small" disabled={busy || !reasonOk} onClick={() => exportOne(r)} data-testid="audio-export">
                            {t('audio.export')}
                          </button>
                        ) : null}
                        {mayHold ? (
                          <button
                            type="button"
                            class="btn btn-small"
                            disabled={busy || !reasonOk || (!r.held && !caseRef.trim())}
                            title={!r.held && !caseRef.trim() ? t('audio.needCase') : undefined}
                            onClick={() => hold(r)}
                            data-testid="audio-hold"
                          >
                            {r.held ? t('audio.release') : t('audio.hold')}
                          </button>
                        ) : null}
                      </td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </div>
          {!reasonOk && rows.length > 0 ? (
            <p class="muted" data-testid="audio-need-reason">
              {t('audio.needReason', { n: minReasonLength })}
            </p>
          ) : null}
        </>
      ) : null}
    </div>
  );
}

function ErrorLine({ text }: { text: string }) {
  return (
    <p class="form-error" role="alert" data-testid="audio-error">
      {text}
    </p>
  );
}
