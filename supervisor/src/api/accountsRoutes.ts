/**
 * User management for admins (create, change role, disable, set password) and a
 * password change for everyone. Every change is an audited event with the actor,
 * and a changed password, role or disabled flag ends ALL the user's sessions at
 * once — the one that made the change too (the browser logs in again) — and
 * closes their open WebSockets (Accounts tells the upgrade router).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import type { Supervisor } from '../supervisor.js';
import { type Accounts, type LoginThrottle, ROLES } from './auth.js';
import { badRequest, requireRole } from './guards.js';

export interface AccountRouteDeps {
  supervisor: Supervisor;
  store: Store;
  accounts: Accounts;
  /** The login throttle: proving the current password is a password check like a login. */
  throttle: LoginThrottle;
}

const username = z.string().regex(/^[a-zA-Z0-9._-]{2,64}$/, '2–64 letters, digits, dot, dash or underscore (2–64 tegn)');
const password = z.string().min(12, 'at least 12 characters (minst 12 tegn)').max(256);
const createBody = z.strictObject({ username, password, role: z.enum(ROLES) });
const patchBody = z
  .strictObject({ role: z.enum(ROLES).optional(), disabled: z.boolean().optional() })
  .refine((b) => b.role !== undefined || b.disabled !== undefined, 'nothing to change (role or disabled)');
const nameParams = z.strictObject({ username });
const setPasswordBody = z.strictObject({ password });
const ownPasswordBody = z.strictObject({ current: z.string().min(1).max(256), password });

export function registerAccountRoutes(app: FastifyInstance, d: AccountRouteDeps): void {
  const audit = (actor: string, kind: string, en: string, nb: string, data?: unknown) =>
    d.supervisor.event({ kind, severity: 'info', subsystem: null, actor, en, nb, data });

  app.get('/api/users', { preHandler: requireRole('admin') }, async () => ({ users: d.store.users() }));

  app.post('/api/users', { preHandler: requireRole('admin') }, async (req, reply) => {
    const b = createBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    if (d.store.users().some((u) => u.username === b.data.username)) {
      return reply.code(409).send({ error: `user ${b.data.username} already exists (finnes allerede)` });
    }
    try {
      const user = await d.accounts.createUser(b.data.username, b.data.password, b.data.role);
      const by = req.user?.username ?? '?';
      audit(by, 'account.created', `User ${user.username} (${user.role}) created by ${by}`, `Bruker ${user.username} (${user.role}) opprettet av ${by}`, {
        username: user.username,
        role: user.role,
      });
      return reply.code(201).send({ user });
    } catch (err) {
      return reply.code(400).send({ error: (err as Error).message });
    }
  });

  app.patch('/api/users/:username', { preHandler: requireRole('admin') }, async (req, reply) => {
    const p = nameParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const b = patchBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    const by = req.user?.username ?? '?';
    const users = d.store.users();
    const target = users.find((u) => u.username === p.data.username);
    if (!target) return reply.code(404).send({ error: `no user named ${p.data.username} (finnes ikke)` });
    // Never leave the box without an enabled admin: nobody could manage accounts then.
    const losesAdmin = target.role === 'admin' && !target.disabled && ((b.data.role && b.data.role !== 'admin') || b.data.disabled === true);
    if (losesAdmin && users.filter((u) => u.role === 'admin' && !u.disabled).length <= 1) {
      return reply.code(409).send({ error: 'the last enabled admin cannot be demoted or disabled (siste administrator kan ikke fjernes)' });
    }
    d.store.updateUser(target.username, b.data);
    // Disabled or given another role: every session and open socket re-earns its right.
    d.accounts.endSessionsOf(target.username);
    audit(
      by,
      'account.changed',
      `User ${target.username} changed by ${by}: ${JSON.stringify(b.data)}`,
      `Bruker ${target.username} endret av ${by}: ${JSON.stringify(b.data)}`,
      { username: target.username, ...b.data },
    );
    return { user: d.store.users().find((u) => u.username === target.username) };
  });

  app.post('/api/users/:username/password', { preHandler: requireRole('admin') }, async (req, reply) => {
    const p = nameParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const b = setPasswordBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    if (!d.store.users().some((u) => u.username === p.data.username)) return reply.code(404).send({ error: `no user named ${p.data.username} (finnes ikke)` });
    // Ends every session of that user too (Accounts.setPassword).
    await d.accounts.setPassword(p.data.username, b.data.password);
    const by = req.user?.username ?? '?';
    audit(by, 'account.passwordSet', `Password of ${p.data.username} set by ${by}`, `Passordet til ${p.data.username} satt av ${by}`, {
      username: p.data.username,
    });
    return { ok: true };
  });

  // Anyone may change their own password, proving they know the current one.
  app.post('/api/me/password', async (req, reply) => {
    const b = ownPasswordBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    const me = req.user;
    if (!me || me.id === 0) return reply.code(400).send({ error: 'the CLI token has no password; use `vaktpost user passwd NAME`' });
    // A stolen session must not become an unthrottled password oracle.
    const attempt = { address: req.ip, username: me.username, trusted: true };
    const wait = d.throttle.begin(attempt);
    if (wait > 0) {
      reply.header('retry-after', Math.ceil(wait / 1000));
      return reply
        .code(429)
        .send({ error: `too many wrong passwords; try again in ${Math.ceil(wait / 1000)} s (for mange feil passord – prøv igjen om litt)` });
    }
    if (!(await d.accounts.login(me.username, b.data.current))) return reply.code(403).send({ error: 'current password is wrong (feil nåværende passord)' });
    d.throttle.succeeded(attempt);
    // Every session ends, this one too: the browser logs in again with the new password.
    await d.accounts.setPassword(me.username, b.data.password);
    audit(me.username, 'account.passwordChanged', `${me.username} changed their password`, `${me.username} endret passordet sitt`);
    return { ok: true, loggedOut: true };
  });
}
