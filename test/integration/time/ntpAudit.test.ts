/**
 * Acceptance (issue #4, show 2): the SNTP audit client measures the test NTP
 * server at known offsets (0, +0.3, -1.2 s) to within 5 ms; the audit monitor
 * turns that into time.audit.<name> signals (fail beyond 1 s, unknown with the
 * cause when the host does not answer).
 */
import dgram from 'node:dgram';
import t from 'tap';
import { SntpError, sntpQuery } from '../../../hardware/ntp/index.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { TimeAuditMonitor } from '../../../supervisor/src/monitors/timeAudit.js';
import { startNtpServer, withinNtpBound } from '../../helpers/ntpServer.js';
import { freePort } from '../../helpers/util.js';

t.test('SNTP client measures known offsets to within half the round trip', async (t) => {
  const server = await startNtpServer();
  t.teardown(() => server.close());
  for (const offset of [0, 0.3, -1.2]) {
    server.setOffset(offset);
    for (let i = 0; i < 5; i++) {
      const sent = performance.now();
      const r = await sntpQuery('127.0.0.1', { port: server.port, timeoutMs: 10_000 });
      const wallS = (performance.now() - sent) / 1000;
      // The NTP delay cannot exceed the round trip the client itself saw; a delay formula that
      // mixed in the offset would be ~2 × offset here (0.6 s, 2.4 s) — far beyond it.
      t.ok(r.delayS >= 0 && r.delayS <= wallS + 0.001, `delay ${(r.delayS * 1000).toFixed(3)} ms ≤ the ${(wallS * 1000).toFixed(1)} ms the query took`);
      t.ok(
        withinNtpBound(r.offsetS, offset, r.delayS),
        `offset ${offset} s measured as ${r.offsetS.toFixed(6)} s: off by ${(Math.abs(r.offsetS - offset) * 1000).toFixed(3)} ms ≤ half the ${(r.delayS * 1000).toFixed(3)} ms round trip + 0.5 ms`,
      );
      t.equal(r.stratum, 1);
      t.equal(r.refId, 'TEST');
      t.equal(r.hostSynchronised, true);
    }
  }
});

