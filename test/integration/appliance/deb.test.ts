/**
 * The Debian package (issue #18 "make deb"): ops/deb/build.sh builds it from the built tree
 * (reusing the last .deb when nothing that goes in changed, and the production
 * node_modules per package-lock.json), then dpkg-deb reads it back: control fields and
 * Depends, conffiles, maintainer scripts, the wrapper, the units, root ownership, no dev
 * dependencies and no tests inside — and the packaged tree, unpacked, starts the real
 * supervisor on the simulated box with nothing but its own node_modules.
 * Needs the build (dist/, flows/dist, dist/web: make build), as make test does before tap.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { writeSimConfig } from '../../helpers/supervisorProcess.js';
import { waitFor } from '../../helpers/util.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const version = (JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version;

function run(cmd: string, args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: repo, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`)) : resolve(stdout),
    );
  });
}

t.test('the .deb: fields, files, ownership, nothing of development — and it runs', async (t) => {
  if (!existsSync(path.join(repo, 'dist/supervisor/src/cli/main.js'))) {
    t.fail('dist/ is not built: run make build first (make test does)');
    return;
  }
  const arch = (await run('dpkg', ['--print-architecture'])).trim();
  const t0 = performance.now();
  // The first build runs npm ci (minutes); later ones reuse the cache or the .deb itself.
  const built = await run('bash', ['ops/deb/build.sh'], { timeoutMs: 15 * 60_000 });
  t.comment(`ops/deb/build.sh: ${((performance.now() - t0) / 1000).toFixed(1)} s — ${built.trim().split('\n').at(-1)}`);
  const deb = path.join(repo, 'dist-deb', `vaktpost_${version}_${arch}.deb`);
  t.ok(existsSync(deb), `${path.relative(repo, deb)} exists`);

  const field = async (f: string) => (await run('dpkg-deb', ['-f', deb, f])).trim();
  t.equal(await field('Package'), 'vaktpost');
  t.equal(await field('Version'), version, 'the version is package.json’s');
  t.equal(await field('Architecture'), arch, 'built for this architecture (native modules)');
  const depends = (await field('Depends')).split(/,\s*/);
  for (const d of ['nodejs (>= 20.12)', 'kamailio', 'rtpengine-daemon', 'sip-tester', 'chrony', 'nftables', 'adduser', 'util-linux', 'espeak-ng', 'sox'])
    t.ok(depends.includes(d), `Depends: ${d}`);
  t.same((await field('Recommends')).split(/,\s*/).sort(), ['nut-client', 'nut-server']);

  const info = await run('dpkg-deb', ['-I', deb]);
  for (const s of ['postinst', 'prerm', 'postrm', 'conffiles']) t.match(info, new RegExp(`\\b${s}\\b`), `control archive has ${s}`);
  const ctl = mkdtempSync(path.join(tmpdir(), 'vaktpost-deb-ctl-'));
  t.teardown(() => rmSync(ctl, { recursive: true, force: true }));
  await run('dpkg-deb', ['-e', deb, ctl]);
  t.equal(readFileSync(path.join(ctl, 'conffiles'), 'utf8'), '/etc/vaktpost/vaktpost.yaml\n', 'the config is the one conffile');
  const postinst = readFileSync(path.join(ctl, 'postinst'), 'utf8');
  t.notMatch(postinst, /initial-admin-password\)|cat .*initial-admin-password/, 'postinst never prints the password (only says where it will be)');
  for (const u of ['vaktpost', 'vaktpost-flows']) t.match(postinst, new RegExp(`ensure_user ${u} `), `postinst creates the user ${u}`);
  await run('sh', ['-n', path.join(ctl, 'postinst')]);

  const listing = (await run('dpkg-deb', ['-c', deb])).split('\n').filter(Boolean);
  const entries = listing.map((l) => {
    const [mode = '', owner = '', , , , ...rest] = l.split(/\s+/);
    return { mode, owner, path: rest.join(' ').replace(/ -> .*/, '') };
  });
  t.ok(entries.length > 1000, `${entries.length} entries`);
  t.same(
    entries.filter((e) => e.owner !== 'root/root').map((e) => e.path),
    [],
    'every file owned by root',
  );
  t.same(
    entries.filter((e) => !e.mode.startsWith('l') && /^.....w|^........w/.test(e.mode)).map((e) => `${e.mode} ${e.path}`),
    [],
    'nothing writable by group or others (symlinks aside: they have no mode of their own)',
  );
  const has = (p: string) => entries.find((e) => e.path === p);
  t.equal(has('./usr/bin/vaktpost')?.mode, '-rwxr-xr-x', '/usr/bin/vaktpost, executable');
  t.ok(has('./etc/vaktpost/vaktpost.yaml'), '/etc/vaktpost/vaktpost.yaml');
  for (const u of [
    'vaktpost.service',
    'vaktpost-kamailio.service',
    'vaktpost-announcement.service',
    'vaktpost-rtpengine.service',
    'vaktpost-local-nft.service',
    'vaktpost-firewall.service',
  ])
    t.ok(has(`./usr/lib/systemd/system/${u}`), `unit ${u}`);
  for (const p of [
    './usr/lib/vaktpost/package.json',
    './usr/lib/vaktpost/dist/supervisor/src/cli/main.js',
    './usr/lib/vaktpost/dist/web/index.html',
    './usr/lib/vaktpost/flows/dist/flows/src/nodes/index.js',
    './usr/lib/vaktpost/flows/templates/default/flows.json',
  ])
    t.ok(has(p), p);
  // Our devDependencies' tools. (@types/node and two more @types come with mqtt, a Node-RED
  // dependency that lists them as its own dependencies: not ours to drop.)
  const dev = entries.filter((e) =>
    /\/node_modules\/(tap|typescript|@biomejs|vite|tsx|dependency-cruiser|fast-check|playwright-core|axe-core|preact|@tapjs)\//.test(e.path),
  );
  t.same([...new Set(dev.map((e) => e.path.split('/node_modules/')[1]?.split('/').slice(0, 2).join('/')))], [], 'no dev dependency in node_modules');
  t.same(
    entries
      .filter((e) => e.path.startsWith('./usr/lib/vaktpost/test/') || /^\.\/usr\/lib\/vaktpost\/(dist|flows)\/.*\.test\.[jt]s$/.test(e.path))
      .map((e) => e.path),
    [],
    'no tests',
  );
  t.same(
    entries.filter((e) => /^\.\/usr\/lib\/vaktpost\/(dist|flows)\/.*(?<!\.d)\.ts$/.test(e.path)).map((e) => e.path),
    [],
    'no TypeScript sources, only the build',
  );

  const root = mkdtempSync(path.join(tmpdir(), 'vaktpost-deb-x-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  await run('dpkg-deb', ['-x', deb, root]);
  t.match(
    readFileSync(path.join(root, 'usr/bin/vaktpost'), 'utf8'),
    /^exec \/usr\/bin\/node \/usr\/lib\/vaktpost\/dist\/supervisor\/src\/cli\/main\.js "\$@"$/m,
    'the wrapper execs node on the packaged build',
  );
  t.match(
    readFileSync(path.join(root, 'usr/bin/vaktpost'), 'utf8'),
    /exec \/usr\/bin\/setpriv --reuid=vaktpost --regid=vaktpost --init-groups -- \/usr\/bin\/node /,
    'run by root, the CLI acts as user vaktpost (files in the data dir stay the units’ user’s)',
  );
  t.match(
    readFileSync(path.join(root, 'usr/lib/vaktpost/ops/nftables/vaktpost-local.nft'), 'utf8'),
    /^define VAKTPOST_CONTROL_UIDS = \{ 0, vaktpost \}$/m,
    'the packaged nft file lets user vaktpost reach the control ports',
  );
  const main = path.join(root, 'usr/lib/vaktpost/dist/supervisor/src/cli/main.js');
  t.equal((await run(process.execPath, [main, '--version'])).trim(), `vaktpost ${version}`, 'the packaged build knows its version');

  // The packaged tree on its own (production node_modules, native modules included) runs the supervisor.
  const sim = mkdtempSync(path.join(tmpdir(), 'vaktpost-deb-run-'));
  t.teardown(() => rmSync(sim, { recursive: true, force: true }));
  const { file } = await writeSimConfig(sim);
  const child = spawn(process.execPath, [main, 'run', '-c', file], {
    cwd: '/',
    env: { PATH: process.env.PATH, NODE_ENV: 'production' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}: ${out}`);
      return out.includes('Vaktpost is running');
    },
    { timeoutMs: 60_000, what: 'the packaged supervisor to start' },
  );
  t.pass('the packaged supervisor starts on the simulated box');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'and stops cleanly');
});
