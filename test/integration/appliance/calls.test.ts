/**
 * Calls through the installed appliance (issue 18, "Show" 1–2, the call path): the
 * .deb on a booted Debian 13 box, a config whose centres are SIPp processes on the
 * box's LAN, `vaktpost apply` rendering Kamailio, the announcement and the firewall
 * and starting their units as systemd runs them (user vaktpost, hardened), then:
 * - a call from the trunk side crosses the box's eth0 and its firewall and reaches
 *   the local centre;
 * - the supervisor SIGSTOPped: systemd's watchdog restarts it while calls go on; every
 *   call placed meanwhile completes, and after the restart Kamailio's state and the
 *   route are what they were (no flap: the same local destination active, Kamailio not
 *   restarted);
 * - from the LAN, SIPp's control port (which listens on every address inside) gets
 *   nothing: the firewall drops the datagrams, counted, and the announcement runs on.
 */
import t from 'tap';
import { runOutsideCaller, startOutsideCentre } from '../../helpers/appliance/boxLab.js';
import { bootAppliance } from '../../helpers/appliance/container.js';
import { applianceDeb, installDeb } from '../../helpers/appliance/deb.js';
import { applianceRootfs } from '../../helpers/appliance/rootfs.js';
import { describeCaller } from '../../helpers/sipp.js';
import { waitFor } from '../../helpers/util.js';

const log = (line: string) => t.comment(line);
const TEST_WATCHDOG_S = 5;

const [rootfs, deb] = await Promise.all([applianceRootfs({ log }), applianceDeb(log)]);
const { container: box } = await bootAppliance({ rootfs: rootfs.dir, log });
t.teardown(() => box.stop());
const lan = box.lan;
if (!lan) throw new Error('the appliance has no LAN');
const prop = (unit: string, p: string) => box.unitProperty(unit, p);
// The centres live as long as the box: both tests call them.
const local = await startOutsideCentre(t, box, 'local', 5070);
const backup = await startOutsideCentre(t, box, 'backup', 5080);

