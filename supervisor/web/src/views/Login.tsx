/** The login page. Failed attempts are slowed down by the server (429 + Retry-After). */
import { useState } from 'preact/hooks';
import { ApiError, api } from '../api.js';
import { t } from '../i18n.js';
import type { User } from '../wire.js';

export function LoginView({ onLogin, notice }: { onLogin: (u: User) => void; notice: string | null }) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<string | null>(null);
  return (
    <main id="main" class="login">
      <section class="card narrow" aria-labelledby="login-h">
        <h1 id="login-h">{t('login.heading')}</h1>
        {notice ? (
          <p class="form-ok" role="status">
            {notice}
          </p>
        ) : null}
        <form
          class="stack"
          data-testid="login-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setErr(null);
            try {
              const r = await api<{ user: User }>('POST', '/api/login', { username, password });
              onLogin(r.user);
            } catch (x) {
              if (x instanceof ApiError && x.status === 429) setErr(t('login.throttled', { s: x.retryAfterS ?? '?' }));
              else if (x instanceof ApiError && x.status === 401) setErr(t('login.failed'));
              else if (x instanceof ApiError && x.status === 0) setErr(t('err.network'));
              else setErr((x as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          <label>
            {t('login.username')}
            <input name="username" autocomplete="username" required value={username} onInput={(e) => setUsername((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            {t('login.password')}
            <input
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword((e.target as HTMLInputElement).value)}
            />
          </label>
          {err ? (
            <p class="form-error" role="alert" data-testid="login-error">
              {err}
            </p>
          ) : null}
          <div>
            <button type="submit" class="btn btn-primary btn-large" disabled={busy}>
              {busy ? t('login.busy') : t('login.submit')}
            </button>
          </div>
        </form>
        <p class="muted">{t('login.firstRun')}</p>
      </section>
    </main>
  );
}
