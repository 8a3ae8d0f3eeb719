/**
 * Attack (issue #17, item 8): framing and content sniffing. The evidence report HTML, the
 * deviations HTML export and the Node-RED editor at /flows/ came without a CSP, without
 * frame-ancestors / X-Frame-Options and without nosniff: a page on another site could
 * frame the editor (clickjacking a deploy) or the report, and a stored text could be
 * sniffed into HTML. Now every response — every HTML page we serve or proxy, error
 * pages, 404s, JSON, CSV, assets — carries the headers (api/securityHeaders.ts), and
 * each page still works under its policy in a real Chromium: the UI shell and the report
 * with the strict policy, the Node-RED editor with its own, with no CSP violation.
 */
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { ensureUiBuilt, openBrowser } from '../e2e/helpers/browser.js';
import { startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../helpers/util.js';

const csp = (h: Headers) => h.get('content-security-policy') ?? '';

t.test('security headers on every response; every page still runs under its CSP', async (t) => {
  await ensureUiBuilt();
  const { dir, cleanup } = await scratchDir('sec-headers');
  t.teardown(cleanup);
  // Where the flows child runs as its own user (root test runs), it reaches its home
  // beside the data dir through this folder (as test/integration/flows/harness.ts does).
  chmodSync(dir, 0o711);
  const { file, port } = await writeSimConfig(dir, 'flows:\n  enabled: true\n');
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill());
  const auth = { authorization: `Bearer ${sup.token()}` };
  // The editor answers once the Node-RED child is up.
  await waitFor(async () => (await fetch(`${sup.url}/flows/`, { headers: auth })).status === 200 || null, {
    timeoutMs: 90_000,
    what: 'the Node-RED editor behind /flows/',
  });

  const month = new Date().toISOString().slice(0, 7);
  const html: Array<[string, Record<string, string>]> = [
    ['/', {}],
    ['/login', {}],
    ['/flows/', auth],
    [`/api/evidence/report?month=${month}&format=html`, auth],
    ['/api/deviations/export?format=html', auth],
  ];
  const other: Array<[string, Record<string, string>, number]> = [
    ['/healthz', {}, 200],
    ['/api/status', auth, 200],
    ['/api/status', {}, 401],
    ['/api/events?limit=nonsense', auth, 400],
    ['/no/such/page', auth, 404],
    ['/assets/no-such-asset.js', {}, 404],
    ['/metrics', auth, 200],
    ['/api/deviations/export?format=csv', auth, 200],
    ['/flows/settings', auth, 200],
    ['/flows/no-such-editor-path', auth, 404],
  ];

  await t.test('HTML pages: CSP with frame-ancestors none, DENY, nosniff, no-referrer', async (t) => {
    for (const [p, headers] of html) {
      const res = await fetch(sup.url + p, { headers });
      t.equal(res.status, 200, `${p} → 200`);
      t.match(res.headers.get('content-type') ?? '', /text\/html/, `${p} is HTML`);
      t.match(csp(res.headers), /frame-ancestors 'none'/, `${p}: CSP forbids framing`);
      t.match(csp(res.headers), /object-src 'none'/, `${p}: no plugins`);
      t.equal(res.headers.get('x-frame-options'), 'DENY', `${p}: X-Frame-Options`);
      t.equal(res.headers.get('x-content-type-options'), 'nosniff', `${p}: nosniff`);
      t.equal(res.headers.get('referrer-policy'), 'no-referrer', `${p}: Referrer-Policy`);
      if (!p.startsWith('/flows')) t.notMatch(csp(res.headers), /unsafe-inline|unsafe-eval/, `${p}: our pages run no inline code`);
    }
  });

  await t.test('the UI shell asset, JSON, CSV, errors and 404s: nosniff (and the rest)', async (t) => {
    const shell = await (await fetch(`${sup.url}/`)).text();
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(shell)?.[1];
    t.ok(asset, 'the shell loads a hashed script');
    for (const [p, headers, status] of [...other, [asset ?? '/assets/x.js', {}, 200] as [string, Record<string, string>, number]]) {
      const res = await fetch(sup.url + p, { headers });
      t.equal(res.status, status, `${p} → ${status}`);
      t.equal(res.headers.get('x-content-type-options'), 'nosniff', `${p}: nosniff`);
      t.equal(res.headers.get('x-frame-options'), 'DENY', `${p}: X-Frame-Options`);
      t.match(csp(res.headers), /frame-ancestors 'none'/, `${p}: CSP`);
      await res.arrayBuffer();
    }
  });

  await t.test('a policy Node-RED would send cannot loosen the editor: ours replaces it', async (t) => {
    const res = await fetch(`${sup.url}/flows/`, { headers: auth });
    t.equal(res.headers.get('content-security-policy')?.split(', ').length, 1, 'exactly one CSP header');
    t.notMatch(csp(res.headers), /frame-ancestors \*|https?:/, 'no other origin anywhere in it');
    t.equal(res.headers.get('access-control-allow-origin'), null, "Node-RED's `Access-Control-Allow-Origin: *` is not passed on");
    t.equal(res.headers.get('x-powered-by'), null, 'nor its X-Powered-By');
    t.match(await res.text(), /<title>Vaktpost · flyter<\/title>/, 'and the page itself still comes through whole');
  });

  await t.test('in Chromium: the UI, the report and the Node-RED editor run with no CSP violation', async (t) => {
    const b = await openBrowser();
    t.teardown(() => b.close());
    const violations: string[] = [];
    b.page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) violations.push(`${b.page.url()}: ${m.text()}`);
    });
    const password = readFileSync(path.join(sup.dataDir, 'initial-admin-password'), 'utf8').trim();

    await b.page.goto(`${sup.url}/`);
    await b.page.getByTestId('login-form').waitFor({ timeout: 30_000 });
    await b.page.fill('input[name=username]', 'admin');
    await b.page.fill('input[name=password]', password);
    await b.page.click('[data-testid=login-form] button[type=submit]');
    await b.page.getByTestId('who').waitFor({ timeout: 30_000 });
    t.pass('the UI logged in under the strict policy');

    await b.page.goto(`${sup.url}/api/evidence/report?month=${month}&format=html`);
    const collapse = await b.page
      .locator('table')
      .first()
      .evaluate((el) => el.ownerDocument.defaultView?.getComputedStyle(el).borderCollapse);
    t.equal(collapse, 'collapse', "the report's inline style applies (allowed by its hash)");

    await b.page.goto(`${sup.url}/flows/`);
    // The palette fills once the node definitions (inline scripts Node-RED inserts) have run.
    await b.page.locator('.red-ui-palette-node[data-palette-type="vaktpost route"]').waitFor({ timeout: 60_000 });
    await b.page.locator('.red-ui-palette-node[data-palette-type="function"]').waitFor({ timeout: 30_000 });
    t.pass('the Node-RED editor loaded its palette, with our nodes');
    t.same(violations, [], 'no CSP violation on any page');
    t.same(
      b.errors.filter((e) => !/favicon/.test(e)),
      [],
      'no script errors',
    );
  });
});
