/**
 * upsd drops any client that sent nothing for 60 s (a fixed limit in upsd).
 * Side by side on one real upsd: a client without keepalive is dropped, and
 * reconnects transparently on its next request; a client with the default
 * 20 s keepalive is never dropped. This takes ~62 s of wall time on purpose:
 * it is the real limit, not a shortened stand-in.
 */
import t from 'tap';
import { NutClient } from '../../../hardware/nut/index.js';
import { startNutRig } from '../../helpers/nut.js';
import { waitFor } from '../../helpers/util.js';

t.test('the 60 s idle drop: survived with keepalive, recovered without', async (t) => {
  const rig = await startNutRig({ ups: ['ups1'] });
  t.teardown(() => rig.close());
  const login = { username: rig.user.name, password: rig.user.password, login: 'ups1' };
  const quiet = new NutClient({ port: rig.port, keepaliveMs: 0, ...login });
  const kept = new NutClient({ port: rig.port, ...login }); // default keepaliveMs 20 000
  t.teardown(() => Promise.all([quiet.close(), kept.close()]));
  const quietDrops: number[] = [];
  const keptDrops: string[] = [];
  let keepalives = 0;
  quiet.on('disconnected', () => quietDrops.push(performance.now()));
  kept.on('disconnected', (e) => keptDrops.push(e.message));
  kept.on('keepalive', () => keepalives++);

  await Promise.all([quiet.getVar('ups1', 'ups.status'), kept.getVar('ups1', 'ups.status')]);
  const lastTalk = performance.now();
  t.equal(await rig.query('GET NUMLOGINS ups1'), 'NUMLOGINS ups1 2');

  // Waiting up to 150 s is "never happened" territory, not a speed limit.
  await waitFor(() => quietDrops.length > 0, { timeoutMs: 150_000, intervalMs: 250, what: 'upsd to drop the idle client' });
  const idleS = ((quietDrops[0] as number) - lastTalk) / 1000;
  t.ok(idleS >= 59, `upsd dropped the quiet client for its 60 s idle limit, not before (after ${idleS.toFixed(1)} s idle)`);
  t.equal(await rig.query('GET NUMLOGINS ups1'), 'NUMLOGINS ups1 1', 'only the keepalive client is still logged in');
  t.same(keptDrops, [], 'the keepalive client was never dropped');
  t.ok(keepalives >= 2, `keepalive sent ${keepalives}× in ${idleS.toFixed(0)} s`);
  t.ok(kept.connected);

  t.equal(await quiet.getVar('ups1', 'ups.status'), 'OL', 'the dropped client reconnects (and logs in again) on its next request');
  t.equal(await rig.query('GET NUMLOGINS ups1'), 'NUMLOGINS ups1 2');
});
