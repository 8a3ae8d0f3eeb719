/**
 * Starts the supervisor with evidence wired (runner.ts) as a separate process on
 * the simulated box, with its own data dir and ports; talks to the evidence API
 * as a logged-in person (technician / operator) the way the UI would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { EvidenceConfigInput } from '../../../supervisor/src/config/evidence.js';
import { configSchema } from '../../../supervisor/src/config/schema.js';
import { freePort, waitFor } from '../../helpers/util.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
export const ADMIN_PASSWORD = 'evidence-admin-pw-1';
export const USER_PASSWORD = 'evidence-user-pw-12';

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export interface EvidenceSetup {
  dir: string;
  /** Extra top-level YAML (e.g. a `calls:` section). */
  extraYaml?: string;
  evidence: EvidenceConfigInput;
}

export interface Reply<T> {
  status: number;
  json: T;
  text: string;
  headers: Headers;
}

export interface EvidenceProc {
  appUrl: string;
  url: string;
  output(): string;
  /** As the built-in admin of the app's own API (its CLI token). */
  admin<T = unknown>(method: string, p: string, body?: unknown): Promise<Reply<T>>;
  /** As `token` against the evidence API. */
  as<T = unknown>(token: string, method: string, p: string, body?: unknown): Promise<Reply<T>>;
  /** Creates a user through the app's API and logs in on the evidence API; returns the session token. */
  login(username: string, role: 'operator' | 'technician' | 'admin'): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface EvidenceFiles {
  file: string;
  evFile: string;
  appPort: number;
  evPort: number;
}

export async function writeEvidenceConfig(s: EvidenceSetup): Promise<EvidenceFiles> {
  const appPort = await freePort();
  let evPort = await freePort();
  while (evPort === appPort) evPort = await freePort();
  const file = path.join(s.dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    [
      'box:',
      '  name: evidence-test',
      `  dataDir: ${path.join(s.dir, 'data')}`,
      '  hardware: simulated',
      'api:',
      '  listen: 127.0.0.1',
      `  port: ${appPort}`,
      'policy:',
      '  failbackHoldS: 600',
      '  holdDownS: 1',
      '  tickMs: 100',
      'sim:',
      '  reportMs: 200',
      s.extraYaml ?? '',
      // When the main config knows `evidence:` (wired into app.ts), the settings go there.
      'evidence' in configSchema.shape ? `evidence: ${JSON.stringify(s.evidence)}` : '',
      '',
    ].join('\n'),
  );
  const evFile = path.join(s.dir, 'evidence.json');
  writeFileSync(evFile, JSON.stringify(s.evidence, null, 2));
  return { file, evFile, appPort, evPort };
}

async function call<T>(url: string, token: string, method: string, body?: unknown): Promise<Reply<T>> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    // CSV / HTML
  }
  return { status: res.status, json: json as T, text, headers: res.headers };
}

/** Starts (or restarts, with the same files) the supervisor-with-evidence process. */
export async function startEvidenceProcess(t: TeardownHost, f: EvidenceFiles): Promise<EvidenceProc> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'test/integration/evidence/runner.ts', f.file, f.evFile, String(f.evPort)], {
    cwd: ROOT,
    env: { ...process.env, VAKTPOST_ADMIN_PASSWORD: ADMIN_PASSWORD, VAKTPOST_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: false,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  t.teardown(() => kill('SIGKILL'));
  const evPort = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the evidence runner exited ${child.exitCode}: ${out}`);
      return /EVIDENCE READY (\d+)/.exec(out)?.[1];
    },
    { timeoutMs: 60_000, intervalMs: 50, what: 'the supervisor with evidence to listen' },
  );
  const appUrl = `http://127.0.0.1:${f.appPort}`;
  const url = `http://127.0.0.1:${evPort}`;
  const adminToken = async () => {
    const r = await call<{ token: string }>(`${appUrl}/api/login`, '', 'POST', { username: 'admin', password: ADMIN_PASSWORD });
    if (r.status !== 200) throw new Error(`admin login failed: ${r.status} ${r.text}`);
    return r.json.token;
  };
  let admin: string | null = null;
  const proc: EvidenceProc = {
    appUrl,
    url,
    output: () => out,
    async admin(method, p, body) {
      admin ??= await adminToken();
      return call(appUrl + p, admin, method, body);
    },
    as: (token, method, p, body) => call(url + p, token, method, body),
    async login(username, role) {
      const created = await proc.admin('POST', '/api/users', { username, password: USER_PASSWORD, role });
      if (created.status !== 201 && created.status !== 409) throw new Error(`creating ${username}: ${created.status} ${created.text}`);
      const r = await call<{ token: string }>(`${url}/api/login`, '', 'POST', { username, password: USER_PASSWORD });
      if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
      return r.json.token;
    },
    kill,
  };
  return proc;
}

export { parseCsv } from '../../helpers/csv.js';
