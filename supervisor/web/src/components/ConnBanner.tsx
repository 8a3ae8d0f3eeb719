import { fmtWhen } from '../format.js';
import { t } from '../i18n.js';
import type { LiveState } from '../live.js';
import { Icon } from './Icon.js';

/** Shouts when the view is not live: everything else on the page is then "last known". */
export function ConnBanner({ live }: { live: LiveState }) {
  if (live.conn === 'live') return null;
  if (live.conn === 'connecting' && live.snap === null) {
    return (
      <div class="conn-banner conn-connecting" role="status" data-testid="conn-banner" data-conn="connecting">
        {t('conn.connecting')}
      </div>
    );
  }
  return (
    <div class="conn-banner conn-lost" role="alert" data-testid="conn-banner" data-conn="lost">
      <Icon name="plug" size={32} />
      <div>
        <strong>{t('conn.lostLong')}</strong>
        {live.lostSince ? <div>{t('conn.lostSince', { time: fmtWhen(live.lostSince) })}</div> : null}
      </div>
    </div>
  );
}

/** The small indicator in the header. */
export function ConnIndicator({ live }: { live: LiveState }) {
  const state = live.conn;
  return (
    <span class={`conn conn-${state}`} data-testid="conn" data-conn={state} role="status">
      <Icon name={state === 'live' ? 'ok' : state === 'lost' ? 'plug' : 'unknown'} size={18} />
      <span>{state === 'live' ? t('conn.live') : state === 'lost' ? t('conn.lost') : t('conn.connecting')}</span>
    </span>
  );
}
