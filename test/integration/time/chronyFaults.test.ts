/**
 * Acceptance (issue #4, show 1): leap "Not synchronised" is a time failure;
 * chronyd stopped is a monitoring fault (unknown) with a clear cause. Plus the
 * wrapper's other typed errors, each produced by the real chronyc.
 */
import dgram from 'node:dgram';
import t from 'tap';
import {
  ChronycClient,
  ChronycFailedError,
  ChronydNotRunningError,
  ChronyNotAuthorisedError,
  ChronyNotSynchronisedError,
  requireSynchronised,
} from '../../../hardware/chrony/index.js';
import { CHRONYC, startChronyd } from '../../helpers/chronyd.js';
import { startNtpServer } from '../../helpers/ntpServer.js';
import { freePort } from '../../helpers/util.js';
import { startTimeRig, waitAllOk } from './setup.js';

t.test('a server that says "not synchronised" (LI=3): chronyd never syncs → time failure', async (t) => {
  const rig = await startTimeRig(t, { leap: 3, waitForSync: false });
  const leap = await rig.log.next('time.leap', (s) => s.value === 'Not synchronised', 10_000, 'time.leap Not synchronised');
  t.equal(leap.status, 'fail');
  t.match(leap.detail, /not synchronised/);
  t.equal(rig.log.status('time.errorBound'), 'fail');
  t.equal(rig.log.get('time.offset')?.value, null, 'offset unknown, not a perfect 0');
  t.equal(rig.log.status('time.offset'), 'fail');
  t.equal(rig.log.status('time.refAge'), 'fail');
  t.ok(rig.server.requests > 0, 'chronyd did ask the server');
  const tr = await rig.client.tracking();
  t.equal(tr.leapStatus, 'Not synchronised');
  t.throws(() => requireSynchronised(tr), ChronyNotSynchronisedError);
  t.throws(() => requireSynchronised(tr), { message: /no usable time source/ });

  // The server recovers: chronyd syncs and the signals follow.
  rig.server.setLeap(0);
  await rig.log.next('time.leap', (s) => s.status === 'ok', 15_000, 'time.leap ok after the server synchronised');
  const synced = await rig.client.tracking();
  t.equal(requireSynchronised(synced), synced, 'requireSynchronised passes a synchronised tracking through');
});

t.test('chronyd stopped → every time signal unknown, with the cause', async (t) => {
  const rig = await startTimeRig(t);
  await waitAllOk(rig);
  await rig.chronyd.kill();
  const unknown = await rig.log.next('time.errorBound', (s) => s.status === 'unknown', 5000, 'time.errorBound unknown');
  t.match(unknown.detail, /monitoring fault: chronyd is not running or not reachable at .*chronyd\.sock/);
  t.match(unknown.detail, /Could not open connection to daemon/);
  t.match(unknown.detail, /systemctl start chrony/, 'names the fix');
  t.equal(unknown.value, null);
  await rig.log.next('time.source', (s) => s.status === 'unknown', 2000, 'time.source unknown');
  for (const key of ['time.offset', 'time.errorBound', 'time.leap', 'time.source', 'time.refAge']) {
    t.equal(rig.log.status(key), 'unknown', `${key} unknown, never ok`);
  }
  await t.rejects(rig.client.tracking(), ChronydNotRunningError);
  await t.rejects(rig.client.sources(), ChronydNotRunningError);
});

t.test('chronyd crashed (SIGKILL, stale socket) and hung (SIGSTOP): unknown with the cause', async (t) => {
  const rig = await startTimeRig(t);
  await waitAllOk(rig);

  process.kill(rig.chronyd.pid, 'SIGSTOP');
  t.teardown(() => {
    try {
      process.kill(rig.chronyd.pid, 'SIGCONT');
    } catch {
      // already gone
    }
  });
  const hung = await rig.log.next('time.errorBound', (s) => s.status === 'unknown', 6000, 'unknown while chronyd is hung');
  t.match(hung.detail, /gave no answer within 2000 ms .*chronyd may be hung/);
  process.kill(rig.chronyd.pid, 'SIGCONT');
  await rig.log.next('time.errorBound', (s) => s.status !== 'unknown', 6000, 'back after SIGCONT');

  process.kill(rig.chronyd.pid, 'SIGKILL'); // a crash leaves the socket file behind
  const crashed = await rig.log.next('time.errorBound', (s) => s.status === 'unknown', 5000, 'unknown after the crash');
  t.match(crashed.detail, /chronyd is not running or not reachable/);
  await t.rejects(rig.client.tracking(), ChronydNotRunningError);
});

t.test('chronyc over UDP to a port nobody serves: 506 → not running', async (t) => {
  const port = await freePort();
  const client = new ChronycClient({ chronycPath: CHRONYC, host: '127.0.0.1', port, timeoutMs: 3000 });
  await t.rejects(client.tracking(), { name: 'ChronydNotRunningError', message: /506 Cannot talk to daemon/ });
});

t.test('a privileged command over UDP: 501 → not authorised', async (t) => {
  const server = await startNtpServer();
  t.teardown(() => server.close());
  const cmdPort = await freePort();
  const chronyd = await startChronyd({ serverPort: server.port, cmdPort });
  t.teardown(() => chronyd.stop());
  const udp = new ChronycClient({ chronycPath: CHRONYC, host: '127.0.0.1', port: cmdPort });
  const tr = await udp.tracking();
  t.equal(tr.leapStatus, 'Normal', 'monitoring commands work over UDP');
  await t.rejects(udp.serverStats(), ChronyNotAuthorisedError);
  await t.rejects(udp.serverStats(), { message: /501 Not authorised.*Unix command socket/ });
  const unix = new ChronycClient({ chronycPath: CHRONYC, host: chronyd.socketPath });
  const stats = await unix.serverStats();
  t.ok(stats.commandPacketsReceived > 0, 'the same command works over the Unix socket');
});

t.test('chronyc that never gets an answer is killed at the timeout', async (t) => {
  const sink = dgram.createSocket('udp4'); // swallows chronyc's requests
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  t.teardown(() => sink.close());
  const client = new ChronycClient({ chronycPath: CHRONYC, host: '127.0.0.1', port: sink.address().port, timeoutMs: 400 });
  const started = performance.now();
  await t.rejects(client.tracking(), { name: 'ChronycFailedError', message: /gave no answer within 400 ms/ });
  // The message names the timeout; < 10× the 400 ms timeout is only a sanity bound.
  t.ok(performance.now() - started < 4000, `not left hanging (${Math.round(performance.now() - started)} ms)`);
});

t.test('missing chronyc binary', async (t) => {
  const client = new ChronycClient({ chronycPath: '/nonexistent/chronyc' });
  await t.rejects(client.tracking(), ChronycFailedError);
  await t.rejects(client.tracking(), { message: /chronyc not found at \/nonexistent\/chronyc — install the chrony package/ });
});
