/**
 * Starts the real supervisor as a separate process (`vaktpost run`) on the
 * simulated box, with its own data dir and port, and talks to it over HTTP and
 * the live WebSocket like the UI does.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WebSocket } from 'ws';
import { freePort, waitFor } from './util.js';

export interface SupervisorProc {
  url: string;
  dataDir: string;
  configFile: string;
  child: ChildProcess;
  output: () => string;
  token: () => string;
  api: <T = unknown>(method: string, p: string, body?: unknown) => Promise<{ status: number; json: T }>;
  kill: (signal?: NodeJS.Signals) => Promise<void>;
}

export async function writeSimConfig(
  dir: string,
  extra = '',
  timing: { failbackHoldS?: number; holdDownS?: number; tickMs?: number; reportMs?: number } = {},
): Promise<{ file: string; port: number }> {
  const { failbackHoldS = 600, holdDownS = 5, tickMs = 100, reportMs = 200 } = timing;
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    `box:\n  name: test-box\n  dataDir: ${path.join(dir, 'data')}\n  hardware: simulated\napi:\n  listen: 127.0.0.1\n  port: ${port}\n` +
      `policy:\n  failbackHoldS: ${failbackHoldS}\n  holdDownS: ${holdDownS}\n  tickMs: ${tickMs}\nsim:\n  reportMs: ${reportMs}\n${extra}`,
  );
  return { file, port };
}

export async function startSupervisor(configFile: string, port: number, env: NodeJS.ProcessEnv = {}): Promise<SupervisorProc> {
  const dataDir = path.join(path.dirname(configFile), 'data');
  const child = spawn(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'run', '-c', configFile], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  let state: 'up' | 'exited';
  try {
    state = await waitFor(
      () => (child.exitCode !== null || child.signalCode !== null ? 'exited' : out.includes('Vaktpost is running') ? 'up' : null),
      // Startup runs tsx's compile of the whole supervisor: on a busy 2-core machine that alone
      // can take tens of seconds. 60 s = "it never came up", not "it was slow".
      { timeoutMs: 60_000, what: 'supervisor to listen' },
    );
  } catch (err) {
    // Never leave a half-started supervisor behind (it would hold its port and CPU).
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}; its output: ${out.slice(-2000)}`);
  }
  if (state === 'exited') throw new Error(`supervisor exited ${child.exitCode ?? child.signalCode}: ${out}`);
  const token = () => readFileSync(path.join(dataDir, 'cli.token'), 'utf8').trim();
  return {
    url,
    dataDir,
    configFile,
    child,
    output: () => out,
    token,
    async api<T>(method: string, p: string, body?: unknown) {
      const res = await fetch(url + p, {
        method,
        headers: { authorization: `Bearer ${token()}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, json: (await res.json()) as T };
    },
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface LiveClient {
  messages: Array<{ type: string; [k: string]: unknown }>;
  next: (pred: (m: { type: string; [k: string]: unknown }) => boolean, timeoutMs: number) => Promise<{ type: string; [k: string]: unknown }>;
  close: () => void;
}

/** Connects to /api/live and buffers every message; `next` awaits a matching one. */
export async function liveClient(url: string, token: string): Promise<LiveClient> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/live`, { headers: { authorization: `Bearer ${token}` } });
  const messages: LiveClient['messages'] = [];
  const waiters: Array<{ pred: (m: LiveClient['messages'][number]) => boolean; resolve: (m: LiveClient['messages'][number]) => void }> = [];
  ws.on('message', (data) => {
    const m = JSON.parse(String(data)) as LiveClient['messages'][number];
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    messages,
    next(pred, timeoutMs) {
      const seen = messages.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no matching live message within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          pred,
          resolve: (m) => {
            clearTimeout(t);
            resolve(m);
          },
        });
      });
    },
    close: () => ws.close(),
  };
}
