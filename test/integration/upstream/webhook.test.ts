// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` in plain strings is the config's own syntax, not a mistaken template literal.
/**
 * The upstream webhook actuator against a real HTTP server on loopback.
 */
import t from 'tap';
import { UpstreamWebhookSchema } from '../../../supervisor/src/config/upstream.js';
import { WebhookActuator } from '../../../supervisor/src/reconcilers/upstream/webhookActuator.js';
import { startRecorder } from './fixtures/upstreamServer.js';

const env = { VAKTPOST_UPSTREAM_TOKEN: 's3cr3t-token' };
const fixedNow = () => new Date('2025-01-31T02:15:00.000Z');

t.test('apply(backup) sends the rendered request with route, reason, box, time and the env secret', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  const cfg = UpstreamWebhookSchema.parse({
    url: `${srv.url}/v1/numbers/116117/route`,
    method: 'PUT',
    headers: { Authorization: 'Bearer ${env:VAKTPOST_UPSTREAM_TOKEN}' },
    bodyTemplate: '{"destination":"{{route}}","reason":"{{reason}}","box":"{{box}}","at":"{{at}}"}',
  });
  const act = new WebhookActuator(cfg, { box: 'lv-bodo-1', env, now: fixedNow, reason: () => 'strømbrudd: UPS "ups1" on battery\nlow' });
  t.teardown(() => act.close());

  t.equal(act.readsBack, false, 'no status URL: observe is not a read-back');
  t.equal(await act.observe(), 'unknown', 'nothing applied yet');
  await act.apply('backup');

  t.equal(srv.requests.length, 1, 'exactly one request per apply (retries are the reconciler’s job)');
  const r = srv.requests[0];
  t.ok(r);
  if (!r) return;
  t.equal(r.method, 'PUT');
  t.equal(r.path, '/v1/numbers/116117/route');
  t.equal(r.headers.authorization, 'Bearer s3cr3t-token', 'env var substituted into the header');
  t.match(r.headers['content-type'], /^application\/json/, 'JSON body without a declared type is sent as JSON');
  t.same(
    JSON.parse(r.body),
    {
      destination: 'backup',
      reason: 'strømbrudd: UPS "ups1" on battery\nlow',
      box: 'lv-bodo-1',
      at: '2025-01-31T02:15:00.000Z',
    },
    'quotes and newline in the reason are JSON-escaped; the body parses back to the exact values',
  );
  t.equal(await act.observe(), 'backup', 'observe echoes the last successful apply');

  await act.apply('local', 'manuell tilbakeføring av ola');
  t.same(JSON.parse(srv.requests[1]?.body ?? '{}').reason, 'manuell tilbakeføring av ola', 'explicit reason wins');
  t.same(JSON.parse(srv.requests[1]?.body ?? '{}').destination, 'local');
});

t.test('routeValues map our routes to the upstream’s names, and placeholders work in the URL', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  const cfg = UpstreamWebhookSchema.parse({
    url: `${srv.url}/route/{{route}}?box={{box}}`,
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    bodyTemplate: 'target={{route}}&why={{reason}}',
    routeValues: { local: '+4775000000', backup: '+4777000000' },
  });
  const act = new WebhookActuator(cfg, { box: 'box a/b', env, reason: () => 'WAN nede & strøm' });
  t.teardown(() => act.close());
  await act.apply('backup');
  const r = srv.requests[0];
  t.equal(r?.path, '/route/%2B4777000000?box=box%20a%2Fb', 'URL placeholders are percent-encoded');
  const form = new URLSearchParams(r?.body ?? '');
  t.equal(form.get('target'), '+4777000000');
  t.equal(form.get('why'), 'WAN nede & strøm', 'form body is form-encoded');
});

t.test('an HTTP 500 makes apply throw naming the URL, status and body; the route becomes unknown', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  const cfg = UpstreamWebhookSchema.parse({
    url: `${srv.url}/reroute?token=\${env:VAKTPOST_UPSTREAM_TOKEN}`,
    bodyTemplate: '{"route":"{{route}}"}',
  });
  const act = new WebhookActuator(cfg, { box: 'b1', env });
  t.teardown(() => act.close());

  await act.apply('backup');
  srv.answer = () => ({ status: 500, body: '{"error":"routing table locked by\n  maintenance"}' });
  const err = await act.apply('local').then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  t.ok(err, 'apply rejected');
  t.match(err?.message, /HTTP 500/);
  t.match(err?.message, `POST ${srv.url}/reroute?token=\${env:VAKTPOST_UPSTREAM_TOKEN}`, 'names method and URL');
  t.match(err?.message, /expected 2xx/);
  t.match(err?.message, 'routing table locked by maintenance', 'includes a one-line body snippet');
  t.notMatch(err?.message, 's3cr3t-token', 'the secret in the URL is not leaked into the message');
  t.equal(srv.requests.length, 2, 'one attempt, no hidden retry');
  t.equal(await act.observe(), 'unknown', 'after a failed apply the upstream route is unknown');
});

t.test('expectedStatuses replaces "any 2xx"', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  const cfg = UpstreamWebhookSchema.parse({ url: `${srv.url}/r`, bodyTemplate: '{}', expectedStatuses: [202] });
  const act = new WebhookActuator(cfg, { box: 'b1', env });
  t.teardown(() => act.close());
  await t.rejects(act.apply('backup'), /HTTP 200 \(expected 202\)/, '200 is not accepted when 202 is expected');
  srv.answer = () => ({ status: 202 });
  await act.apply('backup');
  t.equal(await act.observe(), 'backup');
});

