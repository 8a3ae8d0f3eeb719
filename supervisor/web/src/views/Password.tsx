/** Change your own password (the current one is required); all sessions end afterwards. */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { t } from '../i18n.js';

export function PasswordView({ onChanged }: { onChanged: () => void }) {
  const [f, setF] = useState({ current: '', password: '', repeat: '' });
  const [err, setErr] = useState<string | null>(null);
  const set = (k: keyof typeof f) => (e: Event) => setF({ ...f, [k]: (e.target as HTMLInputElement).value });
  return (
    <section class="card narrow" aria-labelledby="pw-h">
      <h2 id="pw-h">{t('pw.heading')}</h2>
      <form
        class="stack"
        onSubmit={async (e) => {
          e.preventDefault();
          if (f.password !== f.repeat) return setErr(t('pw.mismatch'));
          try {
            await api('POST', '/api/me/password', { current: f.current, password: f.password });
            onChanged();
          } catch (x) {
            setErr((x as Error).message);
          }
        }}
      >
        <label>
          {t('pw.current')} <input type="password" autocomplete="current-password" required value={f.current} onInput={set('current')} />
        </label>
        <label>
          {t('pw.new')} <input type="password" autocomplete="new-password" required minLength={12} value={f.password} onInput={set('password')} />
        </label>
        <label>
          {t('pw.repeat')} <input type="password" autocomplete="new-password" required minLength={12} value={f.repeat} onInput={set('repeat')} />
        </label>
        {err ? (
          <p class="form-error" role="alert">
            {err}
          </p>
        ) : null}
        <div>
          <button type="submit" class="btn btn-primary">
            {t('pw.submit')}
          </button>
        </div>
      </form>
    </section>
  );
}
