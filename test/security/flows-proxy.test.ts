/**
 * Security (#17, item 2): no flow deploy leaves no trace.
 *
 * The editor proxy compared paths as strings, but Node-RED's router matches them case-
 * insensitively and ignores doubled slashes: `POST /flows/FLOWS` or `/flows//flows` was a
 * full deploy with no version and no event (and it vanished at the next restart, when the
 * store's version is written back). The attack, as a technician through the real API and
 * a real Node-RED child: deploy a marked configuration on every spelling of the deploy,
 * single-flow, module and runtime-state paths. Each must be refused, or be recorded
 * exactly like the canonical deploy; the running flows must never carry the mark without
 * a version that does.
 */
import http from 'node:http';
import t from 'tap';
import { startHarness } from '../integration/flows/harness.js';

/** A request with the path exactly as written: fetch() would resolve `.` and `..` and %-escapes. */
function rawRequest(url: string, method: string, rawPath: string, headers: Record<string, string>, body: string): Promise<{ status: number; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, method, path: rawPath, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

t.test('every spelling of a flow change is refused or versioned like the canonical deploy', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const base = h.template('default');
  const headers = {
    authorization: `Bearer ${h.tokens.tech}`,
    'content-type': 'application/json',
    'Node-RED-API-Version': 'v2',
    'Node-RED-Deployment-Type': 'full',
  };
  /** The running configuration as Node-RED has it (canonical read). */
  const running = async () => {
    const r = await h.http('GET', '/flows/flows', { headers: { 'Node-RED-API-Version': 'v2' } });
    return JSON.stringify((r.json as { flows: unknown[] }).flows);
  };

  const variants: Array<{ method: string; path: string; body: (mark: string) => unknown }> = [];
  const full = (mark: string) => ({ flows: [...base, { id: `mark${mark}`, type: 'tab', label: mark }] });
  for (const p of [
    '/flows/FLOWS',
    '/flows/Flows',
    '/flows//flows',
    '/flows/./flows',
    '/flows/%66lows',
    '/flows/%2e/flows',
    '/flows/x/../flows',
    '/flows/flows/',
    '/flows/flows;',
    '/flows/flows%2f',
  ])
    variants.push({ method: 'POST', path: p, body: full });
  const single = (mark: string) => ({ id: `mark${mark}`, label: mark, nodes: [] });
  for (const p of ['/flows/FLOW', '/flows//flow', '/flows/Flow', '/flows/./flow', '/flows/%66low']) variants.push({ method: 'POST', path: p, body: single });
  for (const p of ['/flows/FLOW/markx', '/flows//flow/markx']) {
    variants.push({ method: 'PUT', path: p, body: single });
    variants.push({ method: 'DELETE', path: p, body: () => ({}) });
  }
  for (const p of ['/flows/NODES', '/flows//nodes']) variants.push({ method: 'POST', path: p, body: () => ({ module: 'node-red-contrib-anything' }) });
  for (const p of ['/flows/flows/STATE', '/flows//flows/state', '/flows/FLOWS/state'])
    variants.push({ method: 'POST', path: p, body: () => ({ state: 'stop' }) });

  let n = 0;
  for (const v of variants) {
    const mark = `m${++n}`;
    const versionsBefore = h.flows.versions(500).length;
    const eventsBefore = h.events('flows.deployed').length;
    const r = await rawRequest(h.url, v.method, v.path, headers, JSON.stringify(v.body(mark)));
    const now = await running();
    const recorded = h.flows.versions(500).length > versionsBefore;
    if (r.status >= 200 && r.status < 300) {
      // Allowed only as the canonical deploy is: a new version with the mark, and its event.
      t.ok(recorded, `${v.method} ${v.path} → ${r.status}: recorded as a version`);
      t.equal(h.events('flows.deployed').length, eventsBefore + 1, `${v.method} ${v.path}: a flows.deployed event`);
      t.match(JSON.stringify(h.flows.store.current()?.flows), mark, 'the version is what runs');
    } else {
      t.ok([403, 404, 405].includes(r.status), `${v.method} ${v.path} refused: ${r.status} ${r.text.slice(0, 160)}`);
      t.notOk(recorded, 'no version');
      t.equal(h.events('flows.deployed').length, eventsBefore, 'no event');
    }
    t.equal(
      now.includes(`mark${mark}`) || now.includes(`"${mark}"`),
      recorded,
      `${v.method} ${v.path}: Node-RED runs the mark only with a version that has it`,
    );
    t.equal(h.flows.status().runtime.state, 'running', 'the flows still run (no runtime stop slipped through)');
  }

  await t.test('the canonical editor paths still work', async (t) => {
    const before = h.flows.versions(500).length;
    const r = await rawRequest(h.url, 'POST', '/flows/flows', headers, JSON.stringify(full('canon')));
    t.equal(r.status, 200, 'the canonical deploy');
    t.equal(h.flows.versions(500).length, before + 1, 'versioned');
    t.match(await running(), 'markcanon');
    const debug = await rawRequest(h.url, 'POST', '/flows/debug/disable', headers, JSON.stringify({ nodes: [] }));
    t.not(debug.status, 404, `the debug toggle passes (${debug.status})`);
    const settings = await rawRequest(h.url, 'POST', '/flows/settings/user', headers, JSON.stringify({ editor: { view: {} } }));
    t.equal(settings.status, 204, 'user settings are saved');
  });
});
