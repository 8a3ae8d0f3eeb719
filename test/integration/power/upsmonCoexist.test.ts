/**
 * Coexistence with upsmon (ops/nut/README.md), on a real upsd with a real
 * primary upsmon: Vaktpost logs in like a secondary; when the primary forces a
 * shutdown (`upsmon -c fsd`, also Vaktpost's recommended shutdownCommand),
 * Vaktpost sees FSD within a poll, and upsmon holds its SHUTDOWNCMD until
 * Vaktpost logs out — the window in which the calls are moved to the backup.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { UpsConfigSchema } from '../../../supervisor/src/config/power.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { UpsMonitor } from '../../../supervisor/src/monitors/upsMonitor.js';
import { startNutRig } from '../../helpers/nut.js';
import { waitFor } from '../../helpers/util.js';

// Long on purpose: the shutdown must come from Vaktpost's LOGOUT, which is shown by it
// coming before HOSTSYNC could have expired — a wide window keeps that true on a busy machine.
const HOSTSYNC_S = 60;

t.test('primary upsmon FSD: Vaktpost sees it, and the shutdown waits for Vaktpost to log out', async (t) => {
  const rig = await startNutRig({ ups: ['ups1'] });
  t.teardown(() => rig.close());
  const notify = path.join(rig.dir, 'upsmon-events.log');
  await writeFile(notify, '');
  await rig.startUpsmon('ups1', { pollFreqS: 5, notifyFile: notify, role: 'primary', hostSyncS: HOSTSYNC_S, finalDelayS: 0 });

  const fsdSeen: number[] = [];
  const mon = new UpsMonitor({ ups: [UpsConfigSchema.parse({ name: 'ups1', port: rig.port, user: rig.user.name, password: rig.user.password })] });
  t.teardown(() => mon.stop());
  await mon.start((s: Signal) => {
    if (s.key === 'power.ups1.fsd' && s.value === true && s.status === 'fail') fsdSeen.push(Date.now());
  });
  t.equal(await rig.query('GET NUMLOGINS ups1'), 'NUMLOGINS ups1 2', 'upsmon and Vaktpost both logged in');

  const events = async () =>
    (await readFile(notify, 'utf8'))
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => ({ at: Number(l.split(' ')[0]) / 1e6, type: l.split(' ')[1] }));

  const t0 = Date.now();
  await rig.upsmonFsd();
  await waitFor(() => fsdSeen.length > 0, { timeoutMs: 30_000, what: 'Vaktpost to see FSD' });
  const seenMs = (fsdSeen[0] as number) - t0;
  t.pass(`Vaktpost saw FSD (${seenMs} ms after upsmon -c fsd)`);

  // Stand-in for the lead's choreography (route to backup, verify, record): 2 s of work while logged in.
  await new Promise((r) => setTimeout(r, 2000));
  t.notOk(
    (await events()).some((e) => e.type === 'SHUTDOWNCMD'),
    'upsmon has not shut down while Vaktpost is still logged in',
  );
  const loggedOut = Date.now();
  await mon.stop(); // closes the NUT client: LOGOUT

  const shut = await waitFor(async () => (await events()).find((e) => e.type === 'SHUTDOWNCMD'), {
    timeoutMs: (HOSTSYNC_S + 5) * 1000,
    intervalMs: 50,
    what: 'upsmon SHUTDOWNCMD',
  });
  t.ok(shut.at >= loggedOut, 'SHUTDOWNCMD ran only after Vaktpost logged out');
  // HOSTSYNC counts from the FSD, which was set after t0: it cannot expire before t0 + HOSTSYNC.
  t.ok(
    shut.at < t0 + HOSTSYNC_S * 1000,
    `and because of the LOGOUT (${(shut.at - loggedOut).toFixed(0)} ms after it), not at HOSTSYNC expiry (${HOSTSYNC_S} s after the FSD)`,
  );
  t.comment(`upsmon -c fsd → Vaktpost FSD signal ${seenMs} ms; Vaktpost LOGOUT → upsmon SHUTDOWNCMD ${(shut.at - loggedOut).toFixed(0)} ms`);
});
