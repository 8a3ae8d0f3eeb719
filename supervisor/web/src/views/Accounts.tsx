/** User management for admins: create users, change role, disable, set a password. */
import { useEffect, useState } from 'preact/hooks';
import { api, errText } from '../api.js';
import { fmtWhen } from '../format.js';
import { type MsgKey, t } from '../i18n.js';
import { ROLES } from '../roles.js';
import type { Role, User, UserRow } from '../wire.js';

const roleName = (r: Role) => t(`role.${r}` as MsgKey);

function UserRowView({ u, me, onChange, onMsg }: { u: UserRow; me: User; onChange: () => void; onMsg: (ok: boolean, text: string) => void }) {
  const [pw, setPw] = useState('');
  const patch = async (body: { role?: Role; disabled?: boolean }) => {
    try {
      await api('PATCH', `/api/users/${encodeURIComponent(u.username)}`, body);
      onMsg(true, t('acc.saved'));
    } catch (e) {
      onMsg(false, errText(e));
    }
    onChange();
  };
  return (
    <tr data-user={u.username}>
      <th scope="row">{u.username}</th>
      <td>
        <label>
          <span class="sr-only">
            {t('acc.setRole')} {u.username}
          </span>
          <select value={u.role} disabled={u.username === me.username} onChange={(e) => patch({ role: (e.target as HTMLSelectElement).value as Role })}>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {roleName(r)}
              </option>
            ))}
          </select>
        </label>
      </td>
      <td>
        {u.disabled ? t('acc.disabled') : t('acc.enabled')}{' '}
        {u.username !== me.username ? (
          <button type="button" class="btn btn-small" onClick={() => patch({ disabled: !u.disabled })}>
            {u.disabled ? t('acc.enable') : t('acc.disable')}
          </button>
        ) : null}
      </td>
      <td>{fmtWhen(u.createdAt)}</td>
      <td>
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await api('POST', `/api/users/${encodeURIComponent(u.username)}/password`, { password: pw });
              setPw('');
              onMsg(true, t('acc.saved'));
            } catch (x) {
              onMsg(false, errText(x));
            }
          }}
        >
          <label>
            <span class="sr-only">
              {t('acc.setPassword')} {u.username}
            </span>
            <input type="password" autocomplete="new-password" minLength={12} value={pw} onInput={(e) => setPw((e.target as HTMLInputElement).value)} />
          </label>{' '}
          <button type="submit" class="btn btn-small" disabled={pw.length < 12}>
            {t('acc.setPassword')}
          </button>
        </form>
      </td>
    </tr>
  );
}

export function AccountsView({ me }: { me: User }) {
  const [users, setUsers] = useState<UserRow[]>([]);
  const [reload, setReload] = useState(0);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [nu, setNu] = useState({ username: '', password: '', role: 'operator' as Role });
  useEffect(() => {
    api<{ users: UserRow[] }>('GET', '/api/users')
      .then((r) => setUsers(r.users))
      .catch((e) => setMsg({ ok: false, text: errText(e) }));
  }, [reload]);
  const onMsg = (ok: boolean, text: string) => setMsg({ ok, text });
  return (
    <div class="accounts" data-testid="accounts-view">
      <h2>{t('acc.heading')}</h2>
      {msg ? (
        <p class={msg.ok ? 'form-ok' : 'form-error'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      ) : null}
      <section class="card" aria-labelledby="users-h">
        <h3 id="users-h">{t('acc.users')}</h3>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('acc.username')}</th>
                <th scope="col">{t('acc.role')}</th>
                <th scope="col">{t('acc.state')}</th>
                <th scope="col">{t('acc.created')}</th>
                <th scope="col">{t('acc.setPassword')}</th>
              </tr>
            </thead>
            <tbody>
              {users.map((u) => (
                <UserRowView key={u.username} u={u} me={me} onChange={() => setReload(reload + 1)} onMsg={onMsg} />
              ))}
            </tbody>
          </table>
        </div>
      </section>
      <section class="card" aria-labelledby="new-h">
        <h3 id="new-h">{t('acc.newUser')}</h3>
        <form
          class="stack"
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await api('POST', '/api/users', nu);
              setMsg({ ok: true, text: t('acc.created.ok', { user: nu.username }) });
              setNu({ username: '', password: '', role: 'operator' });
              setReload(reload + 1);
            } catch (x) {
              setMsg({ ok: false, text: errText(x) });
            }
          }}
        >
          <label>
            {t('acc.username')}{' '}
            <input
              name="username"
              autocomplete="off"
              required
              pattern="[a-zA-Z0-9._\-]{2,64}"
              value={nu.username}
              onInput={(e) => setNu({ ...nu, username: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            {t('acc.password')}{' '}
            <input
              name="password"
              type="password"
              autocomplete="new-password"
              required
              minLength={12}
              value={nu.password}
              onInput={(e) => setNu({ ...nu, password: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            {t('acc.role')}{' '}
            <select name="role" value={nu.role} onChange={(e) => setNu({ ...nu, role: (e.target as HTMLSelectElement).value as Role })}>
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {roleName(r)}
                </option>
              ))}
            </select>
          </label>
          <div>
            <button type="submit" class="btn btn-primary">
              {t('acc.create')}
            </button>
          </div>
        </form>
      </section>
    </div>
  );
}
