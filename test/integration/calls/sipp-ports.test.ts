/**
 * How real SIPp takes its ports, which the tests and the recording test call
 * rely on: without `-mp` SIPp hunts for free media ports itself, so many run
 * side by side; with `-mp` it binds that port and the one two above exactly,
 * and exits 254 when either is taken. A SIPp that dies at start-up is reported
 * at once with its own reason, not after a 20 s wait on "nothing listens".
 */
import dgram from 'node:dgram';
import t, { type Test } from 'tap';
import { describeSippExit, startSipp } from '../../../hardware/sip/sipp.js';
import { SCENARIOS, startCentre, waitSipReady } from '../../helpers/sipp.js';
import { freePort, scratchDir } from '../../helpers/util.js';

async function holdUdp(t: Test, port: number): Promise<void> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, '127.0.0.1', () => resolve());
  });
  t.teardown(() => new Promise<void>((r) => sock.close(() => r())));
}

t.test('twelve SIPp centres without -mp start side by side and all answer', async (t) => {
  const centres = await Promise.all(Array.from({ length: 12 }, (_, i) => startCentre(t, `c${i}`)));
  const answered = await Promise.all(centres.map((c) => waitSipReady(c).then(() => c.uri)));
  t.equal(new Set(answered).size, 12, 'all twelve answer OPTIONS');
});

t.test('a SIPp whose SIP port is taken fails at once with its reason', async (t) => {
  const port = await freePort();
  await holdUdp(t, port);
  // The message, not a timing, shows it did not wait out the timeout: that one says "timed out".
  await t.rejects(
    startCentre(t, 'blocked', 'answer', port).then((c) => waitSipReady(c, 60_000)),
    { message: /^SIPp for 127\.0\.0\.1:\d+ exited before it answered: could not bind its port\(s\)[\s\S]*Unable to bind main socket/ },
  );
});

t.test('an explicit -mp needs the port two above free as well: SIPp exits 254 otherwise', async (t) => {
  // A base freePort checked, so only the port two above is in the way. (Linux
  // gives bind(0) odd ports, so "round down to even" landed on an unchecked one.)
  const base = await freePort();
  await holdUdp(t, base + 2);
  const s = await scratchDir('sipp-mp');
  t.teardown(() => s.cleanup());
  const proc = startSipp({
    scenarioFile: SCENARIOS.answer,
    workDir: s.dir,
    localIp: '127.0.0.1',
    localPort: await freePort(),
    mediaPort: base,
    keys: { role: 'mp' },
    autoAnswer: true,
  });
  t.teardown(() => proc.kill());
  const r = await proc.done;
  t.equal(r.exitCode, 254);
  t.equal(describeSippExit(r.exitCode, r.signal), 'could not bind its port(s) — port in use?');
  t.match(r.stderrTail, new RegExp(`Unable to bind video RTP socket \\(IP=127\\.0\\.0\\.1, port=${base + 2}\\)`));
});
