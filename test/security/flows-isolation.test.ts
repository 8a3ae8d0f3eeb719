/**
 * Security (#17, item 1): a technician who can deploy flows must not become root, or
 * admin, through Node-RED.
 *
 * The attack, through the real supervisor process and its real editor API, logged in as
 * a technician: deploy a flow whose Function node escapes its sandbox to the child's
 * `process` and reads the CLI token (with it: create an admin), the store (password
 * hashes), an audio-archive file, the supervisor's environment and the flows' credential
 * secret; it reports its uid and every read back through Node-RED's global context. On
 * the old code the child ran as root and every read succeeded. Now it runs as the flows
 * user: uid ≠ 0 and every read fails with EACCES. The file nodes (`file in` …), which
 * would read the same files without any escape, are not loaded.
 */
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ensureFlowsBuilt } from '../integration/flows/build.js';
import { startHarness } from '../integration/flows/harness.js';
import { startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../helpers/util.js';

const SECRET_ENV = 'VAKTPOST_FLOWS_PROBE_SECRET';

interface Probe {
  uid: number;
  gid: number;
  env: string | null;
  reads: Record<string, string>;
}

t.test('a technician deploying flows reaches none of the supervisor’s secrets', async (t) => {
  t.equal(process.getuid?.(), 0, 'the security suite runs as root (make test does): only then can the supervisor switch user');
  await ensureFlowsBuilt();
  const { dir, cleanup } = await scratchDir('sec-flows-iso');
  t.teardown(cleanup);
  // Like /var/lib: others may pass through to the flows home beside the data dir.
  chmodSync(dir, 0o711);
  // A box upgraded from before the flows had their own home: Node-RED's node credentials were
  // in the data dir (made here with the umask's 0755, which the supervisor must close).
  const legacyCreds = path.join(dir, 'data', 'flows', 'node-red', 'flows_cred.json');
  mkdirSync(path.dirname(legacyCreds), { recursive: true });
  writeFileSync(legacyCreds, '{"legacy-node":{"password":"kept-over-the-upgrade"}}\n', { mode: 0o600 });
  const { file, port } = await writeSimConfig(dir, 'flows:\n  enabled: true\n  startGraceMs: 0\n  hungAfterMs: 30000\n');
  const sup = await startSupervisor(file, port, { [SECRET_ENV]: 'do-not-leak-4711' });
  t.teardown(() => sup.kill());

  const adminApi = async (method: string, p: string, body?: unknown) => sup.api<Record<string, unknown>>(method, p, body);
  t.equal(
    (await adminApi('POST', '/api/users', { username: 'tekniker', password: 'tekniker-passord-123', role: 'technician' })).status,
    201,
    'technician created',
  );
  const login = await fetch(`${sup.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'tekniker', password: 'tekniker-passord-123' }),
  });
  const tech = ((await login.json()) as { token: string }).token;
  const asTech = async (method: string, p: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(sup.url + p, {
      method,
      headers: { authorization: `Bearer ${tech}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: res.status, text, json };
  };
  const deploy = (flows: unknown[]) => asTech('POST', '/flows/flows', { flows }, { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' });
  type Status = { runtime: { state: string; detail: string; rev: string | null }; runsAs: { user: string; uid: number; isolated: boolean } };
  const status = async () => (await asTech('GET', '/api/flows/status')).json as Status;
  await waitFor(async () => (await status()).runtime.state === 'running', { timeoutMs: 60_000, intervalMs: 100, what: 'the flows to run' });

  // What the attacker wants: the token that makes an admin, the hashes, a recording.
  const archiveFile = path.join(sup.dataDir, 'audiolog', '2026', '12', '07', 'rec-1', 'audio.wav');
  mkdirSync(path.dirname(archiveFile), { recursive: true, mode: 0o700 });
  writeFileSync(archiveFile, 'RIFF…a recorded call', { mode: 0o600 });
  const targets = {
    cliToken: path.join(sup.dataDir, 'cli.token'),
    store: path.join(sup.dataDir, 'vaktpost.db'),
    archive: archiveFile,
    credentialSecret: path.join(sup.dataDir, 'flows', 'credential-secret'),
    supervisorEnviron: `/proc/${sup.child.pid}/environ`,
  };

  await t.test('the flows user is not root and the file nodes are not there', async (t) => {
    const s = await status();
    t.ok(s.runsAs.isolated, 'the child runs isolated');
    t.equal(s.runsAs.user, 'vaktpost-flows');
    t.not(s.runsAs.uid, 0);
    t.equal(statSync(sup.dataDir).mode & 0o007, 0, 'the data dir gives others nothing');
    const home = `${sup.dataDir}-flows`;
    t.equal(statSync(home).uid, s.runsAs.uid, 'the flows home belongs to the flows user');
    t.equal(statSync(home).mode & 0o777, 0o700, 'and to no one else');
    const creds = path.join(home, 'node-red', 'flows_cred.json');
    t.equal(statSync(creds).uid, s.runsAs.uid, 'the old node credentials were carried over by the child itself');
    const nodes = await asTech('GET', '/flows/nodes', undefined, { accept: 'application/json' });
    t.equal(nodes.status, 200);
    const types = (nodes.json as Array<{ types: string[] }>).flatMap((x) => x.types);
    t.ok(types.includes('function'), 'the Function node is there (flows are code)');
    for (const ty of ['file', 'file in', 'watch', 'exec']) t.notOk(types.includes(ty), `no "${ty}" node`);
  });

  await t.test('a Function node escaping to process reads nothing of the supervisor’s', async (t) => {
    const escapeCode = [
      // msg is made in the host's realm: its Function constructor is the host's, outside the vm sandbox.
      'const p = msg.constructor.constructor("return process")();',
      'const fs = p.getBuiltinModule("fs");',
      `const out = { uid: p.getuid(), gid: p.getgid(), env: p.env.${SECRET_ENV} ?? null, reads: {} };`,
      'for (const [k, f] of Object.entries(msg.payload)) { try { fs.readFileSync(f); out.reads[k] = "READ"; } catch (e) { out.reads[k] = e.code; } }',
      'global.set("probe", JSON.stringify(out));',
      'return null;',
    ].join('\n');
    const flows = [
      { id: 'tabiso', type: 'tab', label: 'probe' },
      {
        id: 'injiso',
        type: 'inject',
        z: 'tabiso',
        props: [{ p: 'payload' }],
        payload: JSON.stringify(targets),
        payloadType: 'json',
        once: true,
        onceDelay: 0.1,
        repeat: '',
        wires: [['fniso']],
      },
      { id: 'fniso', type: 'function', z: 'tabiso', func: escapeCode, outputs: 1, timeout: 0, wires: [[]] },
    ];
    const dep = await deploy(flows);
    t.equal(dep.status, 200, `deployed through the editor API: ${dep.text.slice(0, 200)}`);
    let last = '';
    const probe = await waitFor(
      async () => {
        const r = await asTech('GET', '/flows/context/global/probe');
        last = r.text;
        // Node-RED's context API: { msg, format }; format "string[n]" once the probe has written.
        const c = r.json as { msg?: string; format?: string } | null;
        return c?.format?.startsWith('string') && typeof c.msg === 'string' ? (JSON.parse(c.msg) as Probe) : null;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: 'the probe flow to report' },
    ).catch(async (err: Error) => {
      throw new Error(
        `${err.message}; the context said ${last.slice(0, 300)}; flows status ${JSON.stringify(await status()).slice(0, 500)}; supervisor: ${sup.output().slice(-1500)}`,
      );
    });
    t.not(probe.uid, 0, `the Function node runs as uid ${probe.uid}, not root`);
    t.not(probe.gid, 0, 'nor with group root');
    t.equal(probe.env, null, 'the supervisor’s environment is not passed to the child');
    for (const [k, code] of Object.entries(probe.reads)) t.equal(code, 'EACCES', `${k} (${targets[k as keyof typeof targets]}) → ${code}`);
    t.same(Object.keys(probe.reads).sort(), Object.keys(targets).sort(), 'every target was tried');
  });

  await t.test('a `file in` node reading the CLI token is not available', async (t) => {
    const flows = [
      { id: 'tabfile', type: 'tab', label: 'file' },
      { id: 'injfile', type: 'inject', z: 'tabfile', props: [{ p: 'payload' }], once: true, onceDelay: 0.1, repeat: '', wires: [['readfile']] },
      { id: 'readfile', type: 'file in', z: 'tabfile', filename: targets.cliToken, filenameType: 'str', format: 'utf8', wires: [['fnfile']] },
      { id: 'fnfile', type: 'function', z: 'tabfile', func: 'global.set("token", msg.payload); return null;', outputs: 1, wires: [[]] },
    ];
    const dep = await deploy(flows);
    // Node-RED takes the configuration (it may be fixed later) but runs none of it.
    const s = await waitFor(
      async () => {
        const st = await status();
        return st.runtime.state === 'stopped' ? st : null;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `the flows to stop on the unknown node type (deploy: ${dep.status})` },
    );
    t.match(s.runtime.detail, /unknown node types.*file in/, `Node-RED does not know "file in": ${s.runtime.detail}`);
    const token = await asTech('GET', '/flows/context/global/token');
    t.notMatch(token.text, new RegExp(sup.token().slice(0, 16)), 'the token was not read');
  });
});

t.test('without the flows user the flows do not run at all — never as root', async (t) => {
  const h = await startHarness({ flows: { user: 'vaktpost-no-such-user' } });
  t.teardown(() => h.close());
  const s = h.flows.status();
  t.equal(s.runtime.state, 'off', 'no Node-RED child was started');
  t.equal(h.flows.runtime.pid, null, 'no pid');
  t.notOk(s.runsAs.isolated, 'status says the child is not isolated');
  const alarm = h.events('flows.notIsolated')[0];
  t.equal(alarm?.severity, 'alarm', 'an alarm says why');
  t.match(alarm?.en ?? '', /useradd --system .* vaktpost-no-such-user/, 'and names the fix');
  t.match(alarm?.nb ?? '', /opprett brukeren/, 'in Norwegian too');
  const dep = await h.deployViaEditor(h.template('default'));
  t.equal(dep.status, 502, `a deploy finds no runtime to reach: ${dep.text.slice(0, 120)}`);
});
