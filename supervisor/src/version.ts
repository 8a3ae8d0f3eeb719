/**
 * Vaktpost's version: package.json's `version`, read once. Shown by `vaktpost --version`,
 * GET /api/version and the `vaktpost_build_info` metric, so a report or a scrape says which
 * build answered.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

function readVersion(): string {
  // supervisor/src/version.ts from source, dist/supervisor/src/version.js when built: walk up.
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'vaktpost' && typeof pkg.version === 'string') return pkg.version;
    }
    dir = path.dirname(dir);
  }
  return 'unknown';
}

export const VERSION: string = readVersion();
