/**
 * Serves the built web UI (supervisor/web → dist/web) from the supervisor itself:
 * no CDN, no separate web server, works on an isolated LAN. The file list is read
 * once at start, so only files that the build produced can ever be served (no path
 * from the URL reaches the file system). The shell carries no data: everything
 * comes from the authenticated API, so the shell and its assets are public.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { appCsp, cspHash } from './securityHeaders.js';
import { statusPage } from './statusPage.js';

/** The text inside each inline <tag>…</tag> of a page of ours (for its CSP hashes). */
function inlineBlocks(html: string, tag: 'script' | 'style'): string[] {
  return [...html.matchAll(new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => m[1] ?? '');
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Paths of the UI shell (the client switches views itself; these only load the app). */
export const UI_PATHS = ['/', '/login'] as const;

/** Where the build output is, from the source tree (tsx) or from dist/ (compiled). */
export function findWebDir(): string | null {
  const here = import.meta.dirname;
  const candidates = [
    process.env.VAKTPOST_WEB_DIR,
    path.resolve(here, '../../../web'), // dist/supervisor/src/api → dist/web
    path.resolve(here, '../../../dist/web'), // supervisor/src/api → dist/web
  ];
  for (const c of candidates) if (c && existsSync(path.join(c, 'index.html'))) return c;
  return null;
}

export interface UiInfo {
  /** The directory served, or null when the UI is not built (a minimal page is served instead). */
  dir: string | null;
  files: number;
}

export function registerUi(app: FastifyInstance, opts: { webDir?: string | null } = {}): UiInfo {
  const dir = opts.webDir === undefined ? findWebDir() : opts.webDir;
  if (!dir) {
    // Not built (e.g. a bare `tsc` build): keep the box usable with the minimal page.
    // Its inline script and style are allowed by hash; every other header comes from securityHeaders.ts.
    const page = statusPage();
    const csp = appCsp({ script: inlineBlocks(page, 'script').map(cspHash), style: inlineBlocks(page, 'style').map(cspHash) });
    for (const p of UI_PATHS) app.get(p, async (_req, reply) => reply.header('content-security-policy', csp).type('text/html; charset=utf-8').send(page));
    return { dir: null, files: 0 };
  }
  const index = readFileSync(path.join(dir, 'index.html'));
  for (const p of UI_PATHS) {
    app.get(p, async (_req, reply) =>
      // The strict CSP, frame and sniffing headers come from securityHeaders.ts (every response).
      reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(index),
    );
  }
  const assetsDir = path.join(dir, 'assets');
  const assets = new Map<string, { body: Buffer; type: string }>();
  if (existsSync(assetsDir)) {
    for (const name of readdirSync(assetsDir)) {
      const type = TYPES[path.extname(name)];
      if (type) assets.set(name, { body: readFileSync(path.join(assetsDir, name)), type });
    }
  }
  app.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const a = assets.get(req.params.file);
    if (!a) return reply.code(404).send({ error: 'no such asset (finnes ikke) — is the UI build current? run `make build`' });
    // File names carry a content hash, so they can be cached for good.
    return reply.header('cache-control', 'public, max-age=31536000, immutable').type(a.type).send(a.body);
  });
  return { dir, files: assets.size + 1 };
}
