// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` in plain strings is the config's own syntax, not a mistaken template literal.
/**
 * HTTPS to the upstream: a real TLS server on loopback with a throw-away CA
 * made by the openssl CLI at test time.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { UpstreamHeartbeatSchema, UpstreamWebhookSchema } from '../../../supervisor/src/config/upstream.js';
import { Heartbeat } from '../../../supervisor/src/reconcilers/upstream/heartbeat.js';
import { WebhookActuator } from '../../../supervisor/src/reconcilers/upstream/webhookActuator.js';
import { scratchDir, waitFor } from '../../helpers/util.js';
import { makeTestCa, startRecorder } from './fixtures/upstreamServer.js';

const scratch = await scratchDir('upstream-tls');
t.teardown(scratch.cleanup);
const ca = await makeTestCa(scratch.dir);
const srv = await startRecorder({ tls: ca });
t.teardown(() => srv.stop());

t.test('with the test CA in tls.caFile the webhook succeeds over HTTPS', async (t) => {
  const cfg = UpstreamWebhookSchema.parse({
    url: `${srv.url}/reroute`,
    bodyTemplate: '{"route":"{{route}}","reason":"{{reason}}"}',
    tls: { caFile: ca.caFile },
  });
  const act = new WebhookActuator(cfg, { box: 'b1', reason: () => 'test' });
  t.teardown(() => act.close());
  const before = srv.requests.length;
  await act.apply('backup');
  t.equal(srv.requests.length, before + 1);
  t.same(JSON.parse(srv.requests.at(-1)?.body ?? '{}'), { route: 'backup', reason: 'test' });
});

t.test('the CA file may be named through an env var', async (t) => {
  const cfg = UpstreamWebhookSchema.parse({
    url: `${srv.url}/reroute`,
    bodyTemplate: '{}',
    tls: { caFile: '${env:VAKTPOST_UPSTREAM_CA}' },
  });
  const act = new WebhookActuator(cfg, { box: 'b1', env: { VAKTPOST_UPSTREAM_CA: ca.caFile } });
  t.teardown(() => act.close());
  await act.apply('local');
  t.equal(await act.observe(), 'local');
});

t.test('without the CA the certificate is rejected with a message that says what to set', async (t) => {
  const cfg = UpstreamWebhookSchema.parse({ url: `${srv.url}/reroute`, bodyTemplate: '{}' });
  t.equal(cfg.tls.rejectUnauthorized, true, 'verification is on by default');
  const act = new WebhookActuator(cfg, { box: 'b1' });
  t.teardown(() => act.close());
  const before = srv.requests.length;
  const err = await act.apply('backup').then(
    () => undefined,
    (e: unknown) => e as Error & { kind?: string },
  );
  t.equal(err?.kind, 'tls');
  t.match(err?.message, /TLS certificate of 127\.0\.0\.1:\d+ is not trusted/);
  t.match(err?.message, /set tls\.caFile to the CA that signed the upstream's certificate/);
  t.match(err?.message, `${srv.url}/reroute`);
  t.equal(srv.requests.length, before, 'no request reached the server');
});

t.test('a CA file that did not sign the server certificate is rejected and named', async (t) => {
  const dir = path.join(scratch.dir, 'other');
  await mkdir(dir);
  const other = await makeTestCa(dir);
  const cfg = UpstreamWebhookSchema.parse({ url: `${srv.url}/reroute`, bodyTemplate: '{}', tls: { caFile: other.caFile } });
  const act = new WebhookActuator(cfg, { box: 'b1' });
  t.teardown(() => act.close());
  await t.rejects(act.apply('backup'), { message: new RegExp(`check that tls\\.caFile \\(${other.caFile}\\) holds the CA`) });
});

t.test('rejectUnauthorized: false (lab only) accepts the unknown certificate', async (t) => {
  const cfg = UpstreamWebhookSchema.parse({ url: `${srv.url}/reroute`, bodyTemplate: '{}', tls: { rejectUnauthorized: false } });
  const act = new WebhookActuator(cfg, { box: 'b1' });
  t.teardown(() => act.close());
  await act.apply('backup');
  t.equal(act.lastApplied, 'backup');
});

t.test('a missing or non-PEM CA file fails at construction, not at the first failover', async (t) => {
  const missing = path.join(scratch.dir, 'nope.pem');
  t.throws(() => new WebhookActuator(UpstreamWebhookSchema.parse({ url: srv.url, tls: { caFile: missing } }), { box: 'b1' }), {
    message: new RegExp(`upstream\\.webhook\\.tls\\.caFile ${missing} cannot be read \\(ENOENT\\)`),
  });
  const junk = path.join(scratch.dir, 'junk.pem');
  await writeFile(junk, 'hello');
  t.throws(() => new WebhookActuator(UpstreamWebhookSchema.parse({ url: srv.url, tls: { caFile: junk } }), { box: 'b1' }), /holds no PEM certificate/);
});

t.test('https:// to a plain-HTTP port says the port does not speak HTTPS', async (t) => {
  const plain = await startRecorder();
  t.teardown(() => plain.stop());
  const cfg = UpstreamWebhookSchema.parse({ url: `https://127.0.0.1:${plain.port}/r`, bodyTemplate: '{}' });
  const act = new WebhookActuator(cfg, { box: 'b1' });
  t.teardown(() => act.close());
  await t.rejects(act.apply('backup'), /does the port speak HTTPS\?/);
});

t.test('the heartbeat works over HTTPS with the test CA', async (t) => {
  const cfg = UpstreamHeartbeatSchema.parse({
    url: `${srv.url}/hb`,
    bodyTemplate: '{"seq":{{seq}}}',
    intervalS: 0.2,
    tls: { caFile: ca.caFile },
  });
  const hb = new Heartbeat(cfg, { box: 'b1', route: () => 'local' });
  t.teardown(() => hb.stop());
  hb.start();
  const st = await waitFor(() => (hb.status().okCount >= 2 ? hb.status() : undefined), { timeoutMs: 30_000, what: '2 TLS heartbeats' });
  t.equal(st.failCount, 0, st.lastError ?? 'no failures');
  t.ok(srv.requests.some((r) => r.path === '/hb'));
});
