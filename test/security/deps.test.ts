/**
 * Supply chain (issue #17, item 13). `npm audit` cannot reach an advisory service from
 * the box's network, so the lockfile is reviewed by habit (README "Security") and this
 * check holds the line that matters most: code that runs at `npm ci` time. Only three
 * packages may run an install script — the native builds better-sqlite3 (the store) and
 * epoll (onoff's GPIO), and esbuild (dev: fetches its platform binary for tsx and Vite).
 * A new dependency (or a new version of an old one) that brings an install script — the
 * usual entry of a hijacked package — fails here, in package-lock.json and in the
 * installed node_modules (an implicit `node-gyp rebuild` from a binding.gyp counts too),
 * until someone has looked at it and added it below with a reason.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Package name → why it may run code at install. */
const ALLOWED_INSTALL_SCRIPTS: Record<string, string> = {
  'better-sqlite3': 'native SQLite binding (prebuild-install or node-gyp)',
  epoll: 'native binding for onoff (GPIO edges)',
  esbuild: 'dev only: installs its platform binary (tsx, Vite)',
};

interface LockPackage {
  version?: string;
  hasInstallScript?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
type Lock = { lockfileVersion: number; packages: Record<string, LockPackage> };

/** The package name of a lockfile key such as node_modules/a/node_modules/@s/b. */
const nameOf = (key: string) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** Lockfile entries that run an install script and are not allowed. */
export function unexpectedInLock(lock: Lock): string[] {
  return Object.entries(lock.packages)
    .filter(([key, p]) => key !== '' && p.hasInstallScript && !(nameOf(key) in ALLOWED_INSTALL_SCRIPTS))
    .map(([key, p]) => `${key}@${p.version ?? '?'}`);
}

/** Installed packages (nested ones too) with preinstall/install/postinstall or a binding.gyp. */
function installedWithScripts(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() && !e.isSymbolicLink()) continue;
    const p = path.join(dir, e.name);
    if (e.name.startsWith('@')) {
      installedWithScripts(p, out);
      continue;
    }
    let pkg: { name?: string; scripts?: Record<string, string> };
    try {
      pkg = JSON.parse(readFileSync(path.join(p, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    const s = pkg.scripts ?? {};
    if (s.preinstall || s.install || s.postinstall || existsSync(path.join(p, 'binding.gyp'))) out.push(pkg.name ?? p);
    installedWithScripts(path.join(p, 'node_modules'), out);
  }
  return out;
}

t.test('only the three known packages run code at install time', async (t) => {
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
  t.ok(lock.lockfileVersion >= 2, 'a lockfile that lists every package with its install-script flag');
  t.same(unexpectedInLock(lock), [], 'package-lock.json: no other package has an install script');
  const flagged = Object.keys(lock.packages)
    .filter((k) => lock.packages[k]?.hasInstallScript)
    .map(nameOf)
    .sort();
  t.same(flagged, Object.keys(ALLOWED_INSTALL_SCRIPTS).sort(), 'and the allowed ones are still the ones there (remove a reason when it goes)');

  const installed = [...new Set(installedWithScripts(path.join(ROOT, 'node_modules')))].sort();
  t.same(
    installed.filter((n) => !(n in ALLOWED_INSTALL_SCRIPTS)),
    [],
    `node_modules: no other installed package has an install script or binding.gyp (found: ${installed.join(', ')})`,
  );

  // The check itself: a hijacked dependency that gains a postinstall is caught.
  const tampered: Lock = { ...lock, packages: { ...lock.packages, 'node_modules/pino/node_modules/evil': { version: '1.0.0', hasInstallScript: true } } };
  t.same(unexpectedInLock(tampered), ['node_modules/pino/node_modules/evil@1.0.0'], 'a new install script is reported');
});

t.test('package.json and the lockfile agree, with exact versions locked', async (t) => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as LockPackage;
  const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lock;
  const root = lock.packages[''] ?? {};
  t.same(root.dependencies, pkg.dependencies, 'dependencies as in package.json (run npm install after editing it)');
  t.same(root.devDependencies, pkg.devDependencies, 'devDependencies as in package.json');
  for (const name of [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})]) {
    t.match(lock.packages[`node_modules/${name}`]?.version ?? '', /^\d+\.\d+\.\d+/, `${name} is locked to an exact version`);
  }
});
