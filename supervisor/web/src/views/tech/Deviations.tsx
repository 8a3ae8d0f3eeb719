/** Deviations: every alarm, whether and by whom it was acknowledged; acknowledge with a comment. */
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, errText } from '../../api.js';
import { fmtWhen } from '../../format.js';
import { pick, t } from '../../i18n.js';
import type { LiveConnection, LiveState } from '../../live.js';
import type { AlarmRow } from '../../wire.js';
import { Register } from './Register.js';

function AckForm({ a, onDone, conn }: { a: AlarmRow; onDone: () => void; conn: LiveConnection }) {
  const [comment, setComment] = useState('');
  const [err, setErr] = useState<string | null>(null);
  return (
    <form
      class="inline-form"
      onSubmit={async (e) => {
        e.preventDefault();
        try {
          await api('POST', `/api/alarms/${a.id}/ack`, comment.trim() ? { comment: comment.trim() } : {});
          conn.markAcked(a.id);
          onDone();
        } catch (x) {
          setErr(errText(x));
          if (x instanceof ApiError && x.status === 409) onDone();
        }
      }}
    >
      <label>
        <span class="sr-only">{t('alarms.comment')}</span>
        <input value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} placeholder={t('alarms.comment')} maxLength={500} />
      </label>{' '}
      <button type="submit" class="btn btn-primary btn-small">
        {t('alarms.ack')}
      </button>
      {err ? (
        <span class="form-error" role="alert">
          {err}
        </span>
      ) : null}
    </form>
  );
}

export function Deviations({ live, conn }: { live: LiveState; conn: LiveConnection }) {
  const [state, setState] = useState<'open' | 'acked' | 'all'>('all');
  const [rows, setRows] = useState<AlarmRow[]>([]);
  const [reload, setReload] = useState(0);
  const [err, setErr] = useState<string | null>(null);
  // Reload when the set of open alarms changes (a new alarm, or someone acknowledged one).
  const mark = `${live.openAlarms}:${live.alarms[0]?.id ?? 0}`;
  useEffect(() => {
    api<{ alarms: AlarmRow[] }>('GET', `/api/alarms?state=${state}&limit=500`)
      .then((r) => {
        setRows(r.alarms);
        setErr(null);
      })
      .catch((e: Error) => setErr(e.message));
  }, [state, reload, mark]);
  return (
    <div class="deviations">
      <Register />
      <h3>{t('dev.alarms')}</h3>
      <label>
        {t('dev.state')}{' '}
        <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value as typeof state)}>
          <option value="all">{t('ev.all')}</option>
          <option value="open">{t('dev.open')}</option>
          <option value="acked">{t('dev.acked')}</option>
        </select>
      </label>
      {err ? <p class="form-error">{err}</p> : null}
      <div class="table-wrap">
        <table data-testid="deviations">
          <thead>
            <tr>
              <th scope="col">{t('ev.time')}</th>
              <th scope="col">{t('ev.message')}</th>
              <th scope="col">{t('dev.ackState')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 ? (
              <tr>
                <td colSpan={3}>{t('alarms.none')}</td>
              </tr>
            ) : (
              rows.map((a) => (
                <tr key={a.id} data-id={a.id}>
                  <td class="nowrap">{fmtWhen(a.at)}</td>
                  <td>{pick(a)}</td>
                  <td>
                    {a.ack ? (
                      <span data-testid="acked-by">
                        {t('alarms.ackedBy', { by: a.ack.by, time: fmtWhen(a.ack.at) })}
                        {a.ack.comment ? `: «${a.ack.comment}»` : ''}
                      </span>
                    ) : (
                      <AckForm a={a} conn={conn} onDone={() => setReload(reload + 1)} />
                    )}
                  </td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
