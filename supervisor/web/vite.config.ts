/**
 * Builds the web UI into dist/web, where the supervisor serves it (supervisor/src/api/ui.ts).
 * Vite 8 (Rolldown + Oxc) with Preact through the automatic JSX runtime: no Babel, a
 * small bundle, and nothing fetched at run time (the box may have no internet).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // No data: URLs: every asset is a hashed file under /assets (strict CSP, long caching).
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  // `npx vite --config supervisor/web/vite.config.ts` during development, with `make run` on :8080.
  server: { proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } } },
});
