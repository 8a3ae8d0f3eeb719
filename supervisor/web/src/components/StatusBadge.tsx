import { type MsgKey, t } from '../i18n.js';
import type { SignalStatus } from '../wire.js';
import { Icon } from './Icon.js';

const KEY: Record<SignalStatus, MsgKey> = { ok: 'status.ok', warn: 'status.warn', fail: 'status.fail', unknown: 'status.unknown' };

/** Icon + word + tint: a status never depends on colour alone. */
export function StatusBadge({ status, large, note }: { status: SignalStatus; large?: boolean; note?: string }) {
  return (
    <span class={`badge badge-${status}${large ? ' badge-large' : ''}`} data-status={status}>
      <Icon name={status} size={large ? 28 : 18} />
      <span>{t(KEY[status])}</span>
      {note ? <span class="badge-note">({note})</span> : null}
    </span>
  );
}

/** While the live connection is down nothing is known to be OK. */
export function shown(status: SignalStatus, live: boolean): SignalStatus {
  return live ? status : 'unknown';
}
