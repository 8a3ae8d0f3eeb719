/**
 * Captures the README screenshots (docs/screenshots/*.png) from the real supervisor on
 * the simulated box, in Debian's Chromium. The simulated WAN RTT, clock offset and UPS
 * charge are walked through /api/sim/state for a while first, so the history charts
 * show real samples taken by the real monitors.
 *
 *   npx tsx test/e2e/screenshots.ts        (~2.5 min)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { scratchDir } from '../helpers/util.js';
import { ensureUiBuilt, login, openBrowser, ROOT } from './helpers/browser.js';

const PW = 'screenshot-admin-pw-1';
const OUT = path.join(ROOT, 'docs/screenshots');
const WALK_S = Number(process.env.SCREENSHOT_WALK_S ?? 120);
mkdirSync(OUT, { recursive: true });

await ensureUiBuilt();
const { dir, cleanup } = await scratchDir('screenshots');
const { file, port } = await writeSimConfig(dir, '', { failbackHoldS: 600, holdDownS: 0 });
writeFileSync(file, readFileSync(file, 'utf8').replace('name: test-box', 'name: legevakt-demo'));
const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: PW });
const b = await openBrowser({ lang: 'nb-NO' });
try {
  await sup.api('POST', '/api/users', { username: 'kari.operator', password: 'operator-password-1', role: 'operator' });
  let rtt1 = 18;
  let rtt2 = 25;
  let offset = 0.002;
  let charge = 100;
  for (let i = 0; i < WALK_S * 2; i++) {
    rtt1 = Math.max(8, Math.min(60, rtt1 + (Math.random() - 0.5) * 6));
    rtt2 = Math.max(12, Math.min(80, rtt2 + (Math.random() - 0.5) * 8));
    offset = Math.max(-0.02, Math.min(0.02, offset + (Math.random() - 0.5) * 0.003));
    if (i > WALK_S) charge = Math.max(40, charge - 0.4);
    await sup.api('POST', '/api/sim/state', {
      links: { wan1: { rttMs: Math.round(rtt1) }, wan2: { rttMs: Math.round(rtt2), lossPct: i % 40 < 3 ? 4 : 0 } },
      clock: { offsetS: Number(offset.toFixed(4)) },
      ups: { ups1: { charge: Math.round(charge), status: i > WALK_S ? 'OB' : 'OL' } },
      mainsPresent: i <= WALK_S,
    });
    await new Promise((r) => setTimeout(r, 500));
  }
  await sup.api('POST', '/api/sim/fault', { fault: 'power-restored' });
  const page = b.page;
  await login(page, sup.url, 'kari.operator', 'operator-password-1');
  await page.locator('[data-testid=route][data-route=local]').waitFor({ timeout: 10_000 });
  await page.screenshot({ path: path.join(OUT, 'operator-local.png') });
  await sup.api('POST', '/api/sim/fault', { fault: 'wan-down' });
  await page.locator('[data-testid=route][data-route=backup]').waitFor({ timeout: 10_000 });
  await page.getByTestId('alarm').first().waitFor();
  await page.screenshot({ path: path.join(OUT, 'operator-backup.png') });

  await page.getByTestId('logout').click();
  await login(page, sup.url, 'admin', PW);
  await page.getByTestId('lang').click(); // technician view in English, to show both languages
  await page.evaluate("location.hash = '#/technician/overview'");
  await page.getByTestId('sub-power').waitFor();
  await page.screenshot({ path: path.join(OUT, 'technician.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1700 } });
  // The overview is cut at 1700 px; the system card (CPU, memory, disks) gets its own.
  await page.getByTestId('sub-system').screenshot({ path: path.join(OUT, 'technician-system.png') });
  await page.evaluate("location.hash = '#/technician/history'");
  await page.getByText('5 min', { exact: true }).click();
  await page.getByTestId('chart-wan.wan1.rtt').locator('svg').waitFor();
  await page.evaluate("document.querySelector('.history').scrollIntoView()");
  await page.screenshot({ path: path.join(OUT, 'technician-history.png') });
  await page.evaluate("location.hash = '#/technician/events'");
  await page.getByTestId('ev-severity').selectOption('warn'); // the walk above logged hundreds of sim.state events
  await page.getByRole('button', { name: 'Apply filter' }).click();
  await page.getByTestId('events').locator('tr[data-kind]').first().waitFor();
  await page.screenshot({ path: path.join(OUT, 'technician-events.png') });
  console.log(`screenshots written to ${OUT}`);
} finally {
  await b.close();
  await sup.kill('SIGKILL');
  await cleanup();
}