t.test('installed, configured and applied: a trunk call reaches the local centre through the box', async (t) => {
  const inst = await installDeb(box, deb);
  t.equal(inst.code, 0, `apt-get install exits 0${inst.code === 0 ? '' : `:\n${inst.output}`}`);
  await box.writeFile(
    '/etc/vaktpost/vaktpost.yaml',
    [
      'box: { name: appliance-calls, dataDir: /var/lib/vaktpost, hardware: simulated }',
      'api: { listen: 127.0.0.1, port: 8080 }',
      'calls:',
      `  sip: { address: ${lan.boxAddress}, port: 5060, transports: [udp] }`,
      `  trunk: { sources: [${lan.outsideAddress}] }`,
      `  centres: { local: { uris: ["${local.uri}"] }, backup: { uris: ["${backup.uri}"] } }`,
      '  announcement: { uris: ["sip:announcement@127.0.0.1:5090"] }',
      '  drill: { enabled: false }',
      `firewall: { lanNetworks: [${lan.outsideAddress}/32], managementNetworks: [${lan.outsideAddress}/32] }`,
      '',
    ].join('\n'),
    0o640,
  );
  await box.sh('chgrp vaktpost /etc/vaktpost/vaktpost.yaml');
  const applied = await box.exec(['vaktpost', 'apply']);
  t.equal(applied.code, 0, `vaktpost apply exits 0:\n${applied.stdout}${applied.stderr}`);
  t.match(applied.stdout, /kamailio -c: ok/, 'Kamailio checked the rendered cfg');
  for (const unit of ['vaktpost-firewall.service', 'vaktpost-announcement.service', 'vaktpost-kamailio.service']) {
    await box.exec(['systemctl', 'start', unit]);
    const active = await waitFor(async () => ((await prop(unit, 'ActiveState')) === 'active' ? true : null), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `${unit} active`,
    }).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await box.journal(unit, 30)}`);
    });
    t.ok(active, `${unit} active (as ${(await prop(unit, 'User')) || 'root'})`);
  }
  await box.exec(['systemctl', 'reset-failed', 'vaktpost.service']);
  await box.restart('vaktpost.service');
  const status = await waitFor(
    async () => {
      const r = await box.exec(['vaktpost', 'status']);
      return r.code === 0 ? r : null;
    },
    { timeoutMs: 60_000, intervalMs: 500, what: '`vaktpost status` to exit 0 (local, Kamailio verified)' },
  ).catch(async (err: Error) => {
    throw new Error(`${err.message}\n${(await box.exec(['vaktpost', 'status'])).stdout}\n${await box.journal('vaktpost.service', 40)}`);
  });
  t.match(status.stdout, /route: local/, `vaktpost status: ${status.stdout.split('\n')[0]}`);

  const r = await runOutsideCaller(t, box, { sipPort: 5060, calls: 3, rate: 3, holdMs: 200, timeoutS: 60 });
  t.same(r.answersPerRole, { local: 3 }, `3 trunk calls answered by the local centre (${describeCaller(r)})`);
});

t.test("the firewall from the network: SIPp's control port gets nothing (a UDP 'q' there would stop the announcement)", async (t) => {
  const listening = await box.sh('ss -Hlun');
  t.match(listening, /(0\.0\.0\.0|\*):8888\b/, "inside, the announcement's SIPp listens for control commands on every address (UDP 8888)");
  const annPid = await prop('vaktpost-announcement.service', 'MainPID');
  const dropped = async () => {
    const chain = await box.sh('nft list chain inet vaktpost input');
    return Number(/counter packets (\d+) bytes \d+ comment "dropped/.exec(chain)?.[1] ?? Number.NaN);
  };
  const before = await dropped();
  t.ok(Number.isFinite(before), `the ruleset counts what it drops (${before} so far)`);
  const SENT = 5;
  const send = await box.outside([
    'python3',
    '-c',
    `import socket\ns=socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(${SENT}): s.sendto(b"q", ("${lan.boxAddress}", 8888))`,
  ]);
  t.equal(send.code, 0, `sent ${SENT} datagrams "q" to ${lan.boxAddress}:8888 from the LAN (${send.stderr.trim()})`);
  // Awaited, not slept: the drop counter says when the datagrams have reached the box and been dropped.
  const after = await waitFor(
    async () => {
      const n = await dropped();
      return n >= before + SENT ? n : null;
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `the firewall to count ${SENT} more drops` },
  );
  t.ok(after >= before + SENT, `the firewall dropped them (${before} → ${after} packets)`);
  t.equal(await prop('vaktpost-announcement.service', 'ActiveState'), 'active', 'the announcement still runs');
  t.equal(await prop('vaktpost-announcement.service', 'MainPID'), annPid, 'the same process: it never got the q');
});

t.test("SIGSTOP of the supervisor: calls keep completing while systemd's watchdog restarts it, and nothing flaps", async (t) => {
  await box.sh('mkdir -p /etc/systemd/system/vaktpost.service.d');
  await box.writeFile('/etc/systemd/system/vaktpost.service.d/appliance-test.conf', `[Service]\nWatchdogSec=${TEST_WATCHDOG_S}s\n`);
  await box.exec(['systemctl', 'daemon-reload']);
  await box.restart('vaktpost.service');
  await waitFor(async () => ((await box.exec(['vaktpost', 'status'])).code === 0 ? true : null), {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'status local again after the drop-in',
  });
  const kamailioPid = await prop('vaktpost-kamailio.service', 'MainPID');
  const dispatcherBefore = await box.sh('cat /var/lib/vaktpost/kamailio/dispatcher.list');
  const pid = Number(await prop('vaktpost.service', 'MainPID'));
  t.ok(pid > 1, `supervisor MainPID ${pid}`);
  if (!(pid > 1)) return;
  await box.exec(['kill', '-STOP', String(pid)]);
  // 30 calls at 2/s: 15 s, across the watchdog's 5 s and the restart.
  const r = await runOutsideCaller(t, box, { sipPort: 5060, calls: 30, rate: 2, holdMs: 200, timeoutS: 90 });
  t.equal(r.stats?.successful, 30, `every call placed while the supervisor was frozen and restarting completed (${describeCaller(r)})`);
  t.same(r.answersPerRole, { local: 30 }, 'all at the local centre: the route never moved');
  const after = Number(await prop('vaktpost.service', 'MainPID'));
  t.not(after, pid, `the watchdog restarted the supervisor (MainPID ${pid} → ${after})`);
  t.match(
    (await box.exec(['journalctl', '-u', 'vaktpost.service', '--no-pager', '-o', 'cat'])).stdout,
    /[Ww]atchdog timeout/,
    'the journal says watchdog timeout',
  );
  t.equal(await prop('vaktpost-kamailio.service', 'MainPID'), kamailioPid, 'Kamailio was not restarted');
  await waitFor(async () => ((await box.exec(['vaktpost', 'status'])).code === 0 ? true : null), {
    timeoutMs: 60_000,
    intervalMs: 500,
    what: 'status local after the restart',
  });
  t.equal(await box.sh('cat /var/lib/vaktpost/kamailio/dispatcher.list'), dispatcherBefore, 'the dispatcher list Kamailio restarts from is unchanged');
});
