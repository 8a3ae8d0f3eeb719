/**
 * Accounts and sessions. No default password: on first start an admin account
 * is created with a random password that is shown once (or taken from
 * VAKTPOST_ADMIN_PASSWORD for unattended installs). Passwords are hashed with
 * scrypt (memory-hard, in Node's crypto: no native dependency to build).
 *
 * A session lives only as long as its right: a password change (API or CLI), a
 * role change or disabling ends every session of that user in the same
 * transaction, and tells the listeners (`onSessionsEnded`) so sockets opened
 * with those sessions are closed at once (api/upgrades.ts re-checks them).
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Db } from '../store/db.js';
import type { Role } from './roles.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, opts: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export { hasRole, ROLES, type Role } from './roles.js';

export interface User {
  id: number;
  username: string;
  role: Role;
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, 32, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = stored.split('$');
  if (alg !== 'scrypt' || !n || !r || !p || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const got = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function passwordProblem(pw: string): string | null {
  if (pw.length < 12) return 'password must be at least 12 characters (passordet må ha minst 12 tegn)';
  return null;
}

export class Accounts {
  /** Per-boot token for the local CLI (file readable by root only). */
  private cliToken: string | null = null;
  private readonly sessionsEndedListeners = new Set<() => void>();

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {}

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  async createUser(username: string, password: string, role: Role): Promise<User> {
    if (!/^[a-zA-Z0-9._-]{2,64}$/.test(username)) throw new Error('username must be 2–64 letters, digits, dot, dash or underscore');
    const problem = passwordProblem(password);
    if (problem) throw new Error(problem);
    const hash = await hashPassword(password);
    const info = this.db.prepare('INSERT INTO users (username, role, password_hash, created_at) VALUES (?, ?, ?, ?)').run(username, role, hash, this.now());
    return { id: Number(info.lastInsertRowid), username, role };
  }

  /**
   * Sets a password and ends every session of that user in the same transaction:
   * whoever held the old password (or a session made with it) is out. Returns the
   * number of sessions ended.
   */
  async setPassword(username: string, password: string): Promise<number> {
    const problem = passwordProblem(password);
    if (problem) throw new Error(problem);
    const hash = await hashPassword(password);
    const ended = this.db.transaction(() => {
      const info = this.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(hash, username);
      if (info.changes === 0) throw new Error(`no user named "${username}"`);
      return this.deleteSessionsOf(username);
    })();
    this.sessionsEnded();
    return ended;
  }

  /** Ends every session of a user (role change, disabling); returns how many. */
  endSessionsOf(username: string): number {
    const ended = this.deleteSessionsOf(username);
    this.sessionsEnded();
    return ended;
  }

  /** Called after sessions ended, so whoever holds sockets on them can re-check (returns an unsubscribe). */
  onSessionsEnded(listener: () => void): () => void {
    this.sessionsEndedListeners.add(listener);
    return () => this.sessionsEndedListeners.delete(listener);
  }

  private deleteSessionsOf(username: string): number {
    return this.db.prepare('DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?)').run(username).changes;
  }

  private sessionsEnded(): void {
    for (const f of this.sessionsEndedListeners) f();
  }

  /**
   * First start: create `admin` with a random password (or the one from the
   * environment) and return it so it can be shown once.
   */
  async ensureAdmin(fromEnv: string | undefined): Promise<{ username: string; password: string; generated: boolean } | null> {
    if (this.count() > 0) return null;
    const password = fromEnv ?? randomBytes(12).toString('base64url');
    await this.createUser('admin', password, 'admin');
    return { username: 'admin', password, generated: fromEnv === undefined };
  }

  /** Checks a password (one scrypt, whether or not the user exists). Callers throttle first (LoginThrottle). */
  async login(username: string, password: string): Promise<User | null> {
    const row = this.db.prepare('SELECT id, username, role, password_hash, disabled FROM users WHERE username = ?').get(username) as
      | { id: number; username: string; role: Role; password_hash: string; disabled: number }
      | undefined;
    // Same work whether or not the user exists, so timing does not reveal usernames.
    const ok = await verifyPassword(password, row?.password_hash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    if (!row || !ok || row.disabled) return null;
    return { id: row.id, username: row.username, role: row.role };
  }

  /**
   * Remembers that `user` logged in successfully from `address`, so a lockout of
   * the account by strangers does not keep them out from there (LoginThrottle).
   * The 20 most recent addresses per user are kept.
   */
  rememberLoginAddress(user: User, address: string): void {
    if (user.id === 0) return;
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO login_addresses (user_id, address, last_at) VALUES (?, ?, ?) ON CONFLICT (user_id, address) DO UPDATE SET last_at = excluded.last_at',
        )
        .run(user.id, address, this.now());
      this.db
        .prepare(
          'DELETE FROM login_addresses WHERE user_id = ? AND address NOT IN (SELECT address FROM login_addresses WHERE user_id = ? ORDER BY last_at DESC LIMIT 20)',
        )
        .run(user.id, user.id);
    })();
  }

  /** Whether `username` has logged in successfully from `address` before. */
  isKnownAddress(username: string, address: string): boolean {
    return (
      this.db.prepare('SELECT 1 FROM login_addresses a JOIN users u ON u.id = a.user_id WHERE u.username = ? AND a.address = ?').get(username, address) !==
      undefined
    );
  }

  createSession(user: User, hours: number): string {
    const token = randomBytes(32).toString('base64url');
    const now = this.now();
    this.db
      .prepare('INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(sha256(token), user.id, now, now + hours * 3600_000);
    return token;
  }

  endSession(token: string): void {
    const ended = this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(sha256(token)).changes;
    if (ended > 0) this.sessionsEnded();
  }

  resolve(token: string): User | null {
    if (this.cliToken && token.length === this.cliToken.length && timingSafeEqual(Buffer.from(token), Buffer.from(this.cliToken))) {
      return { id: 0, username: 'cli', role: 'admin' };
    }
    const row = this.db
      .prepare(
        'SELECT u.id, u.username, u.role FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ? AND u.disabled = 0',
      )
      .get(sha256(token), this.now()) as User | undefined;
    return row ?? null;
  }

  /** Writes a fresh CLI token, mode 0600, so only root (the box admin) can use the CLI. */
  writeCliToken(file: string): void {
    this.cliToken = randomBytes(32).toString('base64url');
    writeFileSync(file, `${this.cliToken}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
}

/** Password checks a burst may make before the throttle answers 429. */
export const LOGIN_FREE_ATTEMPTS = 5;
const LOGIN_MAX_WAIT_MS = 300_000;
/** An address or account with no attempt for this long starts afresh (and its entry is dropped). */
const LOGIN_FORGET_MS = 3600_000;

/** One password check about to be made. */
export interface LoginAttempt {
  address: string;
  username: string;
  /**
   * The claimant has shown a right to this account already: they logged in as it
   * from this address before, or hold a live session of it. Such an attempt is
   * not held back by the account's lockout (only by its own address's).
   */
  trusted: boolean;
}

/**
 * Slows down guessing, counting every attempt BEFORE its password is hashed, so
 * a burst of parallel guesses gets exactly `LOGIN_FREE_ATTEMPTS` checks and the
 * rest are refused without one. Two counters, each attempt counts on both:
 * - per address: after 5 attempts without a success, each further attempt from
 *   that address must wait 2^(n-5) s (capped at 5 min);
 * - per account: the same, against guessing from many addresses; but a trusted
 *   attempt (see LoginAttempt) is not held back by it, so a stranger's failures
 *   cannot lock a user out of the places they already log in from.
 * A success clears both counters.
 */
export class LoginThrottle {
  private readonly attempts = new Map<string, { n: number; until: number; last: number }>();
  constructor(private readonly now: () => number) {}

  /**
   * Counts the attempt and returns 0 when its password may be checked, or the
   * milliseconds to wait (the attempt is then not counted and not checked).
   */
  begin(a: LoginAttempt): number {
    const t = this.now();
    const ip = `ip:${a.address}`;
    const user = `user:${a.username}`;
    const wait = Math.max(0, ...(a.trusted ? [ip] : [ip, user]).map((k) => (this.current(k, t)?.until ?? 0) - t));
    if (wait > 0) return wait;
    for (const k of [ip, user]) {
      const e = this.current(k, t) ?? { n: 0, until: 0, last: t };
      e.n++;
      e.last = t;
      if (e.n >= LOGIN_FREE_ATTEMPTS) e.until = t + Math.min(LOGIN_MAX_WAIT_MS, 1000 * 2 ** (e.n - LOGIN_FREE_ATTEMPTS));
      this.attempts.set(k, e);
    }
    if (this.attempts.size > 10_000) this.sweep(t);
    return 0;
  }

  /** The password was right: both counters start afresh. */
  succeeded(a: Pick<LoginAttempt, 'address' | 'username'>): void {
    this.attempts.delete(`ip:${a.address}`);
    this.attempts.delete(`user:${a.username}`);
  }

  private current(k: string, t: number) {
    const e = this.attempts.get(k);
    return e && t - e.last < LOGIN_FORGET_MS ? e : undefined;
  }

  /** Bounded memory: an attacker inventing names or addresses must not grow the map forever. */
  private sweep(t: number): void {
    for (const [k, e] of this.attempts) if (t - e.last >= LOGIN_FORGET_MS && e.until <= t) this.attempts.delete(k);
  }
}
