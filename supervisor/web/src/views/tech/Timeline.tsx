/** The route timeline: every decision with its reasons; route changes stand out. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../../api.js';
import { Icon } from '../../components/Icon.js';
import { fmtDuration, fmtWhen } from '../../format.js';
import { type MsgKey, pick, t } from '../../i18n.js';
import type { LiveState } from '../../live.js';
import type { StoredDecision } from '../../wire.js';

/** A strip of the route over the loaded window: where calls went, and for how long. */
function RouteStrip({ decisions, now }: { decisions: StoredDecision[]; now: number }) {
  const asc = [...decisions].reverse();
  const first = asc[0];
  if (!first) return null;
  const start = first.at;
  const span = Math.max(1, now - start);
  const segs: Array<{ route: 'local' | 'backup'; from: number; to: number }> = [];
  for (const d of asc) {
    const last = segs[segs.length - 1];
    if (last && last.route === d.route) continue;
    if (last) last.to = d.at;
    segs.push({ route: d.route, from: d.at, to: now });
  }
  return (
    <ol class="strip" aria-label={t('tl.heading')}>
      {segs.map((s) => (
        <li key={s.from} class={`strip-seg strip-${s.route}`} style={{ flexGrow: Math.max(0.02, (s.to - s.from) / span) }}>
          <Icon name={s.route} size={16} />
          <span>
            {s.route === 'local' ? t('route.localShort') : t('route.backupShort')} {fmtWhen(s.from)} ({fmtDuration(s.to - s.from)})
          </span>
        </li>
      ))}
    </ol>
  );
}

export function Timeline({ live }: { live: LiveState }) {
  const [rows, setRows] = useState<StoredDecision[]>([]);
  const [onlyChanges, setOnlyChanges] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const decisionMark = live.snap?.at;
  useEffect(() => {
    api<{ decisions: StoredDecision[] }>('GET', '/api/decisions?limit=500')
      .then((r) => setRows(r.decisions))
      .catch((e: Error) => setErr(e.message));
  }, [decisionMark]);
  const list = onlyChanges ? rows.filter((d) => d.routeChanged) : rows;
  return (
    <div class="timeline">
      {err ? <p class="form-error">{err}</p> : null}
      <RouteStrip decisions={rows} now={Date.now() + live.clockSkewMs} />
      <label class="check">
        <input type="checkbox" checked={onlyChanges} onChange={(e) => setOnlyChanges((e.target as HTMLInputElement).checked)} /> {t('tl.onlyChanges')}
      </label>
      <div class="table-wrap">
        <table data-testid="timeline">
          <thead>
            <tr>
              <th scope="col">{t('tl.time')}</th>
              <th scope="col">{t('tl.route')}</th>
              <th scope="col">{t('tl.mode')}</th>
              <th scope="col">{t('tl.reasons')}</th>
              <th scope="col">{t('tl.by')}</th>
            </tr>
          </thead>
          <tbody>
            {list.map((d) => (
              <tr key={d.id} class={d.routeChanged ? 'row-change' : ''}>
                <td>{fmtWhen(d.at)}</td>
                <td>
                  <Icon name={d.route} size={16} /> {d.route === 'local' ? t('route.localShort') : t('route.backupShort')}
                  {d.routeChanged ? <strong> ({t('tl.change')})</strong> : null}
                </td>
                <td>{t(`mode.${d.mode}` as MsgKey)}</td>
                <td>{d.reasons.map((r) => pick(r)).join('; ')}</td>
                <td>{d.override ? `${d.override.by} (${d.decidedBy})` : d.decidedBy}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
