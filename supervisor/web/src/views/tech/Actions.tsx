/**
 * Actions by role (technician and admin): manual route with reason and expiry (this is
 * also maintenance mode), the failover drill, and the simulated box's faults. Each
 * change is confirmed in the page first and recorded by the server with the user.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, errText } from '../../api.js';
import { fmtWhen } from '../../format.js';
import { t } from '../../i18n.js';
import type { LiveState } from '../../live.js';
import type { DrillResult } from '../../wire.js';

/** Two steps instead of window.confirm: readable, translatable, and keyboard-friendly. */
function Confirm({ what, onConfirm, children, disabled }: { what: string; onConfirm: () => Promise<void>; children: ComponentChildren; disabled?: boolean }) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  if (!asking) {
    return (
      <button type="button" class="btn btn-primary" disabled={disabled} onClick={() => setAsking(true)}>
        {children}
      </button>
    );
  }
  return (
    <fieldset class="confirm">
      <legend class="sr-only">{t('actions.confirm', { what })}</legend>
      <span>{t('actions.confirm', { what })}</span>{' '}
      <button
        type="button"
        class="btn btn-danger"
        disabled={busy}
        data-testid="confirm"
        onClick={async () => {
          setBusy(true);
          try {
            await onConfirm();
          } finally {
            setBusy(false);
            setAsking(false);
          }
        }}
      >
        OK
      </button>{' '}
      <button type="button" class="btn" onClick={() => setAsking(false)}>
        ✕
      </button>
    </fieldset>
  );
}

function Override({ live }: { live: LiveState }) {
  const [route, setRoute] = useState<'local' | 'backup'>('backup');
  const [minutes, setMinutes] = useState(30);
  const [reason, setReason] = useState('');
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const o = live.snap?.override;
  const routeShort = (r: 'local' | 'backup') => (r === 'local' ? t('route.localShort') : t('route.backupShort'));
  const valid = reason.trim().length >= 3 && minutes > 0 && minutes <= 7 * 24 * 60;
  return (
    <section class="card" aria-labelledby="ovr-h" data-testid="override-form">
      <h3 id="ovr-h">{t('actions.override')}</h3>
      <p data-testid="override-state">
        {o ? t('actions.overrideActive', { route: routeShort(o.route), until: fmtWhen(o.until), by: o.by, reason: o.reason }) : t('actions.noOverride')}
      </p>
      <p class="muted">{t('actions.maintenance')}</p>
      <form class="stack" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('actions.route')}{' '}
          <select value={route} onChange={(e) => setRoute((e.target as HTMLSelectElement).value as 'local' | 'backup')} name="route">
            <option value="backup">{t('route.backup')}</option>
            <option value="local">{t('route.local')}</option>
          </select>
        </label>
        <label>
          {t('actions.minutes')}{' '}
          <input type="number" min={1} max={10080} value={minutes} name="minutes" onInput={(e) => setMinutes(Number((e.target as HTMLInputElement).value))} />
        </label>
        <label>
          {t('actions.reason')}{' '}
          <input
            value={reason}
            name="reason"
            required
            minLength={3}
            maxLength={500}
            size={40}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
        </label>
        <div>
          <Confirm
            what={`${routeShort(route)}, ${minutes} min`}
            disabled={!valid}
            onConfirm={async () => {
              try {
                await api('POST', '/api/route/override', { route, minutes, reason: reason.trim() });
                setMsg({ ok: true, text: t('actions.done') });
              } catch (e) {
                setMsg({ ok: false, text: errText(e) });
              }
            }}
          >
            {t('actions.set')}
          </Confirm>{' '}
          {o ? (
            <Confirm
              what={t('actions.clear')}
              onConfirm={async () => {
                try {
                  await api('DELETE', '/api/route/override');
                  setMsg({ ok: true, text: t('actions.done') });
                } catch (e) {
                  setMsg({ ok: false, text: errText(e) });
                }
              }}
            >
              {t('actions.clear')}
            </Confirm>
          ) : null}
        </div>
      </form>
      {msg ? (
        <p class={msg.ok ? 'form-ok' : 'form-error'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      ) : null}
    </section>
  );
}

function DrillCard() {
  const [running, setRunning] = useState(false);
  const [result, setResult] = useState<DrillResult | null>(null);
  const [err, setErr] = useState<string | null>(null);
  return (
    <section class="card" aria-labelledby="drill-h">
      <h3 id="drill-h">{t('actions.drill')}</h3>
      <p class="muted">{t('actions.drillInfo')}</p>
      <Confirm
        what={t('actions.drillStart')}
        disabled={running}
        onConfirm={async () => {
          setRunning(true);
          setErr(null);
          try {
            setResult(await api<DrillResult>('POST', '/api/drill'));
          } catch (e) {
            setErr(errText(e));
          } finally {
            setRunning(false);
          }
        }}
      >
        {running ? t('actions.drillRunning') : t('actions.drillStart')}
      </Confirm>
      {err ? (
        <p class="form-error" role="alert">
          {err}
        </p>
      ) : null}
      {result ? (
        <div role="status">
          <p>
            <strong>{t('actions.drillResult', { outcome: result.outcome })}</strong>
            {result.reason ? ` – ${result.reason}` : ''}
          </p>
          <ol>
            {result.steps.map((s) => (
              <li key={s.at + s.step}>
                {s.ok ? '✔' : '✖'} {s.step}: {s.detail}
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}

function SimCard() {
  const [faults, setFaults] = useState<string[] | null>(null);
  const [msg, setMsg] = useState<string | null>(null);
  useEffect(() => {
    api<{ faults: string[] }>('GET', '/api/sim')
      .then((r) => setFaults(r.faults))
      .catch(() => setFaults(null)); // not a simulated box: no card
  }, []);
  if (!faults) return null;
  return (
    <section class="card" aria-labelledby="sim-h" data-testid="sim">
      <h3 id="sim-h">{t('actions.sim')}</h3>
      <p class="muted">{t('actions.simInfo')}</p>
      <div class="button-row">
        {faults.map((f) => (
          <button
            key={f}
            type="button"
            class="btn btn-small"
            onClick={async () => {
              try {
                await api('POST', '/api/sim/fault', { fault: f });
                setMsg(`${f}: ${t('actions.done')}`);
              } catch (e) {
                setMsg(errText(e));
              }
            }}
          >
            {f}
          </button>
        ))}
      </div>
      {msg ? <p role="status">{msg}</p> : null}
    </section>
  );
}

export function Actions({ live }: { live: LiveState }) {
  return (
    <div class="actions">
      <Override live={live} />
      <DrillCard />
      <SimCard />
    </div>
  );
}
