/**
 * `vaktpost check-config` refuses every config `vaktpost run` refuses, with the same
 * one-line `file:line:` message that names the fix, and exit 65 (EX_DATAERR) from both.
 * Each case is a config check-config used to call OK while `run` refused it or broke
 * at run time: an unset `${env:…}` secret, an unknown template placeholder, a listen
 * address that is no IP address. Real CLI processes, no supervisor left running.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { freePort, scratchDir } from '../../helpers/util.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.once('close', (code) => resolve({ code, out, err }));
  });
}

const EX_DATAERR = 65;

t.test('check-config refuses what run refuses, in one file:line: line naming the fix', async (t) => {
  const { dir, cleanup } = await scratchDir('cli-cfg');
  t.teardown(cleanup);
  const port = await freePort();
  // A config that starts: the bad part is added to it.
  const base = (name: string) => `box:\n  name: ${name}\n  dataDir: ${path.join(dir, name)}\n  hardware: simulated\n`;
  const api = (listen: string) => `api:\n  listen: ${listen}\n  port: ${port}\n`;
  const cases: Array<{ name: string; yaml: string; line: RegExp }> = [
    {
      name: 'unset-env',
      yaml: `${base('unset-env')}${api('127.0.0.1')}upstream:\n  webhook:\n    url: https://reroute.example.no/api\n    headers:\n      Authorization: "Bearer \${env:VAKTPOST_TEST_UNSET_TOKEN}"\n`,
      line: /^unset-env\.yaml:12: upstream\.webhook\.headers\.Authorization references \$\{env:VAKTPOST_TEST_UNSET_TOKEN\}, but VAKTPOST_TEST_UNSET_TOKEN is not set .* set it .*EnvironmentFile.* or remove the reference$/,
    },
    {
      name: 'unknown-placeholder',
      yaml: `${base('unknown-placeholder')}${api('127.0.0.1')}upstream:\n  heartbeat:\n    url: https://reroute.example.no/beat\n    bodyTemplate: '{"route":"{{rout}}"}'\n`,
      line: /^unknown-placeholder\.yaml:11: upstream\.heartbeat\.bodyTemplate: unknown placeholder \{\{rout\}\} — allowed here: \{\{route\}\}, \{\{seq\}\}, \{\{box\}\}, \{\{at\}\}$/,
    },
    {
      name: 'listen-out-of-range',
      yaml: `${base('listen-out-of-range')}${api('999.1.1.1')}`,
      line: /^listen-out-of-range\.yaml:6: api\.listen: expected an IP address of this box \(e\.g\. 127\.0\.0\.1, 0\.0\.0\.0 for every address, or ::1\) — not a host name, found "999\.1\.1\.1"$/,
    },
    {
      name: 'listen-not-an-ip',
      yaml: `${base('listen-not-an-ip')}${api('not-an-ip')}`,
      line: /^listen-not-an-ip\.yaml:6: api\.listen: expected an IP address .*found "not-an-ip"$/,
    },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const file = path.join(dir, `${c.name}.yaml`);
      writeFileSync(file, c.yaml);
      const check = await cli(['check-config', file]);
      t.equal(check.code, EX_DATAERR, `check-config exits ${EX_DATAERR} (EX_DATAERR)`);
      t.equal(check.out, '', 'no OK on stdout');
      const lines = check.err.trimEnd().split('\n');
      t.equal(lines.length, 1, `one line: ${check.err}`);
      t.match(lines[0], c.line, 'file:line: what is wrong and the fix');

      const run = await cli(['run', '-c', file]);
      t.equal(run.code, EX_DATAERR, `run refuses the same file with ${EX_DATAERR}`);
      t.ok(run.err.split('\n').includes(lines[0] ?? '?'), `run names the same line: ${run.err}`);
      t.notMatch(run.out + run.err, /Vaktpost is running/, 'run never started');
    });
  }

  await t.test('the same env reference, set: both accept it', async (t) => {
    const file = path.join(dir, 'unset-env.yaml');
    const check = await cli(['check-config', file], { VAKTPOST_TEST_UNSET_TOKEN: 's3cret' });
    t.equal(check.code, 0, check.err);
    t.match(check.out, /unset-env\.yaml: OK/);
  });
});
