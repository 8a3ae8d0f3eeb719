/**
 * Who may start the flows child as its own user (supervisor/src/flows/identity.ts): decided
 * by the effective capabilities, not by uid 0 — and a child started by a non-root parent
 * through its capabilities holds none of them.
 *
 * The real case runs a supervisor-like process as user `vaktpost-flows` (any non-root user
 * will do; this one can read a clone under a private folder, see ops/install/debian-deps.sh) holding ambient
 * CAP_SETUID/CAP_SETGID (as vaktpost.service gives user vaktpost), made with setpriv; it
 * forks a child as `nobody` exactly as flows/process.ts does (fork through
 * withoutCapabilities, IPC channel) and reports what the child holds. Needs root (make test runs as root).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { canSwitchUser, effectiveCapabilities } from '../../../supervisor/src/flows/identity.js';

const repo = path.resolve(import.meta.dirname, '../../..');
const SETUID_SETGID = 0xc0n;

t.test('canSwitchUser: root, or CAP_SETUID and CAP_SETGID both; never one alone', async (t) => {
  t.equal(canSwitchUser(0n, 0), true, 'root');
  t.equal(canSwitchUser(SETUID_SETGID, 998), true, 'non-root with both capabilities');
  t.equal(canSwitchUser(0x80n, 998), false, 'CAP_SETUID alone');
  t.equal(canSwitchUser(0x40n, 998), false, 'CAP_SETGID alone');
  t.equal(canSwitchUser(0n, 998), false, 'no capability');
});

t.test('effectiveCapabilities reads CapEff from a status file', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'vaktpost-caps-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const f = path.join(dir, 'status');
  writeFileSync(f, 'Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t00000000000000c0\nCapBnd:\t000001ffffffffff\n');
  t.equal(effectiveCapabilities(f), SETUID_SETGID);
  t.equal(effectiveCapabilities(path.join(dir, 'missing')), 0n, 'unreadable: no capabilities');
});

/** The non-root user the supervisor-like process runs as (created by ops/install/debian-deps.sh). */
const AS_USER = 'vaktpost-flows';

/** What a supervisor running as a non-root user (with or without the two capabilities) decides and what its child holds. */
function asDaemon(
  caps: boolean,
  dir: string,
): {
  identity: { isolated: boolean; via?: string; user: string; why?: string };
  wrapped?: { uid: number; capEff: string; capPrm: string; capAmb: string };
  bare?: { uid: number; capEff: string };
} {
  const script = path.join(dir, 'supervisor-like.mts');
  writeFileSync(
    script,
    `import { fork } from 'node:child_process';
import { resolveFlowsIdentity, withoutCapabilities } from ${JSON.stringify(path.join(repo, 'supervisor/src/flows/identity.ts'))};
const child = ${JSON.stringify(path.join(dir, 'child.cjs'))};
const identity = resolveFlowsIdentity('nobody');
const out = { identity };
const run = (wrap) => new Promise((resolve, reject) => {
  const [execPath, execArgv] = wrap ? withoutCapabilities(identity, process.execPath, []) : [process.execPath, []];
  const c = fork(child, [], { execPath, execArgv, uid: identity.uid, gid: identity.gid, cwd: '/', env: { PATH: process.env.PATH }, stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
  c.once('message', (m) => { resolve(m); c.disconnect(); });
  c.once('error', reject);
});
if (identity.isolated) { out.wrapped = await run(true); out.bare = await run(false); }
process.stdout.write(JSON.stringify(out));
`,
  );
  // The child the flows runtime would be: reports its uid and capability sets over the IPC channel.
  writeFileSync(
    path.join(dir, 'child.cjs'),
    `const s = require('node:fs').readFileSync('/proc/self/status', 'utf8');
const f = (k) => new RegExp('^' + k + ':\\\\s*(\\\\S+)', 'm').exec(s)[1];
process.send({ uid: process.getuid(), capEff: f('CapEff'), capPrm: f('CapPrm'), capAmb: f('CapAmb') });
process.on('disconnect', () => process.exit(0));
`,
  );
  chmodSync(dir, 0o755);
  const capArgs = caps ? ['--inh-caps=+setuid,+setgid', '--ambient-caps=+setuid,+setgid'] : ['--inh-caps=-all'];
  // Through `env -i`: tap puts its own loader into every child's NODE_OPTIONS, whatever env is given.
  const bareEnv = ['-i', `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'HOME=/', `TSX_TSCONFIG_PATH=${path.join(repo, 'tsconfig.json')}`];
  const setpriv = ['setpriv', `--reuid=${AS_USER}`, `--regid=${AS_USER}`, '--clear-groups', ...capArgs, '--', process.execPath, '--import', 'tsx', script];
  const out = execFileSync('env', [...bareEnv, ...setpriv], {
    cwd: repo,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
  return JSON.parse(out);
}

t.test('a non-root supervisor with CAP_SETUID/CAP_SETGID starts the child as the flows user, holding no capability', async (t) => {
  if (process.getuid?.() !== 0) t.fail(`this test needs root (it switches to ${AS_USER} and nobody): run it as make test does`);
  const dir = mkdtempSync(path.join(tmpdir(), 'vaktpost-identity-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());

  const withCaps = asDaemon(true, dir);
  t.match(withCaps.identity, { isolated: true, via: 'capabilities', user: 'nobody' }, 'decided by capability: isolated although not root');
  t.equal(withCaps.wrapped?.uid, nobody, 'the child runs as the flows user');
  t.equal(BigInt(`0x${withCaps.wrapped?.capEff}`), 0n, 'the child has no effective capability');
  t.equal(BigInt(`0x${withCaps.wrapped?.capPrm}`), 0n, 'nor a permitted one (it cannot switch back to the supervisor)');
  t.equal(BigInt(`0x${withCaps.wrapped?.capAmb}`), 0n, 'nor an ambient one to pass on');
  // The control: forked without setpriv, the child would keep CAP_SETUID — why the wrapper exists.
  t.equal(withCaps.bare?.uid, nobody);
  t.equal(BigInt(`0x${withCaps.bare?.capEff}`) & SETUID_SETGID, SETUID_SETGID, 'without setpriv the child would keep CAP_SETUID/CAP_SETGID');

  const without = asDaemon(false, dir);
  t.match(without.identity, { isolated: false, user: AS_USER }, 'without the capabilities: not isolated');
  t.match(without.identity.why, /not root and without CAP_SETUID\/CAP_SETGID/, 'and it says why');
});
