import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { linkDownReason, linkIsUp, parseIpMonitorLine, readLinkSysfs } from '../../../hardware/net/linkEvents.js';
import { scratchDir } from '../../helpers/util.js';

// Lines captured from `ip -o monitor link` (iproute2 6.1) in a namespace on this machine.
const UP =
  '2: wa@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether 42:a1:5f:83:4a:9b brd ff:ff:ff:ff:ff:ff link-netns vpx2';
const NO_CARRIER =
  '2: wa@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 42:a1:5f:83:4a:9b brd ff:ff:ff:ff:ff:ff link-netns vpx2';
const ADMIN_DOWN =
  '2: wa@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether 42:a1:5f:83:4a:9b brd ff:ff:ff:ff:ff:ff link-netns vpx2';
const DELETED =
  'Deleted 2: wa@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \\    link/ether 42:a1:5f:83:4a:9b brd ff:ff:ff:ff:ff:ff';
const WWAN = '5: wwan0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1500 qdisc fq_codel state UNKNOWN mode DEFAULT group default qlen 1000\\    link/none';

t.test('parses carrier, admin and operstate', async (t) => {
  const up = parseIpMonitorLine(UP);
  t.match(up, { ifname: 'wa', exists: true, adminUp: true, carrier: true, operstate: 'up', source: 'netlink' });
  t.ok(up && linkIsUp(up));

  const nc = parseIpMonitorLine(NO_CARRIER);
  t.match(nc, { ifname: 'wa', adminUp: true, carrier: false, operstate: 'down' });
  t.ok(nc && !linkIsUp(nc));
  t.match(nc && linkDownReason(nc), /has no carrier/);

  const ad = parseIpMonitorLine(ADMIN_DOWN);
  t.match(ad, { adminUp: false, carrier: false });
  t.match(ad && linkDownReason(ad), /administratively down/);

  const del = parseIpMonitorLine(DELETED);
  t.match(del, { ifname: 'wa', exists: false, operstate: 'notpresent' });
  t.match(del && linkDownReason(del), /does not exist/);
});

t.test('a modem with operstate UNKNOWN but LOWER_UP counts as up', async (t) => {
  const s = parseIpMonitorLine(WWAN);
  t.match(s, { ifname: 'wwan0', carrier: true, operstate: 'unknown' });
  t.ok(s && linkIsUp(s));
});

t.test('non-link lines are ignored', async (t) => {
  t.equal(parseIpMonitorLine(''), undefined);
  t.equal(parseIpMonitorLine('Timestamp: Mon Jan  1 00:00:00 2024 123 usec'), undefined);
});

t.test('sysfs reading: up, admin down (carrier unreadable), absent', async (t) => {
  const { dir, cleanup } = await scratchDir('sysfs');
  t.teardown(cleanup);
  const mk = async (name: string, files: Record<string, string>) => {
    await mkdir(path.join(dir, name));
    for (const [f, v] of Object.entries(files)) await writeFile(path.join(dir, name, f), `${v}\n`);
  };
  await mk('eth1', { operstate: 'up', carrier: '1', flags: '0x1003' });
  await mk('eth2', { operstate: 'down', flags: '0x1002' }); // no carrier file: reads EINVAL when admin down
  const e1 = await readLinkSysfs('eth1', dir);
  t.match(e1, { exists: true, adminUp: true, carrier: true, operstate: 'up', source: 'sysfs' });
  t.ok(linkIsUp(e1));
  const e2 = await readLinkSysfs('eth2', dir);
  t.match(e2, { exists: true, adminUp: false, carrier: false });
  const e3 = await readLinkSysfs('wwan9', dir);
  t.match(e3, { exists: false, operstate: 'notpresent' });
});
