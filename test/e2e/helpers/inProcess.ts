/**
 * The whole app (composition root) started in the test process on the simulated
 * box: same wiring as `vaktpost run`, but the route table can be read directly.
 */
import path from 'node:path';
import { type App, startApp } from '../../../supervisor/src/app.js';
import { parseConfigText } from '../../../supervisor/src/config/load.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import { freePort } from '../../helpers/util.js';

export async function startInProcess(dir: string, adminPassword: string): Promise<{ app: App; url: string; token: string }> {
  const port = await freePort();
  const text = `box:\n  name: e2e-box\n  dataDir: ${path.join(dir, 'data')}\n  hardware: simulated\napi:\n  listen: 127.0.0.1\n  port: ${port}\npolicy:\n  tickMs: 100\nsim:\n  reportMs: 200\n`;
  const r = parseConfigText(text);
  if (!r.ok) throw new Error(`test config rejected: ${JSON.stringify(r.problems)}`);
  const app = await startApp(r.config, { log: silentLogger(), env: { VAKTPOST_ADMIN_PASSWORD: adminPassword } });
  const { readFileSync } = await import('node:fs');
  const token = readFileSync(path.join(dir, 'data', 'cli.token'), 'utf8').trim();
  return { app, url: app.url, token };
}

export interface RouteEntry {
  method: string;
  path: string;
}

/**
 * Reads Fastify's route tree (`printRoutes({ commonPrefix: false })`): one line per
 * node, four characters of tree drawing per level, methods in parentheses.
 */
export function routeTable(tree: string): RouteEntry[] {
  const out: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^([\s│├└─]*)(\S+)(?: \(([A-Z, ]+)\))?\s*$/.exec(line);
    if (!m) continue;
    const depth = Math.round((m[1] ?? '').length / 4) - 1;
    const seg = m[2] ?? '';
    const parent = depth > 0 ? (stack[depth - 1] ?? '') : '';
    const full = parent.endsWith('/') || seg.startsWith('/') || parent === '' ? parent + seg : `${parent}/${seg}`;
    stack[depth] = full;
    stack.length = depth + 1;
    for (const method of (m[3] ?? '').split(',').map((x) => x.trim())) {
      if (method && method !== 'HEAD') out.push({ method, path: full });
    }
  }
  return out;
}
