/**
 * The operator's one glance: where calls go now, since when and why, in large type;
 * the subsystems at a glance; active alarms to acknowledge. While the connection is
 * down the route is shown as UNKNOWN and the last known route only as history.
 */
import { useState } from 'preact/hooks';
import { api, ApiError, errText } from '../api.js';
import { Icon } from '../components/Icon.js';
import { StatusBadge, shown } from '../components/StatusBadge.js';
import { fmtDuration, fmtWhen } from '../format.js';
import { type MsgKey, pick, t } from '../i18n.js';
import { type LiveConnection, type LiveState, useNow } from '../live.js';
import type { AlarmRow, Snapshot, Subsystem } from '../wire.js';

export const SUBSYSTEM_ORDER: Subsystem[] = ['power', 'time', 'wan', 'centres', 'telephony', 'recording', 'flows', 'system'];
export const subsystemName = (s: Subsystem) => t(`sub.${s}` as MsgKey);
const routeName = (r: 'local' | 'backup') => (r === 'local' ? t('route.local') : t('route.backup'));
const routeShort = (r: 'local' | 'backup') => (r === 'local' ? t('route.localShort') : t('route.backupShort'));

/** `compact`: the technician's header version, with the reasons folded away. */
export function RoutePanel({ live, compact }: { live: LiveState; compact?: boolean }) {
  const now = useNow(1000);
  const snap = live.snap;
  if (live.conn !== 'live' || !snap) {
    return (
      <section class="route route-unknown" data-testid="route" data-route="unknown" aria-labelledby="route-h">
        <h2 id="route-h" class="route-heading">
          {t('route.heading')}
        </h2>
        <p class="route-target">
          <Icon name="unknown" size={64} />
          <span data-testid="route-text">{t('route.unknown')}</span>
        </p>
        <p class="route-sub">{t('route.unknownWhy')}</p>
        {snap ? <p class="route-lastknown">{t('route.lastKnown', { route: routeShort(snap.route), time: fmtWhen(live.lostSince ?? snap.at) })}</p> : null}
      </section>
    );
  }
  const serverNow = now + live.clockSkewMs;
  const reasons = (
    <ul class="reasons" data-testid="reasons">
      {snap.reasons.length === 0 ? <li>{t('route.noReasons')}</li> : snap.reasons.map((r) => <li key={r.code + r.signals.join()}>{pick(r)}</li>)}
    </ul>
  );
  const since = Number.isFinite(snap.routeSince) ? snap.routeSince : null;
  // Where callers actually end up: with no centre answering or the call router down the
  // headline is its own critical state, never a normal-looking "backup centre".
  const path = snap.callPath?.path ?? snap.route;
  const critical = snap.callPath?.critical === true;
  return (
    <section
      class={`route route-${snap.route}${critical ? ' route-critical' : ''}`}
      data-testid="route"
      data-route={snap.route}
      data-mode={snap.mode}
      data-callpath={path}
      aria-labelledby="route-h"
    >
      <h2 id="route-h" class="route-heading">
        {t('route.heading')}
      </h2>
      <p class="route-target" aria-live="assertive">
        <Icon name={critical ? 'fail' : snap.route} size={64} />
        <span data-testid="route-text">{critical ? t(path === 'noRouter' ? 'route.noRouter' : 'route.announcement') : routeName(snap.route)}</span>
      </p>
      {critical ? (
        <div class="route-critical-what" data-testid="route-critical" role="alert">
          <p>{t(path === 'noRouter' ? 'route.noRouterWhy' : 'route.announcementWhy', { route: routeShort(snap.route) })}</p>
          <p>
            <strong>{t('route.whatToDo')}:</strong> {t(path === 'noRouter' ? 'route.noRouterDo' : 'route.announcementDo')}
          </p>
          <ul class="reasons">
            {snap.callPath.reasons.map((r) => (
              <li key={r.code + r.signals.join()}>{pick(r)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      <p class="route-sub">
        {since !== null ? (
          <>
            {t('route.since', { time: fmtWhen(since, serverNow) })} · {t('route.duration', { duration: fmtDuration(serverNow - since) })}
          </>
        ) : null}
      </p>
      <p class="route-mode">
        <strong>{t('mode.label')}:</strong> {t(`mode.${snap.mode}` as MsgKey)}
      </p>
      {snap.override ? (
        <p class="route-override" data-testid="override">
          {t('route.override', {
            route: routeShort(snap.override.route),
            by: snap.override.by,
            until: fmtWhen(snap.override.until),
            reason: snap.override.reason,
          })}
        </p>
      ) : null}
      {snap.floor.length > 0 ? <p class="route-floor">{t('route.floor')}</p> : null}
      {compact ? (
        <details class="route-details">
          <summary>
            {t('route.why')} ({snap.reasons.length})
          </summary>
          {reasons}
        </details>
      ) : (
        <>
          <h3 class="route-why">{t('route.why')}</h3>
          {reasons}
        </>
      )}
    </section>
  );
}

export function SubsystemTiles({ snap, live }: { snap: Snapshot | null; live: boolean }) {
  return (
    <section aria-labelledby="subs-h">
      <h2 id="subs-h">{t('sub.heading')}</h2>
      <ul class="tiles">
        {SUBSYSTEM_ORDER.map((s) => {
          const h = snap?.health[s];
          const monitored = !!h && h.signals.length > 0;
          const status = shown(h?.status ?? 'unknown', live);
          return (
            <li key={s} class={`tile tile-${monitored ? status : 'none'}`} data-testid={`tile-${s}`} data-status={monitored ? status : 'none'}>
              <span class="tile-name">{subsystemName(s)}</span>
              {monitored ? <StatusBadge status={status} /> : <span class="tile-none">{t('sub.notMonitored')}</span>}
              {monitored && live && h && h.reasons.length > 0 ? <span class="tile-reason">{pick(h.reasons[0] as { nb: string; en: string })}</span> : null}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function AlarmItem({ a, conn }: { a: AlarmRow; conn: LiveConnection }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  const ack = async () => {
    setBusy(true);
    setErr(null);
    try {
      await api('POST', `/api/alarms/${a.id}/ack`, {});
      conn.markAcked(a.id);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) conn.markAcked(a.id);
      else setErr(errText(e));
    } finally {
      setBusy(false);
    }
  };
  const text = pick(a);
  return (
    <li class="alarm" data-testid="alarm" data-id={a.id}>
      <Icon name="bell" size={28} />
      <div class="alarm-body">
        <span class="alarm-time">{fmtWhen(a.at)}</span> <span class="alarm-text">{text}</span>
        {err ? (
          <div class="form-error" role="alert">
            {err}
          </div>
        ) : null}
      </div>
      <button type="button" class="btn btn-primary" onClick={ack} disabled={busy} aria-label={t('alarms.ackLabel', { text })}>
        {t('alarms.ack')}
      </button>
    </li>
  );
}

export function AlarmList({ live, conn, max = 20 }: { live: LiveState; conn: LiveConnection; max?: number }) {
  const shownAlarms = live.alarms.slice(0, max);
  const [busy, setBusy] = useState(false);
  // One incident often raises several alarms at once; each acknowledgement is still
  // recorded one by one, with the user.
  const ackAll = async () => {
    setBusy(true);
    for (const a of shownAlarms) {
      try {
        await api('POST', `/api/alarms/${a.id}/ack`, {});
        conn.markAcked(a.id);
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) conn.markAcked(a.id);
        else break;
      }
    }
    setBusy(false);
  };
  return (
    <section aria-labelledby="alarms-h" class="alarms">
      <h2 id="alarms-h">
        {t('alarms.heading')}{' '}
        {live.openAlarms > 0 ? (
          <span class="count" data-testid="alarm-count">
            {t('alarms.count', { n: live.openAlarms })}
          </span>
        ) : null}
      </h2>
      {shownAlarms.length === 0 ? (
        <p data-testid="no-alarms">{t('alarms.none')}</p>
      ) : (
        <ul class="alarm-list">
          {shownAlarms.map((a) => (
            <AlarmItem key={a.id} a={a} conn={conn} />
          ))}
        </ul>
      )}
      {shownAlarms.length > 1 ? (
        <p>
          <button type="button" class="btn" onClick={ackAll} disabled={busy} data-testid="ack-all">
            {t('alarms.ackAll', { n: shownAlarms.length })}
          </button>
        </p>
      ) : null}
      {live.alarms.length > max ? <p>{t('alarms.more', { n: live.alarms.length - max })}</p> : null}
    </section>
  );
}

export function OperatorView({ live, conn }: { live: LiveState; conn: LiveConnection }) {
  return (
    <div class="operator" data-testid="operator-view">
      <RoutePanel live={live} />
      <div class="operator-grid">
        <AlarmList live={live} conn={conn} />
        <SubsystemTiles snap={live.snap} live={live.conn === 'live'} />
      </div>
    </div>
  );
}
