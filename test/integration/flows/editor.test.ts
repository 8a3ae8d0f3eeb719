/**
 * Acceptance (flows, 3): the Node-RED editor is served at /flows behind Vaktpost's
 * login and roles — unreachable without login (HTTP and its WebSocket), read-only for an
 * operator (who cannot deploy), changes for technicians — and the host's own WebSocket
 * (/api/live) keeps working next to the editor's.
 */
import t from 'tap';
import { startHarness } from './harness.js';

t.test('the editor at /flows is behind login and roles', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());

  await t.test('without login: HTTP and WebSocket refused', async (t) => {
    for (const p of ['/flows', '/flows/', '/flows/settings', '/flows/flows']) {
      const r = await h.http('GET', p, { token: null });
      t.equal(r.status, 401, `GET ${p} → 401`);
    }
    t.equal((await h.http('POST', '/flows/flows', { token: null, body: [] })).status, 401, 'deploy without login → 401');
    const ws = await h.wsConnect('/flows/comms', {});
    t.equal(ws.status, 401, 'editor WebSocket without login → 401');
    const bad = await h.wsConnect('/flows/comms', { authorization: 'Bearer not-a-session' });
    t.equal(bad.status, 401, 'with a made-up token → 401');
  });

  await t.test('operator: may look, may not deploy', async (t) => {
    const page = await h.http('GET', '/flows/', { token: h.tokens.operator });
    t.equal(page.status, 200, 'editor page');
    t.match(page.text, /<title>Vaktpost · flyter<\/title>/, 'our page title');
    // Node-RED's template escapes the slashes.
    const script = /src="(theme(?:\/|&#x2F;)scripts(?:\/|&#x2F;)vaktpost-editor\.js)"/.exec(page.text);
    t.ok(script, 'the Vaktpost editor script (CSRF header, dry-run button) is loaded');
    if (script) {
      const js = await h.http('GET', `/flows/${script[1]?.replaceAll('&#x2F;', '/')}`, { token: h.tokens.operator });
      t.equal(js.status, 200);
      t.match(js.text, /X-Vaktpost-CSRF/, 'it sets the CSRF header');
    }
    const flows = await h.http('GET', '/flows/flows', { token: h.tokens.operator, headers: { 'Node-RED-API-Version': 'v2' } });
    t.equal(flows.status, 200, 'may read the flows');
    const before = h.flows.status().version?.id;
    const dep = await h.deployViaEditor(h.template('analog-backup-lines'), h.tokens.operator);
    t.equal(dep.status, 403, `operator deploy refused: ${dep.text}`);
    t.equal(h.flows.status().version?.id, before, 'nothing recorded, nothing changed');
    const ws = await h.wsConnect('/flows/comms', { authorization: `Bearer ${h.tokens.operator}` });
    t.ok(ws.ok, 'operator may watch the editor socket (status, debug)');
    ws.ws?.close();
  });

  await t.test('technician: editor, WebSocket, deploy; flow-changing side doors closed', async (t) => {
    const ws = await h.wsConnect('/flows/comms', { authorization: `Bearer ${h.tokens.tech}` });
    t.ok(ws.ok, 'editor WebSocket proxied');
    ws.ws?.send(JSON.stringify({ subscribe: 'notification/#' }));
    const got = await ws.next(30_000);
    t.match(got, /notification\/runtime-state|runtime-state/, `Node-RED speaks through the proxy: ${got.slice(0, 120)}`);
    ws.ws?.close();

    const foreign = await h.wsConnect('/flows/comms', { authorization: `Bearer ${h.tokens.tech}`, origin: 'http://evil.example' });
    t.equal(foreign.status, 403, 'a page on another site cannot open the editor socket');

    const live = await h.wsConnect('/api/live', { authorization: `Bearer ${h.tokens.tech}` });
    t.ok(live.ok, "the supervisor's own socket still works beside the editor's");
    const snap = await live.next(30_000);
    t.match(snap, /"type":"snapshot"/);
    live.ws?.close();

    const dep = await h.deployViaEditor(h.template('analog-backup-lines'));
    t.equal(dep.status, 200, 'technician deploys');
    t.equal(h.store.events({ limit: 5, kind: 'flows.deployed' })[0]?.actor, 'tekniker', 'deploy recorded with who');

    const single = await h.http('POST', '/flows/flow', { body: { id: 'x', label: 'x', nodes: [] } });
    t.equal(single.status, 405, `single-flow API refused: ${single.text}`);
    const install = await h.http('POST', '/flows/nodes', { body: { module: 'node-red-contrib-anything' } });
    t.equal(install.status, 405, 'module install refused');

    const nodes = await h.http('GET', '/flows/nodes', { headers: { accept: 'application/json' } });
    t.equal(nodes.status, 200);
    const types = (nodes.json as Array<{ types: string[] }>).flatMap((s) => s.types);
    t.ok(types.includes('vaktpost route') && types.includes('vaktpost signal'), 'vaktpost nodes loaded');
    t.ok(types.includes('function'), 'function node available');
    t.notOk(types.includes('exec'), 'exec node excluded');
  });

  await t.test('browser session: state changes need the CSRF header the editor script adds', async (t) => {
    const cookie = `vaktpost_session=${h.tokens.tech}`;
    const without = await fetch(`${h.url}/flows/flows`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'Node-RED-API-Version': 'v2' },
      body: JSON.stringify({ flows: h.template('default') }),
    });
    t.equal(without.status, 403, 'cookie without X-Vaktpost-CSRF refused');
    const withHeader = await fetch(`${h.url}/flows/flows`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'X-Vaktpost-CSRF': '1' },
      body: JSON.stringify({ flows: h.template('default') }),
    });
    t.equal(withHeader.status, 200, 'with the header (as the editor sends it) accepted');
  });
});
