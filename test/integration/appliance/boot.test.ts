/**
 * The appliance harness itself: a Debian 13 rootfs (built once, cached) boots
 * real systemd in systemd-nspawn on a throwaway overlay; the daemons Vaktpost
 * drives are there in Debian 13's versions; and systemd's watchdog really kills
 * and restarts a Type=notify service that stops pinging — the mechanism the
 * supervisor's unit relies on, proven here before the supervisor uses it.
 * After poweroff the overlay is gone and the cache is left for the next run.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { bootAppliance, isMounted } from '../../helpers/appliance/container.js';
import { runOutsideCaller, setupDummyUps, startOutsideCentre } from '../../helpers/appliance/boxLab.js';
import { reapOrphans } from '../../helpers/appliance/orphans.js';
import { applianceRootfs } from '../../helpers/appliance/rootfs.js';
import { describeCaller, SCENARIOS } from '../../helpers/sipp.js';
import { waitFor } from '../../helpers/util.js';

// The first run also builds the rootfs (65 s idle, 195 s at load 15): inside tap's 300 s per file (.taprc);
// t.setTimeout cannot extend that (measured: the runner's timeout wins).

const log = (line: string) => t.comment(line);
const rootfs = await applianceRootfs({ log });
t.comment(`rootfs ${rootfs.built ? 'built' : 'reused'} in ${(rootfs.ms / 1000).toFixed(1)} s`);
const { container: box, state, bootMs } = await bootAppliance({ rootfs: rootfs.dir, log });
t.teardown(() => box.stop());
t.comment(`booted in ${(bootMs / 1000).toFixed(2)} s`);

t.test('systemd is PID 1 inside and the boot reached running', async (t) => {
  t.equal((await box.sh('cat /proc/1/comm')).trim(), 'systemd', 'PID 1 inside is systemd');
  t.equal(state, 'running', `system state (failed units: ${(await box.failedUnits()) || 'none'})`);
  t.equal((await box.sh('. /etc/os-release; echo $VERSION_ID')).trim(), '13', 'Debian 13');
});

t.test('the box has its own LAN (eth0 to the outside namespace, no host interface), and nft works inside', async (t) => {
  const lan = box.lan!;
  t.match(await box.sh('ip -4 -o addr show dev eth0'), new RegExp(`inet ${lan.boxAddress.replaceAll('.', '\\.')}/24`), `eth0 ${lan.boxAddress}`);
  const ping = await box.outside(['ping', '-c', '1', '-W', '5', lan.boxAddress]);
  t.equal(ping.code, 0, `the outside (${lan.outsideAddress}) reaches the box: ${ping.stdout.split('\n').find((l) => l.includes('bytes from')) ?? ping.stderr}`);
  const nft = await box.exec(['sh', '-c', 'nft add table inet appliance_probe && nft list tables && nft delete table inet appliance_probe']);
  t.match(
    nft.stdout,
    /table inet appliance_probe/,
    `nft can load rules inside (the firewall units need CAP_NET_ADMIN in the box's namespace): ${nft.stderr.trim() || 'ok'}`,
  );
  const links = (await box.sh('ip -o link'))
    .trim()
    .split('\n')
    .map((l) => l.split(': ')[1]?.split('@')[0]);
  t.same(links.sort(), ['eth0', 'lo'], 'only lo and its own eth0 inside: none of the host interfaces');
});

t.test('the runtime and every daemon Vaktpost drives are installed', async (t) => {
  t.equal((await box.sh('env')).match(/^NODE_OPTIONS=/m), null, 'commands inside get a clean environment (no NODE_OPTIONS from the test runner)');
  t.equal(
    (await box.sh(`node -e "console.log(require('node:fs').readFileSync('/etc/os-release', 'utf8').match(/^VERSION_CODENAME=(.*)$/m)[1])"`)).trim(),
    'trixie',
    'node runs a script inside, and sees the box’s files',
  );
  const node = (await box.sh('node --version')).trim();
  t.comment(`node ${node}`);
  const [maj, min] = node.replace(/^v/, '').split('.').map(Number) as [number, number];
  t.ok(maj > 20 || (maj === 20 && min >= 12), `node ${node} ≥ 20.12 (package.json engines)`);
  const versions: [string, string, RegExp][] = [
    ['kamailio', 'kamailio -v', /kamailio \d+\.\d+/],
    ['rtpengine', 'rtpengine --version', /\d+\.\d+/],
    ['sipp', 'sipp -v', /SIPp v\d+\.\d+/],
    ['chronyd', 'chronyd --version', /chronyd \(chrony\) version \d/],
    ['nft', 'nft --version', /nftables v\d/],
    ['dummy-ups', 'test -x /lib/nut/dummy-ups && /lib/nut/dummy-ups -V', /Network UPS Tools/],
  ];
  for (const [name, cmd, re] of versions) {
    const r = await box.exec(['sh', '-c', `${cmd} 2>&1`]);
    const first = r.stdout.split('\n').find((l) => re.test(l)) ?? r.stdout.trim().split('\n')[0] ?? '';
    t.match(r.stdout, re, `${name}: ${first.trim()}`);
    t.comment(`${name}: ${first.trim()}`);
  }
});

t.test("systemd's watchdog kills and restarts a Type=notify service that stops pinging", async (t) => {
  // READY=1 once, then never WATCHDOG=1: after WatchdogSec systemd sends SIGABRT and Restart= brings it back.
  await box.writeFile('/usr/local/bin/wd-probe', '#!/bin/sh\nsystemd-notify --ready\nexec sleep infinity\n', 0o755);
  await box.writeFile(
    '/etc/systemd/system/wd-probe.service',
    [
      '[Unit]',
      'Description=watchdog probe (appliance harness test)',
      '[Service]',
      'Type=notify',
      'NotifyAccess=all',
      'ExecStart=/usr/local/bin/wd-probe',
      'WatchdogSec=3',
      'Restart=on-failure',
      'RestartSec=100ms',
      '',
    ].join('\n'),
  );
  await box.sh('systemctl daemon-reload && systemctl start wd-probe.service');
  t.equal(await box.unitProperty('wd-probe', 'ActiveState'), 'active', 'started: READY=1 reached systemd (Type=notify start returned)');
  const firstPid = Number(await box.unitProperty('wd-probe', 'MainPID'));
  t.ok(firstPid > 1, `a main PID inside (${firstPid})`);
  t.equal(await box.unitProperty('wd-probe', 'WatchdogUSec'), '3s', 'watchdog armed at 3 s');

  const restarted = await waitFor(async () => Number(await box.unitProperty('wd-probe', 'NRestarts')) >= 1, {
    timeoutMs: 20_000,
    intervalMs: 200,
    what: 'systemd to restart wd-probe after its watchdog expired',
  }).catch(async (err: Error) => {
    t.comment(await box.journal('wd-probe'));
    throw err;
  });
  t.ok(restarted, 'restarted by systemd');
  const journal = await box.journal('wd-probe');
  t.match(journal, /Watchdog timeout/, 'the journal names the watchdog as the reason');
  t.match(journal, /SIGABRT/, 'killed with SIGABRT (the watchdog signal)');
  await waitFor(async () => (await box.unitProperty('wd-probe', 'ActiveState')) === 'active', {
    timeoutMs: 10_000,
    intervalMs: 100,
    what: 'wd-probe active again after its restart',
  });
  const secondPid = Number(await box.unitProperty('wd-probe', 'MainPID'));
  t.ok(secondPid > 1 && secondPid !== firstPid, `a new process (${firstPid} → ${secondPid})`);
  await box.sh('systemctl stop wd-probe.service');
});

t.test('the lab around the box: SIPp calls cross its LAN both ways, and its upsd serves dummy-ups', async (t) => {
  // Inbound: a caller on the LAN (the trunk side) → a SIPp centre inside the box.
  await box.copyIn(SCENARIOS.answer, '/srv/lab/uas-answer.xml');
  await box.runUnit('lab-inbox-centre', [
    'sipp',
    '-sf',
    '/srv/lab/uas-answer.xml',
    '-i',
    box.lan!.boxAddress,
    '-p',
    '5070',
    '-key',
    'role',
    'inbox',
    '-aa',
    '-nostdin',
  ]);
  const inbound = await runOutsideCaller(t, box, { sipPort: 5070, calls: 2, rate: 5, holdMs: 200, timeoutS: 30 });
  t.same(inbound.answersPerRole, { inbox: 2 }, `2 calls from ${box.lan!.outsideAddress} answered inside the box: ${describeCaller(inbound)}`);
  t.equal(inbound.completed, 2, 'both completed (BYE answered)');
  await box.sh('systemctl stop lab-inbox-centre');

  // Outbound: a caller inside the box → a centre on the LAN.
  const centre = await startOutsideCentre(t, box, 'outside', 5080);
  await box.copyIn(SCENARIOS.caller, '/srv/lab/uac.xml');
  const out = await box.exec([
    'sipp',
    '-sf',
    '/srv/lab/uac.xml',
    '-i',
    box.lan!.boxAddress,
    '-m',
    '1',
    '-d',
    '200',
    '-key',
    'rtp_port',
    '9',
    '-s',
    '116117',
    '-timeout',
    '30',
    '-timeout_error',
    '-nostdin',
    `${box.lan!.outsideAddress}:${centre.port}`,
  ]);
  t.equal(out.code, 0, `a call from inside the box reached ${centre.uri} (sipp exit ${out.code})`);

  const ups = await setupDummyUps(box);
  t.equal((await box.sh(`upsc ${ups.ups}@127.0.0.1 battery.charge`)).trim(), '100', 'upsd inside reports the dummy-ups battery');
  await ups.setVars({ 'ups.status': 'OB DISCHRG', 'battery.charge': 80 });
  await waitFor(async () => (await box.sh(`upsc ${ups.ups}@127.0.0.1 ups.status`)).trim() === 'OB DISCHRG', {
    timeoutMs: 15_000,
    intervalMs: 200,
    what: 'upsd to report the new dummy-ups status',
  });
  t.pass('a status change written to the .dev file reaches upsd (OB DISCHRG)');
});

t.test('a container whose test process was SIGKILLed is removed by the next boot (no systemd, mount or namespace left)', async (t) => {
  const script = [
    `import { bootAppliance } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../helpers/appliance/container.ts'))};`,
    `const { container } = await bootAppliance({ rootfs: ${JSON.stringify(rootfs.dir)}, log: () => {} });`,
    'console.log(JSON.stringify({ name: container.name, root: container.root, leader: container.leaderPid }));',
    "process.kill(process.pid, 'SIGKILL');",
  ].join('\n');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const [, signal] = (await once(child, 'exit')) as [number | null, string | null];
  t.equal(signal, 'SIGKILL', 'the owning test process died without stop()');
  const orphan = JSON.parse(out.trim()) as { name: string; root: string; leader: number };
  t.ok(isMounted(orphan.root) && existsSync(`/run/netns/${orphan.name}-box`), `its container ${orphan.name} is left behind`);
  t.equal(readFileSync(`/proc/${orphan.leader}/comm`, 'utf8').trim(), 'systemd', 'and its systemd still runs');

  const reaped = await reapOrphans(log);
  t.ok(reaped.includes(orphan.name), `reaped ${orphan.name}`);
  t.notOk(reaped.includes(box.name), 'the live container of this test is not touched');
  t.notOk(existsSync(`/proc/${orphan.leader}`), 'its systemd is gone');
  t.notOk(isMounted(orphan.root), 'its overlay is unmounted');
  t.notOk(existsSync(`/run/netns/${orphan.name}-box`) || existsSync(`/run/netns/${orphan.name}-out`), 'its namespaces are deleted');
  t.notOk(existsSync(path.dirname(orphan.root)), 'its scratch dir is deleted');
  t.equal((await box.sh('cat /proc/1/comm')).trim(), 'systemd', 'this test’s container still answers');
});

t.test('poweroff: nspawn exits 0, the overlay is gone, the cached rootfs stays', async (t) => {
  const { nspawnExit } = await box.stop();
  t.equal(nspawnExit, 0, 'systemctl poweroff inside ends systemd-nspawn with 0');
  t.notOk(isMounted(box.root), 'overlay unmounted');
  t.notOk(existsSync(path.dirname(box.root)), 'scratch dir (upper layer) deleted');
  t.notOk(existsSync(`/run/netns/${box.lan?.box}`) || existsSync(`/run/netns/${box.lan?.outside}`), 'both network namespaces deleted');
  t.ok(existsSync(path.join(rootfs.dir, 'usr/lib/systemd/systemd')), `cache left in place (${rootfs.dir})`);
  t.notOk(existsSync(path.join(rootfs.dir, 'usr/local/bin/wd-probe')), 'nothing the container wrote reached the cache');
});
