/**
 * The operator's headline at the edges (issue 15), in Chromium against the real
 * supervisor: when no centre answers, the headline is its own critical state ("NO CENTRE
 * ANSWERS", with what to do) — never a normal-looking "BACKUP CENTRE"; and with the call
 * router (a real Kamailio address with nothing behind it) dead at boot, an alarm is raised
 * at once and the headline says calls cannot reach the local centre.
 */
import t from 'tap';
import { writeCallsConfig } from '../helpers/supervisorCallLab.js';
import { startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { freePort, scratchDir, waitFor } from '../helpers/util.js';
import { ensureUiBuilt, login, openBrowser } from './helpers/browser.js';

const ADMIN_PW = 'e2e-admin-password-1';

t.test('no centre answers: the critical headline, in Norwegian and English', async (t) => {
  await ensureUiBuilt();
  const { dir, cleanup } = await scratchDir('e2e-headline');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir, '', { holdDownS: 0 });
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW });
  t.teardown(() => sup.kill('SIGKILL'));
  const b = await openBrowser();
  t.teardown(() => b.close());
  const page = b.page;
  await login(page, sup.url, 'admin', ADMIN_PW);
  await page.locator('[data-testid=route][data-callpath=local]').waitFor({ timeout: 30_000 });
  t.equal(await page.getByTestId('route-critical').count(), 0, 'no critical box while the local centre answers');

  await sup.api('POST', '/api/sim/fault', { fault: 'local-centre-down' });
  await sup.api('POST', '/api/sim/fault', { fault: 'backup-centre-down' });
  await page.locator('[data-testid=route][data-callpath=announcement]').waitFor({ timeout: 30_000 });
  t.equal(await page.getByTestId('route').getAttribute('data-route'), 'backup', 'calls are routed to backup (the safety floor)');
  t.match(await page.getByTestId('route-text').textContent(), /NO CENTRE ANSWERS/, 'but the headline says no centre answers');
  t.match(await page.getByTestId('route-critical').textContent(), /call 113 if it is acute.*What to do/s, 'what callers hear, and what to do');

  await page.getByTestId('lang').click();
  await page.waitForFunction("document.documentElement.lang === 'nb'", undefined, { timeout: 30_000 });
  t.match(await page.getByTestId('route-text').textContent(), /INGEN SENTRAL SVARER/, 'in Norwegian: INGEN SENTRAL SVARER');
  t.match(await page.getByTestId('route-critical').textContent(), /ringe 113.*Gjør dette/s, 'with what to do, in Norwegian');

  await sup.api('POST', '/api/sim/fault', { fault: 'centres-restored' });
  await page.locator('[data-testid=route][data-callpath=backup]').waitFor({ timeout: 30_000 });
  t.equal(await page.getByTestId('route-critical').count(), 0, 'the critical state clears when a centre answers again');
});

t.test('Kamailio dead at boot: an alarm at once and a headline that says calls cannot reach the local centre', async (t) => {
  const { dir, cleanup } = await scratchDir('e2e-norouter');
  t.teardown(cleanup);
  // A Kamailio configuration whose JSON-RPC port has nothing behind it: dead at boot.
  const [sipPort, rpcPort] = [await freePort(), await freePort()];
  const { file, port } = await writeCallsConfig(dir, {
    name: 'norouter',
    kam: { sipPort, rpcPort },
    centres: { local: 'sip:local@127.0.0.1:5999', backup: 'sip:backup@127.0.0.1:5998', announcement: 'sip:ann@127.0.0.1:5997' },
  });
  const t0 = performance.now();
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW });
  t.teardown(() => sup.kill('SIGKILL'));
  const alarm = await waitFor(
    async () => {
      const r = await sup.api<{ alarms: Array<{ kind: string; subsystem: string | null; en: string }> }>('GET', '/api/alarms?state=open');
      return r.json.alarms.find((a) => a.subsystem === 'telephony' && a.kind === 'subsystem.status');
    },
    { timeoutMs: 30_000, what: 'a telephony alarm' },
  );
  t.match(alarm.en, /failed at start/, `an alarm: "${alarm.en}"`);
  t.comment(`telephony alarm ${Math.round(performance.now() - t0)} ms after spawn`);
  const st = await sup.api<{ callPath: { path: string; critical: boolean } }>('GET', '/api/status');
  t.same(
    st.json.callPath && { path: st.json.callPath.path, critical: st.json.callPath.critical },
    { path: 'noRouter', critical: true },
    'the headline state is noRouter',
  );
});
