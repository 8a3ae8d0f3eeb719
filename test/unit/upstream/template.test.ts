// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${env:NAME}` in plain strings is the config's own syntax, not a mistaken template literal.
/**
 * Request templating: escaping for each context, env-var substitution and the
 * errors a misconfigured template gives at start-up.
 */
import fc from 'fast-check';
import t from 'tap';
import { UpstreamWebhookSchema } from '../../../supervisor/src/config/upstream.js';
import { RequestTemplate } from '../../../supervisor/src/reconcilers/upstream/requestTemplate.js';
import { compileTemplate, contextForContentType, escapeFor, resolveEnvRefs } from '../../../supervisor/src/reconcilers/upstream/template.js';

const PH = ['route', 'reason', 'box', 'at', 'seq'] as const;
const values = { route: 'backup', reason: 'r', box: 'b1', at: '2025-01-01T00:00:00.000Z', seq: 7 };

t.test('placeholders are substituted; whitespace inside braces is allowed', async (t) => {
  const tpl = compileTemplate('to={{route}} box={{ box }} n={{seq}}', { what: 'x', placeholders: PH, context: 'text', env: {} });
  t.equal(tpl.render(values), 'to=backup box=b1 n=7');
});

t.test('JSON context: any string round-trips through the rendered body', async (t) => {
  const tpl = compileTemplate('{"reason":"{{reason}}","seq":{{seq}}}', { what: 'x', placeholders: PH, context: 'json', env: {} });
  const nasty = 'strøm "borte"\\ \n\t\u0000 </script> \u2028 😀';
  t.same(JSON.parse(tpl.render({ ...values, reason: nasty })), { reason: nasty, seq: 7 });
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const out = JSON.parse(tpl.render({ ...values, reason: s })) as { reason: string };
      return out.reason === s;
    }),
    { numRuns: 500 },
  );
  t.pass('500 random strings (incl. lone surrogates) round-tripped');
});

t.test('URL, form and header contexts escape what would break them', async (t) => {
  t.equal(escapeFor('url', 'a/b?c=d&e f'), 'a%2Fb%3Fc%3Dd%26e%20f');
  t.equal(escapeFor('form', 'a&b=c d'), 'a%26b%3Dc+d');
  t.equal(new URLSearchParams(`x=${escapeFor('form', 'WAN nede & strøm + 1')}`).get('x'), 'WAN nede & strøm + 1');
  t.equal(escapeFor('header', 'line1\r\nX-Injected: 1'), 'line1  X-Injected: 1', 'no header injection via CR/LF');
  t.equal(escapeFor('header', 'strømbrudd'), 'str%C3%B8mbrudd', 'non-ASCII is percent-encoded, not sent as latin1');
  t.equal(escapeFor('text', 'a"b\n'), 'a"b\n');
});

t.test('env references are substituted, escaped for their context, and shown unexpanded by display()', async (t) => {
  const env = { TOKEN: 'a"b&c' };
  const json = compileTemplate('{"k":"${env:TOKEN}"}', { what: 'x', placeholders: PH, context: 'json', env });
  t.same(JSON.parse(json.render(values)), { k: 'a"b&c' });
  const url = compileTemplate('https://h/p?token=${env:TOKEN}&r={{route}}', { what: 'x', placeholders: PH, context: 'url', env });
  t.equal(url.render(values), 'https://h/p?token=a%22b%26c&r=backup');
  t.equal(url.display(values), 'https://h/p?token=${env:TOKEN}&r=backup', 'secrets stay out of logs');
  t.equal(resolveEnvRefs('/etc/${env:D}/ca.pem', 'f', { D: 'vaktpost' }), '/etc/vaktpost/ca.pem');
});