t.test('a slow upstream makes apply throw at timeoutMs', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  srv.answer = () => ({ status: 200, delayMs: 5000 });
  const cfg = UpstreamWebhookSchema.parse({ url: `${srv.url}/slow`, bodyTemplate: '{}', timeoutMs: 300 });
  const act = new WebhookActuator(cfg, { box: 'b1', env });
  t.teardown(() => act.close());
  const t0 = performance.now();
  const err = await act.apply('backup').then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  const took = performance.now() - t0;
  t.match(err?.message, /no complete answer within 300 ms \(timeoutMs\)/);
  t.match(err?.message, `${srv.url}/slow`);
  // Not before the timeout; the upper bound (10×) is only a sanity bound — the message above
  // already says it was the timeout, not the 5 s answer, that ended it.
  t.ok(took >= 290 && took < 3000, `gave up after ${Math.round(took)} ms (timeout 300 ms)`);
});

t.test('a refused connection is named as such', async (t) => {
  const srv = await startRecorder();
  await srv.stop();
  const cfg = UpstreamWebhookSchema.parse({ url: `${srv.url}/r`, bodyTemplate: '{}' });
  const act = new WebhookActuator(cfg, { box: 'b1', env });
  t.teardown(() => act.close());
  await t.rejects(act.apply('backup'), /127\.0\.0\.1:\d+ refused the connection — is the upstream endpoint up/);
});

t.test('close() aborts an apply in flight', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  srv.answer = () => ({ status: 200, delayMs: 5000 });
  const cfg = UpstreamWebhookSchema.parse({ url: `${srv.url}/r`, bodyTemplate: '{}', timeoutMs: 10_000 });
  const act = new WebhookActuator(cfg, { box: 'b1', env });
  const arrived = new Promise<void>((resolve) => srv.onRequest(() => resolve()));
  const pending = act.apply('backup');
  await arrived;
  await act.close();
  // Without the abort the request would have ended with the server's 200 after 5 s: rejected
  // as aborted is the proof that close() cut it short (no stopwatch needed).
  await t.rejects(pending, /aborted/, 'the apply in flight is aborted, not left to finish');
  await t.rejects(act.apply('local'), /after close/);
});

t.test('observe() reads the route back from a status URL', async (t) => {
  const srv = await startRecorder();
  t.teardown(() => srv.stop());
  let upstreamRoute = 'primary';
  srv.answer = (r) =>
    r.path.startsWith('/status')
      ? { status: 200, contentType: 'application/json', body: JSON.stringify({ data: { routes: [{ target: upstreamRoute }] } }) }
      : { status: 204 };
  const cfg = UpstreamWebhookSchema.parse({
    url: `${srv.url}/reroute`,
    headers: { 'X-Api-Key': '${env:VAKTPOST_UPSTREAM_TOKEN}' },
    bodyTemplate: '{"target":"{{route}}"}',
    routeValues: { local: 'primary', backup: 'secondary' },
    status: { url: `${srv.url}/status?box={{box}}`, jsonField: 'data.routes.0.target' },
  });
  const act = new WebhookActuator(cfg, { box: 'b1', env });
  t.teardown(() => act.close());
  t.equal(act.readsBack, true);

  t.equal(await act.observe(), 'local', 'read back "primary" → local');
  const statusReq = srv.requests.find((r) => r.path.startsWith('/status'));
  t.equal(statusReq?.method, 'GET');
  t.equal(statusReq?.path, '/status?box=b1');
  t.equal(statusReq?.headers['x-api-key'], 's3cr3t-token', 'status read inherits the webhook’s headers');
  t.equal(statusReq?.headers['content-type'], undefined, 'but not its Content-Type');

  // Someone changes the route upstream behind our back: drift is visible.
  await act.apply('local');
  upstreamRoute = 'secondary';
  t.equal(await act.observe(), 'backup', 'drift made upstream is seen');

  upstreamRoute = 'tertiary';
  t.equal(await act.observe(), 'unknown', 'an unmapped value is unknown, never guessed');
  t.match(act.lastObserveError, /"tertiary", neither routeValues\.local \("primary"\) nor routeValues\.backup \("secondary"\)/);

  srv.answer = () => ({ status: 200, body: 'not json' });
  t.equal(await act.observe(), 'unknown');
  t.match(act.lastObserveError, /answer is not JSON — body: not json/);

  srv.answer = () => ({ status: 200, body: '{"data":{}}' });
  t.equal(await act.observe(), 'unknown');
  t.match(act.lastObserveError, /no field "data\.routes\.0\.target"/);

  srv.answer = () => ({ status: 503, body: 'down for maintenance' });
  t.equal(await act.observe(), 'unknown');
  t.match(act.lastObserveError, /HTTP 503.*down for maintenance/);

  upstreamRoute = 'secondary';
  srv.answer = () => ({ status: 200, body: JSON.stringify({ data: { routes: [{ target: upstreamRoute }] } }) });
  t.equal(await act.observe(), 'backup');
  t.equal(act.lastObserveError, undefined, 'error cleared after a good read');
});
