// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` in plain strings is the config's own syntax, not a mistaken template literal.
/**
 * The upstream config schema: defaults, strictness, and messages for the
 * mistakes people make.
 */
import t from 'tap';
import { UpstreamConfigSchema, UpstreamHeartbeatSchema, UpstreamWebhookSchema } from '../../../supervisor/src/config/upstream.js';
import { readJsonPath } from '../../../supervisor/src/reconcilers/upstream/webhookActuator.js';

t.test('defaults', async (t) => {
  t.same(UpstreamConfigSchema.parse({}), {}, 'both parts are optional');
  const w = UpstreamWebhookSchema.parse({ url: 'https://api.example.no/reroute' });
  t.same(w, {
    url: 'https://api.example.no/reroute',
    method: 'POST',
    headers: {},
    timeoutMs: 5000,
    tls: { rejectUnauthorized: true },
    routeValues: { local: 'local', backup: 'backup' },
  });
  const h = UpstreamHeartbeatSchema.parse({ url: 'http://10.0.0.1:8080/hb', tls: {} });
  t.equal(h.intervalS, 10);
  t.equal(h.tls.rejectUnauthorized, true, 'certificate checking on unless switched off');
});

t.test('rejects what would fail later', async (t) => {
  const issues = (v: unknown) => {
    const r = UpstreamConfigSchema.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };
  t.match(issues({ webhook: { url: 'ftp://x/y' } }), [/webhook\.url: expected an absolute http:\/\/ or https:\/\/ URL/]);
  t.match(issues({ webhook: { url: '/relative' } }), [/webhook\.url: expected an absolute/]);
  t.match(issues({ webhook: { url: 'https://x', retries: 3 } }), [/Unrecognized key.*retries/], 'strict: unknown keys rejected');
  t.match(issues({ webhook: { url: 'https://x', tls: { ca: 'x' } } }), [/webhook\.tls.*Unrecognized key/]);
  t.match(issues({ heartbeat: { url: 'https://x', method: 'GET', bodyTemplate: '{}' } }), [/heartbeat\.bodyTemplate: a GET request cannot carry bodyTemplate/]);
  t.match(issues({ webhook: { url: 'https://x', method: 'FETCH' } }), [/webhook\.method/]);
  t.match(issues({ webhook: { url: 'https://x', headers: { 'Bad Header': 'v' } } }), [/not a valid HTTP header name/]);
  t.match(issues({ webhook: { url: 'https://x', routeValues: { local: 'a', backup: 'a' } } }), [/must differ/]);
  t.match(issues({ webhook: { url: 'https://x', timeoutMs: 0 } }), [/webhook\.timeoutMs/]);
  t.match(issues({ webhook: { url: 'https://x', expectedStatuses: [] } }), [/webhook\.expectedStatuses/]);
  t.match(issues({ webhook: { url: 'https://x', status: { url: 'https://x/s' } } }), [/webhook\.status\.jsonField/]);
  t.match(issues({ heartbeat: { url: 'https://x', intervalS: 0 } }), [/heartbeat\.intervalS/]);
  t.same(issues({ webhook: { url: 'https://x/{{route}}?t=${env:T}' } }), [], 'placeholders and env refs are allowed in the URL');
});

t.test('readJsonPath', async (t) => {
  const doc = { data: { routes: [{ target: 'primary' }], n: 0, nil: null } };
  t.equal(readJsonPath(doc, 'data.routes.0.target'), 'primary');
  t.equal(readJsonPath(doc, 'data.n'), 0);
  t.equal(readJsonPath(doc, 'data.nil'), null);
  t.equal(readJsonPath(doc, 'data.routes.1.target'), undefined);
  t.equal(readJsonPath(doc, 'data.routes.x'), undefined);
  t.equal(readJsonPath(doc, 'data.missing.deeper'), undefined);
  t.equal(readJsonPath(doc, 'data.constructor'), undefined, 'no prototype properties');
  t.equal(readJsonPath('str', 'length'), undefined);
});