t.test('a missing env var is a clear start-up error naming the variable, the place and the fix', async (t) => {
  const mk = (src: string, env: Record<string, string | undefined>, context: 'header' | 'json' = 'header') =>
    compileTemplate(src, { what: 'upstream.webhook.headers.Authorization', placeholders: PH, context, env });
  t.throws(() => mk('Bearer ${env:VAKTPOST_UPSTREAM_TOKEN}', {}), {
    message:
      "upstream.webhook.headers.Authorization references ${env:VAKTPOST_UPSTREAM_TOKEN}, but VAKTPOST_UPSTREAM_TOKEN is not set in the supervisor's environment — set it (e.g. in the systemd unit's EnvironmentFile) or remove the reference",
  });
  t.throws(() => mk('Bearer ${env:T}', { T: '' }), /T is empty in the supervisor's environment/);
  t.throws(() => mk('${env:1BAD-NAME}', {}), /\$\{env:1BAD-NAME\} is not a valid environment variable name/);
  t.throws(() => mk('Bearer ${env:T}', { T: 'abc\n' }), /environment variable T contains a line break — strip the trailing newline/);
  t.doesNotThrow(() => mk('{"a":"${env:T}"}', { T: 'abc\n' }, 'json'), 'a newline is fine (escaped) in a JSON body');
  t.throws(() => resolveEnvRefs('${env:NOPE}/ca.pem', 'upstream.webhook.tls.caFile', {}), /tls\.caFile references \$\{env:NOPE\}/);
});

t.test('an unknown placeholder is an error listing the allowed ones', async (t) => {
  t.throws(() => compileTemplate('{"r":"{{rout}}"}', { what: 'upstream.webhook.bodyTemplate', placeholders: ['route', 'reason'], context: 'json', env: {} }), {
    message: 'upstream.webhook.bodyTemplate: unknown placeholder {{rout}} — allowed here: {{route}}, {{reason}}',
  });
});

t.test('content type decides the body context', async (t) => {
  t.equal(contextForContentType('application/json'), 'json');
  t.equal(contextForContentType('Application/JSON; charset=utf-8'), 'json');
  t.equal(contextForContentType('application/vnd.carrier+json'), 'json');
  t.equal(contextForContentType('application/x-www-form-urlencoded'), 'form');
  t.equal(contextForContentType('text/plain'), 'text');
  t.equal(contextForContentType(undefined), 'text');
});

t.test('RequestTemplate checks the whole request at start-up', async (t) => {
  const base = { url: 'https://api.example.no/r' };
  const opts = { what: 'upstream.webhook', placeholders: PH, sample: values, env: { TOKEN: 'tok' } };

  const ok = new RequestTemplate(UpstreamWebhookSchema.parse({ ...base, bodyTemplate: '{"r":"{{route}}"}' }), opts);
  const r = ok.render(values);
  t.equal(r.headers['Content-Type'], 'application/json', 'a body without a type is declared JSON');
  t.equal(r.body?.toString(), '{"r":"backup"}');
  t.equal(r.method, 'POST', 'POST by default');
  t.equal(r.timeoutMs, 5000, 'timeout default 5 s');
  t.equal(r.tls.rejectUnauthorized, true);

  t.throws(
    () => new RequestTemplate(UpstreamWebhookSchema.parse({ ...base, bodyTemplate: '{"r":{{route}}}' }), opts),
    /upstream\.webhook\.bodyTemplate is not valid JSON once rendered .* put quotes around string placeholders/,
    'an unquoted string placeholder is caught before the first failover',
  );
  t.doesNotThrow(
    () => new RequestTemplate(UpstreamWebhookSchema.parse({ ...base, headers: { 'Content-Type': 'text/plain' }, bodyTemplate: 'route {{route}}' }), opts),
    'a declared non-JSON body is not JSON-checked',
  );
  const tpl = new RequestTemplate(UpstreamWebhookSchema.parse({ ...base, headers: { 'content-type': 'application/json' }, bodyTemplate: '{}' }), opts);
  t.same(Object.keys(tpl.render(values).headers), ['content-type'], 'a declared content-type is not duplicated');
  t.throws(
    () => new RequestTemplate(UpstreamWebhookSchema.parse({ url: 'https://h/${env:NOPE}' }), opts),
    /upstream\.webhook\.url references \$\{env:NOPE\}, but NOPE is not set/,
  );
});
