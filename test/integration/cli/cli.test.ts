/**
 * The vaktpost CLI as an operator and a monitor meet it: --help and --version, the
 * sysexits exit codes, `status` exiting by the state of the box, and `user passwd`
 * reading the password without echo on a terminal (a real pseudo-terminal, via util-linux
 * `script`) and as one line from a pipe that stays open. One real supervisor (simulated
 * box) for all cases, with api.sessionHours: 1.1 — that made every login answer 500.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { startSupervisor, type SupervisorProc } from '../../helpers/supervisorProcess.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const MAIN = ['--import', 'tsx', 'supervisor/src/cli/main.ts'];
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Result {
  code: number | null;
  out: string;
  err: string;
}

function collect(c: ChildProcess): Promise<Result> {
  let out = '';
  let err = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => c.once('close', (code) => resolve({ code, out, err })));
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return collect(spawn(process.execPath, [...MAIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }));
}

async function login(url: string, username: string, password: string): Promise<Response> {
  return fetch(`${url}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
}

t.test('the CLI', async (t) => {
  const { dir, cleanup } = await scratchDir('cli');
  t.teardown(cleanup);
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    `box:\n  name: cli-box\n  dataDir: ${path.join(dir, 'data')}\n  hardware: simulated\n` +
      `api:\n  listen: 127.0.0.1\n  port: ${port}\n  sessionHours: 1.1\n` +
      `policy:\n  failbackHoldS: 600\n  holdDownS: 5\n  tickMs: 100\nsim:\n  reportMs: 200\n`,
  );
  const sup: SupervisorProc = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const adminPw = /password \/ passord: +(\S+)/.exec(sup.output())?.[1] ?? '';
  const noEnvPassword = { VAKTPOST_PASSWORD: undefined };

  await t.test('--version, --help and every command --help', async (t) => {
    const v = await cli(['--version']);
    t.equal(v.code, 0);
    t.equal(v.out, `vaktpost ${VERSION}\n`, "package.json's version");
    const h = await cli(['--help']);
    t.equal(h.code, 0);
    const commands = [
      'run',
      'check-config',
      'status',
      'events',
      'route',
      'drill',
      'kamailio-render',
      'user',
      'audiolog',
      'flows',
      'report',
      'deviations',
      'deviation',
      'duties',
    ];
    for (const c of commands) t.match(h.out, new RegExp(`^  ${c} +\\S`, 'm'), `--help lists ${c}`);
    t.match(h.out, /64 usage error, 65 invalid config/, 'and the exit codes');
    // Every command has its --help (test/unit/cli/help.test.ts); the path is one lookup, so a
    // few through the real CLI (each a tsx start-up of seconds) show it works end to end.
    for (const c of ['status', 'user', 'check-config', 'audiolog']) {
      const r = await cli([c, '--help']);
      t.equal(r.code, 0, `${c} --help exits 0 (${r.err})`);
      t.match(r.out, new RegExp(`^vaktpost ${c}\\b`, 'm'), `${c} --help shows its synopsis`);
    }
  });

  await t.test('usage errors exit 64, an invalid config 65', async (t) => {
    t.equal((await cli([])).code, 64, 'no command');
    t.equal((await cli(['events', '--bogus', '-c', file])).code, 64, 'unknown option');
    t.equal((await cli(['user', 'add', 'ola', '--role', 'king', '-c', file], { VAKTPOST_PASSWORD: 'a-long-enough-pw' })).code, 64, 'bad role');
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'policy:\n  holdDownS: thirty\n');
    for (const args of [
      ['check-config', bad],
      ['status', '-c', bad],
      ['audiolog', 'verify', '-c', bad],
    ]) {
      const r = await cli(args);
      t.equal(r.code, 65, `${args[0]} on an invalid config: 65`);
      t.match(r.err, /bad\.yaml:2: policy\.holdDownS: expected a number/);
    }
  });

  await t.test('the version over HTTP and in the metrics', async (t) => {
    const v = await sup.api<{ version: string }>('GET', '/api/version');
    t.same(v, { status: 200, json: { version: VERSION } });
    const m = await (await fetch(`${sup.url}/metrics`, { headers: { authorization: `Bearer ${sup.token()}` } })).text();
    t.match(m, new RegExp(`^vaktpost_build_info\\{version="${VERSION.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
  });

  await t.test('api.sessionHours: 1.1 — login works, the cookie lives 3960 s', async (t) => {
    const r = await login(sup.url, 'admin', adminPw);
    t.equal(r.status, 200, 'not 500');
    t.match(r.headers.get('set-cookie') ?? '', /Max-Age=3960(;|$)/);
  });

  await t.test('status exits by state: 0 normal, 2 failed over', async (t) => {
    await waitFor(async () => (await sup.api<{ mode: string }>('GET', '/api/status')).json.mode === 'normal' || null, {
      timeoutMs: 30_000,
      what: 'the simulated box to settle in normal',
    });
    const normal = await cli(['status', '-c', file]);
    t.equal(normal.code, 0, `normal → 0 (${normal.out})`);
    t.match(normal.out, /^mode: normal$/m);
    t.equal((await sup.api('POST', '/api/sim/fault', { fault: 'power-low-battery' })).status, 200);
    await waitFor(async () => (await sup.api<{ route: string }>('GET', '/api/status')).json.route === 'backup' || null, {
      timeoutMs: 30_000,
      what: 'the failover to backup',
    });
    const failed = await cli(['status', '-c', file, '--json']);
    t.equal(failed.code, 2, 'failed over → 2');
    t.equal((JSON.parse(failed.out) as { route: string }).route, 'backup');
  });

  await t.test('user passwd: one line from a pipe that stays open — no wait for Ctrl-D', async (t) => {
    const c = spawn(process.execPath, [...MAIN, 'user', 'passwd', 'admin', '-c', file], {
      cwd: ROOT,
      env: { ...process.env, ...noEnvPassword },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const done = collect(c);
    // The line and more after it; the pipe is never closed by us.
    c.stdin?.write('piped-password-1\nthis is not the password\n');
    const r = await done;
    c.stdin?.destroy();
    t.equal(r.code, 0, r.err);
    t.match(r.out, /password for admin changed/);
    t.equal((await login(sup.url, 'admin', 'piped-password-1')).status, 200, 'the first line is the password');
    t.equal((await login(sup.url, 'admin', adminPw)).status, 401, 'the old one is gone');
  });

  await t.test('user passwd on a terminal: asked twice, never echoed', async (t) => {
    const command = [process.execPath, ...MAIN, 'user', 'passwd', 'admin', '-c', file].join(' ');
    // util-linux script: the CLI runs on a pseudo-terminal; -e passes its exit code on.
    const c = spawn('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: { ...process.env, ...noEnvPassword }, stdio: ['pipe', 'pipe', 'pipe'] });
    let transcript = '';
    c.stdout?.on('data', (d: Buffer) => (transcript += d.toString()));
    const exited = new Promise<number | null>((resolve) => c.once('close', resolve));
    // Type only once the prompt is up: the CLI has turned echo off by then.
    await waitFor(() => transcript.includes('Password (passord): ') || null, { timeoutMs: 30_000, what: 'the password prompt' });
    c.stdin?.write('typed-password-22\r');
    await waitFor(() => transcript.includes('Again (gjenta): ') || null, { timeoutMs: 10_000, what: 'the second prompt' });
    c.stdin?.write('typed-password-22\r');
    const code = await exited;
    t.equal(code, 0, transcript);
    t.match(transcript, /password for admin changed/);
    t.notMatch(transcript, /typed-password/, 'the password never appears on the terminal');
    t.equal((await login(sup.url, 'admin', 'typed-password-22')).status, 200, 'the typed password is set');
  });

  await t.test('refusals and an absent supervisor', async (t) => {
    const weak = await cli(['user', 'passwd', 'admin', '-c', file], { VAKTPOST_PASSWORD: 'short' });
    t.equal(weak.code, 65, `the supervisor refuses a short password: 65 (${weak.err.trim()})`);
    t.match(weak.err, /at least 12 characters/);
    await sup.kill();
    const status = await cli(['status', '-c', file]);
    t.equal(status.code, 3, 'supervisor not answering → status 3 (unknown)');
    t.match(status.out, /supervisor NOT running/);
    const route = await cli(['route', 'clear', '-c', file]);
    t.equal(route.code, 69, `a command that needs the supervisor → 69 (${route.err.trim()})`);
  });
});
