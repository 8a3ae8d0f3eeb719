/**
 * Accounts and sessions. No default password: on first start an admin account
 * is created with a random password that is shown once (or taken from
 * VAKTPOST_ADMIN_PASSWORD for unattended installs). Passwords are hashed with
 * scrypt (memory-hard, in Node's crypto: no native dependency to build).
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

  async setPassword(username: string, password: string): Promise<void> {
    const problem = passwordProblem(password);
    if (problem) throw new Error(problem);
    const info = this.db.prepare('UPDATE users SET password_hash = ? WHERE username = ?').run(await hashPassword(password), username);
    if (info.changes === 0) throw new Error(`no user named "${username}"`);
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

  async login(username: string, password: string): Promise<User | null> {
    const row = this.db.prepare('SELECT id, username, role, password_hash, disabled FROM users WHERE username = ?').get(username) as
      | { id: number; username: string; role: Role; password_hash: string; disabled: number }
      | undefined;
    // Same work whether or not the user exists, so timing does not reveal usernames.
    const ok = await verifyPassword(password, row?.password_hash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    if (!row || !ok || row.disabled) return null;
    return { id: row.id, username: row.username, role: row.role };
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
    this.db.prepare('DELETE FROM sessions WHERE token_hash = ?').run(sha256(token));
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

/**
 * Slows down guessing: after 5 failures for a user or an address, each further
 * attempt must wait 2^(n-5) s (capped at 5 min).
 */
export class LoginThrottle {
  private readonly fails = new Map<string, { n: number; until: number }>();
  constructor(private readonly now: () => number) {}

  retryAfterMs(keys: string[]): number {
    const t = this.now();
    return Math.max(0, ...keys.map((k) => (this.fails.get(k)?.until ?? 0) - t));
  }

  failed(keys: string[]): void {
    for (const k of keys) {
      const f = this.fails.get(k) ?? { n: 0, until: 0 };
      f.n++;
      if (f.n >= 5) f.until = this.now() + Math.min(300_000, 1000 * 2 ** (f.n - 5));
      this.fails.set(k, f);
    }
  }

  succeeded(keys: string[]): void {
    for (const k of keys) this.fails.delete(k);
  }
}
