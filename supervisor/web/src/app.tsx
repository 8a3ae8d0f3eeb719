/**
 * The shell: login or the app; header with views, connection state, language and
 * user; the live connection lives as long as the login. Views are chosen by the
 * URL hash, so a screen on the wall can be bookmarked to the operator view.
 */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, setUnauthorizedHandler } from './api.js';
import { ConnBanner, ConnIndicator } from './components/ConnBanner.js';
import { getLang, type MsgKey, setLang, t, useLang } from './i18n.js';
import { LiveConnection, useLive } from './live.js';
import { roleAtLeast } from './roles.js';
import type { Role, User } from './wire.js';
import { AccountsView } from './views/Accounts.js';
import { LoginView } from './views/Login.js';
import { OperatorView } from './views/Operator.js';
import { PasswordView } from './views/Password.js';
import { TECH_SECTIONS, type TechSection, TechnicianView } from './views/Technician.js';

const hasRole = (u: User, need: Role) => roleAtLeast(u.role, need);

type View = { name: 'operator' } | { name: 'technician'; section: TechSection } | { name: 'accounts' } | { name: 'password' };

function parseHash(hash: string): View {
  const [, a, b] = hash.replace(/^#/, '').split('/');
  if (a === 'technician') return { name: 'technician', section: (TECH_SECTIONS as readonly string[]).includes(b ?? '') ? (b as TechSection) : 'overview' };
  if (a === 'accounts') return { name: 'accounts' };
  if (a === 'password') return { name: 'password' };
  return { name: 'operator' };
}

function useHashView(): View {
  const [v, set] = useState(parseHash(location.hash));
  useEffect(() => {
    const on = () => set(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return v;
}

function LangSwitch() {
  const lang = useLang();
  return (
    <button type="button" class="btn btn-small" lang={lang === 'nb' ? 'en' : 'nb'} data-testid="lang" onClick={() => setLang(getLang() === 'nb' ? 'en' : 'nb')}>
      <span aria-hidden="true">{t('lang.switch')}</span>
      <span class="sr-only">{t('lang.switchLabel')}</span>
    </button>
  );
}

function Forbidden() {
  return (
    <p class="form-error" role="alert" data-testid="forbidden">
      {t('err.forbidden')}
    </p>
  );
}

function LoggedIn({ user, onLogout, onPasswordChanged }: { user: User; onLogout: () => void; onPasswordChanged: () => void }) {
  const conn = useMemo(() => new LiveConnection(onLogout), [onLogout]);
  useEffect(() => {
    conn.start();
    return () => conn.stop();
  }, [conn]);
  const live = useLive(conn);
  const view = useHashView();
  useLang();
  useEffect(() => {
    const s = live.snap;
    document.title =
      live.conn !== 'live' || !s ? `${t('conn.lost')} – Vaktpost` : `${s.route === 'local' ? t('route.localShort') : t('route.backupShort')} – Vaktpost`;
  }, [live.conn, live.snap?.route, live.version]);
  const nav: Array<{ href: string; key: MsgKey; on: boolean; show: boolean; id: string }> = [
    { href: '#/operator', key: 'nav.operator', on: view.name === 'operator', show: true, id: 'operator' },
    { href: '#/technician/overview', key: 'nav.technician', on: view.name === 'technician', show: hasRole(user, 'technician'), id: 'technician' },
    { href: '#/accounts', key: 'nav.accounts', on: view.name === 'accounts', show: hasRole(user, 'admin'), id: 'accounts' },
  ];
  return (
    <>
      <a href="#main" class="skip">
        {t('app.skip')}
      </a>
      <header class="top">
        <h1 class="brand">
          <span class="brand-name">Vaktpost</span>
          {live.snap ? <span class="brand-box">{live.snap.box}</span> : null}
        </h1>
        <nav aria-label={t('nav.label')} class="mainnav">
          <ul>
            {nav
              .filter((n) => n.show)
              .map((n) => (
                <li key={n.id}>
                  <a href={n.href} aria-current={n.on ? 'page' : undefined} data-testid={`nav-${n.id}`}>
                    {t(n.key)}
                  </a>
                </li>
              ))}
          </ul>
        </nav>
        <div class="top-right">
          <ConnIndicator live={live} />
          <LangSwitch />
          <span class="who" data-testid="who">
            {t('nav.user', { user: user.username, role: t(`role.${user.role}` as MsgKey) })}
          </span>
          <a href="#/password">{t('nav.password')}</a>
          <button
            type="button"
            class="btn btn-small"
            data-testid="logout"
            onClick={async () => {
              await api('POST', '/api/logout').catch(() => {});
              onLogout();
            }}
          >
            {t('nav.logout')}
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <ConnBanner live={live} />
        {view.name === 'operator' ? <OperatorView live={live} conn={conn} /> : null}
        {view.name === 'technician' ? (
          hasRole(user, 'technician') ? (
            <TechnicianView live={live} conn={conn} section={view.section} user={user} />
          ) : (
            <Forbidden />
          )
        ) : null}
        {view.name === 'accounts' ? hasRole(user, 'admin') ? <AccountsView me={user} /> : <Forbidden /> : null}
        {view.name === 'password' ? <PasswordView onChanged={onPasswordChanged} /> : null}
      </main>
    </>
  );
}

type Auth = { state: 'loading' } | { state: 'out'; notice: string | null } | { state: 'in'; user: User };

export function App() {
  const [auth, setAuth] = useState<Auth>({ state: 'loading' });
  useLang();
  const onLogout = useMemo(() => () => setAuth({ state: 'out', notice: null }), []);
  useEffect(() => {
    setUnauthorizedHandler(() => setAuth((a) => (a.state === 'in' ? { state: 'out', notice: t('login.expired') } : a)));
    fetch('/api/me', { credentials: 'same-origin' })
      .then(async (r) => (r.ok ? setAuth({ state: 'in', user: ((await r.json()) as { user: User }).user }) : setAuth({ state: 'out', notice: null })))
      .catch(() => setAuth({ state: 'out', notice: t('err.network') }));
  }, []);
  if (auth.state === 'loading') return <p class="boot">Vaktpost …</p>;
  if (auth.state === 'out') {
    return (
      <>
        <header class="top">
          <div class="brand">
            <span class="brand-name">Vaktpost</span>
          </div>
          <div class="top-right">
            <LangSwitch />
          </div>
        </header>
        <LoginView notice={auth.notice} onLogin={(user) => setAuth({ state: 'in', user })} />
      </>
    );
  }
  return (
    <LoggedIn
      user={auth.user}
      onLogout={onLogout}
      onPasswordChanged={() => {
        location.hash = '#/operator';
        setAuth({ state: 'out', notice: t('pw.done') });
      }}
    />
  );
}
