/**
 * Attack (issue #17, item 12): another local account reads the health data. Under
 * `make run` the store was vaktpost.db 0644 in a 0755 data dir: any user on the machine
 * could copy call records, events and the audio-log index, and (with the store's
 * neighbours) the CLI token. Now a real supervisor start (TLS on, flows on: the key and
 * the flows' credential secret are created too) leaves the data dir 0700 and every file
 * and directory in it owner-only, and `nobody` cannot read the store. A data dir left
 * open by an older version is tightened at start, and the log says so.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startSupervisor } from '../helpers/supervisorProcess.js';
import { freePort, scratchDir } from '../helpers/util.js';

/** Every path under `dir` (itself included) with its permission bits. */
function modes(dir: string): Array<{ path: string; mode: number; kind: string }> {
  const out: Array<{ path: string; mode: number; kind: string }> = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    const kind = st.isDirectory() ? 'dir' : st.isSocket() ? 'socket' : st.isSymbolicLink() ? 'symlink' : 'file';
    out.push({ path: p, mode: st.mode & 0o777, kind });
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(path.join(p, n));
  };
  walk(dir);
  return out;
}

const asNobody = (file: string) => spawnSync('runuser', ['-u', 'nobody', '--', 'cat', file], { stdio: ['ignore', 'ignore', 'pipe'] });

t.test('the data dir and everything the supervisor creates in it are owner-only', async (t) => {
  const { dir, cleanup } = await scratchDir('sec-perms');
  t.teardown(cleanup);
  // A checkout under a home directory is usually 0755: other users can walk into it.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const dataDir = path.join(dir, 'data');
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    `box:\n  name: perms\n  dataDir: ${dataDir}\n  hardware: simulated\napi:\n  listen: 127.0.0.1\n  port: ${port}\n  tls: true\nflows:\n  enabled: true\n`,
  );

  await t.test('a fresh start', async (t) => {
    // The test runner's own umask (022) must not matter: the supervisor sets its own.
    const sup = await startSupervisor(file, port);
    t.teardown(() => sup.kill());
    const all = modes(dataDir);
    t.ok(
      all.some((m) => m.path.endsWith('vaktpost.db')),
      'the store exists',
    );
    t.ok(
      all.some((m) => m.path.endsWith(path.join('tls', 'key.pem')) || /tls\/.*key/.test(m.path)),
      `the TLS key exists: ${all.map((m) => m.path).join(', ')}`,
    );
    t.ok(
      all.some((m) => m.path.endsWith('cli.token')),
      'the CLI token exists',
    );
    const open = all.filter((m) => (m.mode & 0o077) !== 0 && m.kind !== 'symlink').map((m) => `${m.path} ${m.mode.toString(8)}`);
    t.same(open, [], 'no path in the data dir is open to group or others');
    t.equal(all[0]?.mode, 0o700, 'the data dir is 0700');
    const r = asNobody(path.join(dataDir, 'vaktpost.db'));
    t.not(r.status, 0, `nobody cannot read the store: ${r.stderr.toString().trim()}`);
    await sup.kill();
  });

  await t.test('a data dir left open by an older version is tightened at start, and logged', async (t) => {
    chmodSync(dataDir, 0o755);
    chmodSync(path.join(dataDir, 'vaktpost.db'), 0o644);
    mkdirSync(path.join(dataDir, 'old-reports'), { mode: 0o755 });
    chmodSync(path.join(dataDir, 'old-reports'), 0o755);
    t.equal(asNobody(path.join(dataDir, 'vaktpost.db')).status, 0, 'the attack works on the loosened dir (the test can see it)');
    const sup = await startSupervisor(file, port);
    t.teardown(() => sup.kill());
    const open = modes(dataDir)
      .filter((m) => (m.mode & 0o077) !== 0 && m.kind !== 'symlink')
      .map((m) => `${m.path} ${m.mode.toString(8)}`);
    t.same(open, [], 'tightened: nothing open to group or others');
    t.match(sup.output(), /data dir: took group\/other access away from \d+ path/, 'the log says it tightened');
    t.match(sup.output(), /vaktpost\.db/, 'and names what');
    t.not(asNobody(path.join(dataDir, 'vaktpost.db')).status, 0, 'nobody cannot read the store any more');
  });
});
