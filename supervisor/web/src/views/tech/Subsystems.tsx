/** Every subsystem with every signal behind it, and the actuators that move the calls. */
import { StatusBadge, shown } from '../../components/StatusBadge.js';
import { fmtDuration, fmtValue, fmtWhen } from '../../format.js';
import { pick, t } from '../../i18n.js';
import { type LiveState, useNow } from '../../live.js';
import { SUBSYSTEM_ORDER, subsystemName } from '../Operator.js';

export function Subsystems({ live }: { live: LiveState }) {
  const now = useNow(1000) + live.clockSkewMs;
  const snap = live.snap;
  const isLive = live.conn === 'live';
  if (!snap) return <p>{t('conn.connecting')}</p>;
  return (
    <div class="subsystems">
      {SUBSYSTEM_ORDER.map((s) => {
        const h = snap.health[s];
        const signals = snap.signals.filter((x) => x.subsystem === s);
        return (
          <section key={s} class="card" aria-labelledby={`sub-${s}`} data-testid={`sub-${s}`}>
            <h3 id={`sub-${s}`}>
              {subsystemName(s)} <StatusBadge status={signals.length ? shown(h?.status ?? 'unknown', isLive) : 'unknown'} />
              {signals.length === 0 ? <span class="muted"> {t('sub.notMonitored')}</span> : null}
            </h3>
            {h && h.reasons.length > 0 ? (
              <ul class="reasons">
                {h.reasons.map((r) => (
                  <li key={r.code + r.signals.join()}>{pick(r)}</li>
                ))}
              </ul>
            ) : null}
            {signals.length > 0 ? (
              <div class="table-wrap">
                <table>
                  <caption class="sr-only">{subsystemName(s)}</caption>
                  <thead>
                    <tr>
                      <th scope="col">{t('sig.key')}</th>
                      <th scope="col">{t('sig.status')}</th>
                      <th scope="col">{t('sig.value')}</th>
                      <th scope="col">{t('sig.age')}</th>
                      <th scope="col">{t('sig.detail')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {signals.map((x) => (
                      <tr key={x.key} data-key={x.key}>
                        <th scope="row" class="mono">
                          {x.key}
                        </th>
                        <td>
                          <StatusBadge status={shown(x.status, isLive)} note={x.stale ? t('status.stale') : undefined} />
                        </td>
                        <td class="num">{fmtValue(x)}</td>
                        <td title={fmtWhen(x.observedAt)}>{fmtDuration(now - x.observedAt)}</td>
                        <td class="detail">{x.detail ?? ''}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : null}
          </section>
        );
      })}
      <section class="card" aria-labelledby="act-h">
        <h3 id="act-h">{t('act.heading')}</h3>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('act.name')}</th>
                <th scope="col">{t('act.target')}</th>
                <th scope="col">{t('act.observed')}</th>
                <th scope="col">{t('act.converged')}</th>
                <th scope="col">{t('act.verify')}</th>
                <th scope="col">{t('act.error')}</th>
              </tr>
            </thead>
            <tbody>
              {snap.actuators.map((a) => (
                <tr key={a.actuator}>
                  <th scope="row">{a.actuator}</th>
                  <td>{a.target ?? '—'}</td>
                  <td>{a.observed ?? '—'}</td>
                  <td>
                    <StatusBadge status={shown(a.converged ? 'ok' : 'warn', isLive)} />
                  </td>
                  <td class="detail">
                    {a.lastVerify ? (
                      <>
                        <StatusBadge status={shown(a.lastVerify.ok ? 'ok' : 'fail', isLive)} /> {fmtWhen(a.lastVerify.at)} {a.lastVerify.detail}
                      </>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td class="detail">{a.lastError ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}
