import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { callsSchema } from '../../supervisor/src/config/calls.js';
import { controlKeys, controlSecretOf, controlSecretPathOf } from '../../supervisor/src/reconcilers/kamailio/controlSecret.js';
import { writeKamailioFiles } from '../../supervisor/src/reconcilers/kamailio/files.js';
import { SET_CENTRES } from '../../supervisor/src/reconcilers/kamailio/render.js';
import { startKamailio } from '../helpers/kamailio.js';
import { KamailioRpc, KamailioRpcError } from '../../hardware/kamailio/rpc.js';
import { freePort, scratchDir } from '../helpers/util.js';
import { asLocalUser, startLocalUserNode } from './localUser.js';

const LOCAL = 'sip:legevakt@127.0.0.1:45061';
const BACKUP = 'sip:backup@127.0.0.1:45062';

t.test('Kamailio JSON-RPC and ctl socket refuse a local user without the control secret', async (t) => {
  // No keepalives: the destinations' flags change only if someone sets them.
  const kam = await startKamailio(t, {
    centres: { local: [LOCAL], backup: [BACKUP] },
    announcementUris: ['sip:announcement@127.0.0.1:45063'],
    timers: { keepaliveIntervalS: 0 },
  });
  // The attacker may walk into the dir, as into /run/vaktpost/kamailio on the box (0755).
  await chmod(kam.dir, 0o755);
  const url = `http://127.0.0.1:${kam.rpcPort}/RPC`;
  const rpcAs = (method: string, params: unknown[], headers: string[] = []) =>
    asLocalUser('curl', [
      '-s',
      '-w',
      '\n%{http_code}',
      ...headers.flatMap((h) => ['-H', h]),
      '-d',
      JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }),
      url,
    ]);
  const statusOf = (out: string) => out.trim().split('\n').pop();
  const flags = async () => Object.fromEntries((await kam.rpc.dispatcherList()).map((d) => [d.uri, d.flags]));
  const before = await flags();
  t.match(before[LOCAL], /^A/, 'the local centre starts active');

  await t.test('dispatcher.list without the secret: 403, and nothing of the list leaks', async (t) => {
    const r = await rpcAs('dispatcher.list', []);
    t.equal(r.code, 0, 'curl reached Kamailio (the port is open to every local user)');
    t.equal(statusOf(r.stdout), '403', 'HTTP 403');
    t.notMatch(r.stdout, /legevakt|backup|RECORDS/, 'no destination in the answer');
  });

  await t.test('dispatcher.set_state d on the local centre: 403, and the calls stay local', async (t) => {
    const r = await rpcAs('dispatcher.set_state', ['d', SET_CENTRES, LOCAL]);
    t.equal(statusOf(r.stdout), '403', 'HTTP 403');
    const wrong = await rpcAs('dispatcher.set_state', ['d', SET_CENTRES, LOCAL], ['Authorization: Bearer 0123456789abcdef0123456789abcdef']);
    t.equal(statusOf(wrong.stdout), '403', 'a guessed secret: 403 too');
    const reload = await rpcAs('dispatcher.reload', []);
    t.equal(statusOf(reload.stdout), '403', 'dispatcher.reload: 403');
    t.same(await flags(), before, 'every destination exactly as before');
  });

  await t.test('the supervisor, with the secret, still moves the calls', async (t) => {
    await kam.rpc.dispatcherSetState('d', SET_CENTRES, LOCAL);
    t.match((await flags())[LOCAL], /^D/, 'local disabled by the secret holder');
    await kam.rpc.dispatcherSetState('ap', SET_CENTRES, LOCAL);
    t.match((await flags())[LOCAL], /^A/, 'and back');
  });

  await t.test("Kamailio's ctl socket (kamcmd) refuses the local user", async (t) => {
    const sock = path.join(kam.dir, 'kamailio_ctl');
    const now = await flags();
    t.equal((await stat(sock)).mode & 0o077, 0, 'ctl socket owner-only');
    const r = await asLocalUser('kamcmd', ['-s', `unix:${sock}`, 'dispatcher.set_state', 'd', String(SET_CENTRES), LOCAL]);
    t.not(r.code, 0, `kamcmd as nobody fails (${(r.stderr || r.stdout).trim()})`);
    t.same(await flags(), now, 'nothing changed');
  });

  await t.test('the secret is not readable: control.secret and the rendered cfg are owner-only', async (t) => {
    // Even root's copy of the cfg opens no RPC: it holds the events key and a hash of the RPC key only.
    const cfg = await readFile(path.join(kam.dir, 'kamailio.cfg'), 'utf8');
    t.notOk(cfg.includes(kam.input.controlSecret), 'the cfg does not hold the control secret');
    t.notOk(cfg.includes(controlKeys(kam.input.controlSecret).rpc), 'nor the RPC key');
    const withEventsKey = await rpcAs('dispatcher.list', [], [`Authorization: Bearer ${controlKeys(kam.input.controlSecret).events}`]);
    t.equal(statusOf(withEventsKey.stdout), '403', 'the events key (which the cfg does hold) opens no RPC');
    for (const f of [controlSecretPathOf({ configDir: kam.dir }), path.join(kam.dir, 'kamailio.cfg')]) {
      const r = await asLocalUser('cat', [f]);
      t.not(r.code, 0, `nobody cannot read ${path.basename(f)}`);
      t.notMatch(r.stdout, new RegExp(kam.input.controlSecret), 'the secret does not show');
    }
  });
});

