/**
 * The vaktpost node package is TypeScript compiled to CommonJS (flows/dist). Tests and
 * the bench build it once if it is missing or older than its sources; a lock directory
 * keeps parallel test files from compiling into the same folder at once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../../..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function stale(): boolean {
  const out = path.join(repoRoot, 'flows/dist/flows/src/nodes/index.js');
  if (!existsSync(out)) return true;
  const built = statSync(out).mtimeMs;
  const sources = Math.max(
    newestMtime(path.join(repoRoot, 'flows/src')),
    statSync(path.join(repoRoot, 'supervisor/src/flows/protocol.ts')).mtimeMs,
    statSync(path.join(repoRoot, 'flows/tsconfig.json')).mtimeMs,
  );
  return built < sources;
}

export async function ensureFlowsBuilt(): Promise<void> {
  if (!stale()) return;
  const lock = path.join(repoRoot, 'flows/.build-lock');
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`flows build lock ${lock} held for 60 s — remove it if no build is running`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (!stale()) return;
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'flows/tsconfig.json'], { cwd: repoRoot, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building the vaktpost nodes failed (npx tsc -p flows/tsconfig.json):\n${r.stdout}${r.stderr}`);
  } finally {
    rmdirSync(lock);
  }
}
