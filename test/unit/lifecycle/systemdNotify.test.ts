/**
 * The systemd notify driver (supervisor/src/lifecycle/systemdNotify.ts) against a real unix
 * datagram socket (test/helpers/notifySocket.ts) and the real systemd-notify binary:
 * READY=1 first, WATCHDOG=1 only when a tick is reported and at most once per interval,
 * nothing at all without ticks, STATUS= only when it changes, nothing without NOTIFY_SOCKET.
 * Time is the test's own (`now`), so the interval is exact and nothing sleeps.
 */
import t from 'tap';
import { systemdNotifier } from '../../../supervisor/src/lifecycle/systemdNotify.js';
import { startNotifySocket } from '../../helpers/notifySocket.js';

const quietLog = () => {
  const lines: string[] = [];
  return { lines, warn: (_o: object, msg: string) => void lines.push(msg) };
};

t.test('without NOTIFY_SOCKET there is no notifier (make run, tests, the CLI)', async (t) => {
  t.equal(systemdNotifier({ env: { WATCHDOG_USEC: '20000000' }, log: quietLog() }), null);
});

t.test('READY=1, then WATCHDOG=1 only after ticks, at most once per WATCHDOG_USEC/3, none when ticks stop', async (t) => {
  const sock = await startNotifySocket();
  t.teardown(() => sock.close());
  let now = 0;
  const log = quietLog();
  // 300 ms watchdog → a ping at most every 100 ms of the test's clock.
  const n = systemdNotifier({ env: { ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '300000' }, log, now: () => now });
  if (!n) throw new Error('expected a notifier with NOTIFY_SOCKET set');

  n.ready('route local, mode normal');
  await n.idle();
  await sock.sync();
  t.equal(sock.messages.length, 1, 'one message for ready');
  await sock.next((m) => m.has('READY=1'), { what: 'READY=1' });
  t.equal(sock.messages[0]?.get('STATUS'), 'route local, mode normal', 'the status line comes with READY=1');
  t.notOk(sock.messages[0]?.has('WATCHDOG=1'), 'no WATCHDOG=1 before any tick');

  n.tick('route local, mode normal');
  await n.idle();
  await sock.sync();
  t.equal(sock.messages.length, 2, 'the first tick pings');
  t.ok(sock.messages[1]?.has('WATCHDOG=1'));
  t.equal(sock.messages[1]?.get('STATUS'), undefined, 'an unchanged status is not sent again');

  for (now = 10; now < 100; now += 10) n.tick('route local, mode normal');
  await n.idle();
  await sock.sync();
  t.equal(sock.messages.length, 2, 'nine ticks within the interval: no further ping');

  now = 100;
  n.tick('route backup, mode failover');
  await n.idle();
  await sock.sync();
  t.equal(sock.messages.length, 3, 'the interval is up: one ping');
  t.ok(sock.messages[2]?.has('WATCHDOG=1'));
  t.equal(sock.messages[2]?.get('STATUS'), 'route backup, mode failover', 'a changed status rides with the ping');

  // Ticks stop (a frozen loop): the clock runs on, nothing is sent — the driver has no timer of its own.
  now = 10_000;
  await n.idle();
  await sock.sync();
  t.equal(sock.messages.length, 3, 'no ticks, no pings, however much time passes');

  n.stopping('stopping');
  n.tick('route local, mode normal');
  await n.idle();
  await sock.sync();
  t.ok(sock.messages[3]?.has('STOPPING=1'), 'STOPPING=1 on the way down');
  t.equal(sock.messages.length, 4, 'and no ping after it');
  t.same(log.lines, [], 'systemd-notify succeeded every time');
});

t.test('without WATCHDOG_USEC: READY and status changes only, never WATCHDOG=1', async (t) => {
  const sock = await startNotifySocket();
  t.teardown(() => sock.close());
  let now = 0;
  const n = systemdNotifier({ env: { ...process.env, NOTIFY_SOCKET: sock.path }, log: quietLog(), now: () => now });
  n?.ready('a');
  for (now = 0; now <= 3000; now += 100) n?.tick(now < 2000 ? 'a' : 'b');
  await n?.idle();
  await sock.sync();
  t.ok(
    sock.messages.every((m) => !m.has('WATCHDOG=1')),
    'no WATCHDOG=1',
  );
  t.same(
    sock.messages.map((m) => m.get('STATUS')),
    ['a', 'b'],
    'the status sent when it changed',
  );
});

t.test('WATCHDOG_PID naming another process: no pings (sd_watchdog_enabled semantics)', async (t) => {
  const sock = await startNotifySocket();
  t.teardown(() => sock.close());
  const n = systemdNotifier({ env: { ...process.env, NOTIFY_SOCKET: sock.path, WATCHDOG_USEC: '300000', WATCHDOG_PID: '1' }, log: quietLog(), now: () => 0 });
  n?.tick('x');
  await n?.idle();
  await sock.sync();
  t.ok(sock.messages.every((m) => !m.has('WATCHDOG=1')));
});

t.test('a systemd-notify that cannot run is logged once and never throws', async (t) => {
  const log = quietLog();
  let now = 0;
  const n = systemdNotifier({
    env: { NOTIFY_SOCKET: '/nonexistent/notify', WATCHDOG_USEC: '300000' },
    log,
    now: () => now,
    binary: '/nonexistent/systemd-notify',
  });
  n?.ready('x');
  for (now = 0; now < 1000; now += 100) n?.tick('x');
  await n?.idle();
  t.equal(log.lines.length, 1, 'one log line for the same failure');
  t.match(log.lines[0], /systemd-notify failed \(spawn\).*Debian package systemd/);
});
