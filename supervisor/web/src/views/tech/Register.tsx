/**
 * The deviations register (avviksregister) of the evidence module, when this box has
 * it (GET /api/deviations): incidents grouped from alarms or opened by hand, each
 * acknowledged and closed by a technician with a comment. Shapes mirror
 * supervisor/src/store/evidenceStore.ts `Deviation` (only the fields shown here).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, errText } from '../../api.js';
import { fmtWhen } from '../../format.js';
import { getLang, t } from '../../i18n.js';

interface Deviation {
  id: number;
  openedAt: number;
  openedBy: string;
  titleEn: string;
  titleNb: string;
  occurrences: number;
  state: 'open' | 'acknowledged' | 'closed';
  ack: { at: number; by: string; comment: string | null } | null;
  closed: { at: number; by: string; comment: string } | null;
}

function Act({ d, onDone }: { d: Deviation; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const [err, setErr] = useState<string | null>(null);
  const run = async (what: 'ack' | 'close') => {
    try {
      await api('POST', `/api/deviations/${d.id}/${what}`, what === 'ack' && !comment.trim() ? {} : { comment: comment.trim() });
      setComment('');
      onDone();
    } catch (e) {
      setErr(errText(e));
    }
  };
  if (d.state === 'closed') return null;
  return (
    <span class="inline-form">
      <label>
        <span class="sr-only">{t('alarms.comment')}</span>
        <input value={comment} maxLength={1000} placeholder={t('reg.comment')} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
      </label>
      {d.state === 'open' ? (
        <button type="button" class="btn btn-small" onClick={() => run('ack')}>
          {t('alarms.ack')}
        </button>
      ) : null}
      <button type="button" class="btn btn-small" disabled={comment.trim().length < 3} onClick={() => run('close')}>
        {t('reg.close')}
      </button>
      {err ? (
        <span class="form-error" role="alert">
          {err}
        </span>
      ) : null}
    </span>
  );
}

/** Renders nothing when the box has no deviations register (the route answers 404). */
export function Register() {
  const [rows, setRows] = useState<Deviation[] | null>(null);
  const [state, setState] = useState<'notClosed' | 'all'>('notClosed');
  const [reload, setReload] = useState(0);
  useEffect(() => {
    api<{ deviations: Deviation[] }>('GET', `/api/deviations?state=${state}&limit=500`)
      .then((r) => setRows(r.deviations))
      .catch(() => setRows(null));
  }, [state, reload]);
  if (!rows) return null;
  const nb = getLang() === 'nb';
  return (
    <section class="card" aria-labelledby="reg-h" data-testid="register">
      <h3 id="reg-h">{t('reg.heading')}</h3>
      <p>
        <label>
          {t('dev.state')}{' '}
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value as typeof state)}>
            <option value="notClosed">{t('reg.notClosed')}</option>
            <option value="all">{t('ev.all')}</option>
          </select>
        </label>{' '}
        <a class="btn btn-small" href="/api/deviations/export?format=csv" download>
          {t('ev.csv')}
        </a>
      </p>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th scope="col">{t('reg.opened')}</th>
              <th scope="col">{t('ev.message')}</th>
              <th scope="col">{t('reg.count')}</th>
              <th scope="col">{t('dev.ackState')}</th>
              <th scope="col">{t('reg.action')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={5}>{t('reg.none')}</td>
              </tr>
            ) : (
              rows.map((d) => (
                <tr key={d.id} data-id={d.id}>
                  <td class="nowrap">{fmtWhen(d.openedAt)}</td>
                  <td>{nb ? d.titleNb : d.titleEn}</td>
                  <td class="num">{d.occurrences}</td>
                  <td>
                    {d.closed
                      ? `${t('reg.closedBy', { by: d.closed.by, time: fmtWhen(d.closed.at) })}: «${d.closed.comment}»`
                      : d.ack
                        ? `${t('alarms.ackedBy', { by: d.ack.by, time: fmtWhen(d.ack.at) })}${d.ack.comment ? `: «${d.ack.comment}»` : ''}`
                        : t('dev.open')}
                  </td>
                  <td>
                    <Act d={d} onDone={() => setReload(reload + 1)} />
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
