/**
 * TLS with a generated certificate (api.tls): the box makes its own key and
 * self-signed certificate with the openssl CLI, keeps it (0600) and renews it
 * before expiry; the API then serves HTTPS, the session cookie is Secure, and the
 * live channel runs over WSS — checked with strict verification against that
 * certificate (no "ignore errors"), and the UI goes live in Chromium over HTTPS.
 */
import { X509Certificate } from 'node:crypto';
import { statSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import t from 'tap';
import { WebSocket } from 'ws';
import { Accounts, LoginThrottle } from '../../supervisor/src/api/auth.js';
import { buildApi } from '../../supervisor/src/api/server.js';
import { ensureSelfSignedCert } from '../../supervisor/src/api/tls.js';
import { defaultHealthRules } from '../../supervisor/src/core/health.js';
import { Drill } from '../../supervisor/src/jobs/drill.js';
import { silentLogger } from '../../supervisor/src/log.js';
import { systemClock } from '../../supervisor/src/monitors/monitor.js';
import { openDb } from '../../supervisor/src/store/db.js';
import { Store } from '../../supervisor/src/store/store.js';
import { Supervisor } from '../../supervisor/src/supervisor.js';
import { freePort, scratchDir } from '../helpers/util.js';
import { ensureUiBuilt, login, openBrowser } from './helpers/browser.js';

const PW = 'tls-admin-password-1';

function request(url: string, ca: Buffer | undefined, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const req = https.request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

t.test('generated certificate: created once, kept private, renewed before expiry', async (t) => {
  const { dir, cleanup } = await scratchDir('tls-cert');
  t.teardown(cleanup);
  const tlsDir = path.join(dir, 'tls');
  const a = ensureSelfSignedCert(tlsDir, { commonName: 'box-1', listen: '127.0.0.1' });
  t.equal(a.generated, true, 'generated on first start');
  t.equal(statSync(path.join(tlsDir, 'key.pem')).mode & 0o777, 0o600, 'the key is readable by its owner only');
  const x = new X509Certificate(a.cert);
  t.match(x.subject, /CN=box-1/);
  t.match(x.subjectAltName ?? '', /IP Address:127\.0\.0\.1/, 'valid for the loopback address');
  t.match(x.subjectAltName ?? '', /DNS:localhost/);
  t.ok(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(a.key)), 'key and certificate belong together');
  const b = ensureSelfSignedCert(tlsDir, { commonName: 'box-1', listen: '127.0.0.1' });
  t.equal(b.generated, false, 'kept across restarts');
  t.equal(b.fingerprint, a.fingerprint, 'same certificate (the fingerprint users compared stays valid)');
  const nearExpiry = Date.parse(x.validTo) - 10 * 24 * 3600_000;
  const c = ensureSelfSignedCert(tlsDir, { commonName: 'box-1', listen: '127.0.0.1', now: nearExpiry });
  t.equal(c.generated, true, 'renewed when it expires within 30 days');
  t.not(c.fingerprint, a.fingerprint);
});

t.test('HTTPS API, Secure session cookie, WSS live channel, UI live in Chromium', async (t) => {
  await ensureUiBuilt();
  const { dir, cleanup } = await scratchDir('tls-api');
  t.teardown(cleanup);
  const store = new Store(openDb(path.join(dir, 'vaktpost.db')));
  const accounts = new Accounts(store.db, systemClock.now);
  await accounts.ensureAdmin(PW);
  const supervisor = new Supervisor({
    box: 'tls-box',
    store,
    clock: systemClock,
    log: silentLogger(),
    monitors: [],
    reconcilers: [],
    policy: { monitored: ['power'], failoverOn: ['power'], failbackHoldMs: 60_000, holdDownMs: 0 },
    rules: defaultHealthRules,
    tickMs: 200,
  });
  const tls = ensureSelfSignedCert(path.join(dir, 'tls'), { commonName: 'tls-box', listen: '127.0.0.1' });
  const api = await buildApi({
    supervisor,
    store,
    accounts,
    throttle: new LoginThrottle(systemClock.now),
    sessionHours: 1,
    sim: null,
    drill: new Drill(supervisor, [], { now: systemClock.now, stepTimeoutMs: 1000 }),
    now: systemClock.now,
    tls,
  });
  await supervisor.start();
  const port = await freePort();
  await api.listen({ host: '127.0.0.1', port });
  t.teardown(async () => {
    await api.close();
    await supervisor.stop();
    store.close();
  });
  const url = `https://127.0.0.1:${port}`;

  t.equal((await request(`${url}/healthz`, tls.cert)).status, 200, 'HTTPS answers, verified against the generated certificate');
  await t.rejects(
    request(`${url}/healthz`, undefined),
    { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' },
    'a client that does not trust the certificate is refused (self-signed)',
  );
  const login1 = await request(`${url}/api/login`, tls.cert, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: PW }),
  });
  t.equal(login1.status, 200);
  const setCookie = String(login1.headers['set-cookie'] ?? '');
  t.match(setCookie, /; Secure/i, 'the session cookie is Secure over HTTPS');
  t.match(setCookie, /HttpOnly/i);
  t.match(setCookie, /SameSite=Strict/i);

  const cookie = setCookie.split(';')[0] ?? '';
  const snap = await new Promise<{ type: string; snapshot?: { box: string } }>((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/api/live`, { headers: { cookie }, ca: tls.cert });
    ws.once('message', (d) => {
      resolve(JSON.parse(String(d)));
      ws.close();
    });
    ws.once('error', reject);
  });
  t.equal(snap.type, 'snapshot', 'the live channel works over WSS');
  t.equal(snap.snapshot?.box, 'tls-box');

  const b = await openBrowser({ ignoreHTTPSErrors: true }); // self-signed: the operator accepts it once
  t.teardown(() => b.close());
  await login(b.page, url, 'admin', PW);
  await b.page.locator('[data-testid=conn][data-conn=live]').waitFor({ timeout: 30_000 });
  t.equal(await b.page.evaluate('location.protocol'), 'https:', 'the UI runs over HTTPS and goes live (wss:)');
  t.same(b.errors, [], 'no script errors');
});