t.test('vaktpost kamailio-render writes the cfg and the secret owner-only, and tightens older files', async (t) => {
  const s = await scratchDir('sec-render');
  t.teardown(s.cleanup);
  await chmod(s.dir, 0o755);
  const configDir = path.join(s.dir, 'kamailio');
  await mkdir(configDir, { mode: 0o755 });
  const calls = callsSchema.parse({
    centres: { local: { uris: [LOCAL] }, backup: { uris: [BACKUP] } },
    announcement: { uris: ['sip:announcement@127.0.0.1:45063'] },
    configDir,
    runDir: path.join(s.dir, 'run'),
    callRecords: { enabled: false },
  });
  const cfgFile = path.join(configDir, 'kamailio.cfg');
  // What the old renderer left: the same cfg, world-readable.
  await writeFile(cfgFile, 'old\n', { mode: 0o644 });
  await writeKamailioFiles(calls);
  const secret = controlSecretOf(calls);
  t.match(await readFile(cfgFile, 'utf8'), /VPCALL2|RPC_AUTH_SHA256/, 'the cfg is the new one');
  for (const f of [cfgFile, controlSecretPathOf(calls)]) {
    t.equal((await stat(f)).mode & 0o777, 0o600, `${path.basename(f)} is 0600`);
    const r = await asLocalUser('cat', [f]);
    t.not(r.code, 0, `nobody cannot read ${path.basename(f)}`);
  }
  // Unchanged content, loosened modes (a careless restore from backup): tightened again.
  await chmod(cfgFile, 0o644);
  await chmod(controlSecretPathOf(calls), 0o644);
  const again = await writeKamailioFiles(calls);
  t.equal(again.cfg.changed, false, 'same cfg');
  t.equal((await stat(cfgFile)).mode & 0o777, 0o600, 'cfg back to 0600');
  t.equal(controlSecretOf(calls), secret, 'the same secret is kept');
  t.equal((await stat(controlSecretPathOf(calls))).mode & 0o777, 0o600, 'control.secret back to 0600');
});

t.test("a local user who grabs Kamailio's RPC port while Kamailio is down is not handed the RPC key", async (t) => {
  const port = await freePort();
  // The squatter: listens on the RPC port and reports every byte it is sent.
  const { seen, waitLine } = startLocalUserNode(
    t,
    `require('node:net').createServer((c) => { let n = 0; c.on('data', (d) => { n += d.length; console.log('got ' + d.toString('base64')); }); c.on('close', () => console.log('closed ' + n)); }).listen(${port}, '127.0.0.1', () => console.log('listening'));`,
  );
  await waitLine(/^listening$/);

  const rpc = new KamailioRpc({ port, timeoutMs: 2000, secret: 'f'.repeat(64) });
  const err = await rpc.call('dispatcher.list').then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(err instanceof KamailioRpcError && err.kind === 'untrusted', `the client refuses the impostor (${(err as Error | null)?.message})`);
  t.match((err as Error).message, /held by uid 65534.*NOT sent/, 'and says who holds the port');
  const closed = await waitLine(/^closed /);
  t.equal(closed, 'closed 0', 'the squatter received not one byte (no key, no request)');
  t.notOk(
    seen.some((l) => l.startsWith('got ')),
    'nothing arrived',
  );
});