t.test('SNTP client: no answer, refused, kiss-o-death, unsynchronised host, bad source address', async (t) => {
  const server = await startNtpServer();
  t.teardown(() => server.close());

  server.setSilent(true);
  const started = performance.now();
  await t.rejects(sntpQuery('127.0.0.1', { port: server.port, timeoutMs: 300 }), {
    name: 'SntpError',
    code: 'timeout',
    message: /no NTP reply from 127\.0\.0\.1:\d+ within 300 ms — is an NTP service running there/,
  });
  const took = performance.now() - started;
  // Not before the timeout; < 10× is only a sanity bound.
  t.ok(took >= 290 && took < 3000, `gives up at the 300 ms timeout (${Math.round(took)} ms)`);
  server.setSilent(false);

  const closed = await freePort();
  await t.rejects(sntpQuery('127.0.0.1', { port: closed, timeoutMs: 1000 }), { code: 'refused', message: /no NTP service listens on UDP/ });

  server.setLeap(3);
  const unsynced = await sntpQuery('127.0.0.1', { port: server.port });
  t.equal(unsynced.leap, 3);
  t.equal(unsynced.hostSynchronised, false);
  server.setLeap(0);

  server.setStratum(0); // stratum 0 in a reply = kiss-o'-death, refid = kiss code
  await t.rejects(sntpQuery('127.0.0.1', { port: server.port }), { code: 'kiss-of-death', message: /kiss-o'-death \(TEST\)/ });
  server.setStratum(1);

  await t.rejects(sntpQuery('127.0.0.1', { port: server.port, localAddress: '192.0.2.77' }), {
    code: 'socket',
    message: /192\.0\.2\.77: that address is not on this box/,
  });
  const fromLoopback = await sntpQuery('127.0.0.1', { port: server.port, localAddress: '127.0.0.1' });
  t.ok(withinNtpBound(fromLoopback.offsetS, 0, fromLoopback.delayS), 'a valid source address works');

  await t.rejects(sntpQuery('no-such-host.invalid', { timeoutMs: 500 }), SntpError);
});

t.test('replies that do not answer our request are ignored', async (t) => {
  // A rogue "server" that first sends a reply with the wrong origin, then none: must time out, not accept it.
  const rogue = dgram.createSocket('udp4');
  await new Promise<void>((r) => rogue.bind(0, '127.0.0.1', r));
  t.teardown(() => rogue.close());
  rogue.on('message', (msg, rinfo) => {
    const reply = Buffer.from(msg);
    reply[0] = (0 << 6) | (4 << 3) | 4;
    reply[1] = 1;
    reply.writeUInt32BE(0xdeadbeef, 24); // origin ≠ our transmit nonce
    reply.writeUInt32BE(0xe0000000, 32);
    reply.writeUInt32BE(0xe0000000, 40);
    rogue.send(reply, rinfo.port, rinfo.address);
  });
  await t.rejects(sntpQuery('127.0.0.1', { port: rogue.address().port, timeoutMs: 300 }), { code: 'timeout' });
});

t.test('audit monitor: one signal per host; ok, fail beyond 1 s, unknown when silent', async (t) => {
  const pc = await startNtpServer({ offsetS: 0.2 });
  const phone = await startNtpServer({ offsetS: -1.2 });
  const radio = await startNtpServer();
  const recorder = await startNtpServer({ offsetS: 0.6 });
  t.teardown(() => Promise.all([pc.close(), phone.close(), radio.close(), recorder.close()]));
  radio.setSilent(true);

  const latest = new Map<string, Signal>();
  /** Each host's last round trip, from the monitor's own SNTP result. */
  const delayS = new Map<string, number>();
  const audit = new TimeAuditMonitor({
    hosts: [
      { name: 'operator1', host: '127.0.0.1', port: pc.port, intervalS: 60 },
      { name: 'phone', host: '127.0.0.1', port: phone.port, intervalS: 60 },
      { name: 'radio', host: '127.0.0.1', port: radio.port, intervalS: 60 },
      { name: 'recorder', host: '127.0.0.1', port: recorder.port, intervalS: 60 },
    ],
    warnS: 0.5,
    failS: 1.0,
    // Generous for a loaded CI box: only the silent host waits it out.
    timeoutMs: 1000,
    attempts: 2,
    onResult: (h, outcome) => {
      if (!(outcome instanceof SntpError)) delayS.set(h.name, outcome.delayS);
    },
  });
  t.teardown(() => audit.stop());
  await audit.start((s) => latest.set(s.key, s));

  const op = latest.get('time.audit.operator1');
  t.equal(op?.status, 'ok');
  t.equal(op?.subsystem, 'time');
  t.ok(
    typeof op?.value === 'number' && withinNtpBound(op.value, 0.2, delayS.get('operator1') ?? Number.NaN),
    `operator1 +0.2 s measured as ${op?.value} (${op?.detail})`,
  );
  t.match(op?.detail, /operator1 \(127\.0\.0\.1:\d+\) is 0\.\d{3} s ahead of the box \(delay \d+\.\d ms/);

  const ph = latest.get('time.audit.phone');
  t.equal(ph?.status, 'fail', 'phone system 1.2 s behind → deviation');
  t.ok(
    typeof ph?.value === 'number' && withinNtpBound(ph.value, -1.2, delayS.get('phone') ?? Number.NaN),
    `phone −1.2 s measured as ${ph?.value} (${ph?.detail})`,
  );
  t.match(ph?.detail, /1\.\d{3} s behind the box/);

  t.equal(latest.get('time.audit.recorder')?.status, 'warn', '0.6 s → warn');

  const rd = latest.get('time.audit.radio');
  t.equal(rd?.status, 'unknown', 'no answer is unknown, never ok');
  t.equal(rd?.value, null);
  t.match(rd?.detail, /no time from radio: no NTP reply .* within 1000 ms/);
  t.equal(radio.requests, 2, 'two attempts before giving up');

  // The phone system is corrected; the next audit round sees it.
  phone.setOffset(0.01);
  radio.setSilent(false);
  await audit.auditNow('phone');
  await audit.auditNow('radio');
  t.equal(latest.get('time.audit.phone')?.status, 'ok');
  t.equal(latest.get('time.audit.radio')?.status, 'ok');

  radio.setLeap(3);
  await audit.auditNow('radio');
  t.equal(latest.get('time.audit.radio')?.status, 'warn', 'host says it is unsynchronised');
  t.match(latest.get('time.audit.radio')?.detail, /NOT synchronised/);
});
