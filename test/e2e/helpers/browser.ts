/**
 * Debian's Chromium driven headless by playwright-core, each test with a fresh
 * profile directory, plus the built UI (rebuilt here when its sources are newer, under
 * a lock so parallel test files do not build at once).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { scratchDir, waitFor } from '../../helpers/util.js';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
export const CHROMIUM = process.env.VAKTPOST_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function newestMtime(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(p).map((n) => newestMtime(path.join(p, n))));
}

/** Makes sure dist/web holds a UI built from the current sources; returns its directory. */
export async function ensureUiBuilt(): Promise<string> {
  const out = path.join(ROOT, 'dist/web');
  const index = path.join(out, 'index.html');
  const web = path.join(ROOT, 'supervisor/web');
  const fresh = () => existsSync(index) && statSync(index).mtimeMs >= Math.max(newestMtime(path.join(web, 'src')), newestMtime(path.join(web, 'index.html')));
  if (fresh()) return out;
  const lock = path.join(ROOT, 'dist/.web-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  await waitFor(
    () => {
      if (fresh() && !existsSync(lock)) return true; // (a build in progress may have written index.html first)
      try {
        mkdirSync(lock);
      } catch {
        // another test file is building; a lock older than 3 min is left over from a crash
        if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
        return false;
      }
      try {
        execFileSync('npx', ['vite', 'build', '--config', 'supervisor/web/vite.config.ts', '--logLevel', 'warn'], {
          cwd: ROOT,
          stdio: 'pipe',
          timeout: 170_000,
        });
      } catch (err) {
        throw new Error(
          `building the web UI failed — run \`bash supervisor/web/build.sh\` to see why: ${(err as { stderr?: Buffer }).stderr?.toString() ?? err}`,
        );
      } finally {
        rmSync(lock, { recursive: true, force: true });
      }
      return true;
    },
    { timeoutMs: 180_000, intervalMs: 250, what: 'the web UI build (dist/web)' },
  );
  return out;
}

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Console errors and page errors seen (apart from expected failed requests). */
  errors: string[];
  close: () => Promise<void>;
}

/** A fresh Chromium profile; `bypassCSP` only where a test must inject a script (axe-core). */
export async function openBrowser(opts: { lang?: string; bypassCSP?: boolean; ignoreHTTPSErrors?: boolean } = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found — install Debian's chromium (apt-get install chromium; see ops/install/debian-deps.sh)`);
  const { dir, cleanup } = await scratchDir('chromium');
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    locale: opts.lang ?? 'en-GB',
    viewport: { width: 1280, height: 900 },
    bypassCSP: opts.bypassCSP ?? false,
    ignoreHTTPSErrors: opts.ignoreHTTPSErrors ?? false,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Failed requests (401 before login, the lost server) are expected; script errors are not.
    if (m.type() === 'error' && !/Failed to load resource|WebSocket connection/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  return {
    context,
    page,
    errors,
    async close() {
      await context.close().catch(() => {});
      await cleanup();
    },
  };
}

/** Logs in through the login form. */
export async function login(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.getByTestId('login-form').waitFor({ timeout: 30_000 });
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('[data-testid=login-form] button[type=submit]');
  await page.getByTestId('who').waitFor({ timeout: 30_000 });
}

/** Runs axe-core in the page; returns the serious and critical violations. */
export async function axeViolations(page: Page): Promise<Array<{ id: string; impact: string; help: string; nodes: string[] }>> {
  const src = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: src });
  // A string, evaluated in the page: this file is compiled without the DOM library.
  const res = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')) })))`,
  )) as Array<{ id: string; impact: string; help: string; nodes: string[] }>;
  return res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}
