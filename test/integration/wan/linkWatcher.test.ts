/**
 * LinkWatcher against a scratch sysfs tree: the carrier-bit poll (which covers the
 * kernel's linkwatch delay), the periodic resync, and a dead `ip monitor`.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { type LinkSnapshot, LinkWatcher } from '../../../hardware/net/linkEvents.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

async function fakeIface(root: string, name: string, carrier: '0' | '1'): Promise<void> {
  await mkdir(path.join(root, name), { recursive: true });
  await writeFile(path.join(root, name, 'operstate'), 'up\n');
  await writeFile(path.join(root, name, 'flags'), '0x1003\n');
  await writeFile(path.join(root, name, 'carrier'), `${carrier}\n`);
}

t.test('carrier bit poll sees a carrier drop long before the resync', async (t) => {
  const { dir, cleanup } = await scratchDir('sysfs');
  t.teardown(cleanup);
  await fakeIface(dir, 'vpwan9', '1');
  const seen: LinkSnapshot[] = [];
  // `ip monitor` runs for real but never mentions vpwan9; only sysfs drives this test.
  const w = new LinkWatcher({ ifnames: ['vpwan9'], onChange: (s) => seen.push(s), sysfsRoot: dir, carrierPollMs: 20, resyncMs: 60_000 });
  t.teardown(() => w.stop());
  await w.start();
  t.match(seen[0], { ifname: 'vpwan9', carrier: true, operstate: 'up' }, 'initial state from sysfs');
  const resyncAt = performance.now() + 60_000;
  await writeFile(path.join(dir, 'vpwan9', 'carrier'), '0\n'); // operstate still says up, as the kernel's does until linkwatch runs
  // Waiting at most 30 s: the resync is a minute away, so only the carrier poll can have found it.
  const down = await waitFor(() => seen.find((s) => !s.carrier), { timeoutMs: 30_000, what: 'the carrier poll to see the drop' });
  t.ok(performance.now() < resyncAt, 'seen by the carrier poll, before the 60 s resync could run');
  t.equal(down.source, 'sysfs');
  t.equal(down.operstate, 'up', 'operstate lags; the carrier bit decides');
});

t.test('without the poll only the periodic resync finds it', async (t) => {
  const { dir, cleanup } = await scratchDir('sysfs');
  t.teardown(cleanup);
  await fakeIface(dir, 'vpwan8', '1');
  const seen: LinkSnapshot[] = [];
  const w = new LinkWatcher({ ifnames: ['vpwan8'], onChange: (s) => seen.push(s), sysfsRoot: dir, carrierPollMs: 0, resyncMs: 300 });
  t.teardown(() => w.stop());
  await w.start();
  await writeFile(path.join(dir, 'vpwan8', 'carrier'), '0\n');
  await waitFor(() => seen.find((s) => !s.carrier), { timeoutMs: 30_000, what: 'the resync to see the drop' });
  await rm(path.join(dir, 'vpwan8'), { recursive: true });
  const gone = await waitFor(() => seen.find((s) => !s.exists), { timeoutMs: 30_000, what: 'the interface to vanish' });
  t.equal(gone.operstate, 'notpresent');
});

t.test('a dead `ip monitor` is reported with the fix, and retried', async (t) => {
  const { dir, cleanup } = await scratchDir('sysfs');
  t.teardown(cleanup);
  await fakeIface(dir, 'vpwan7', '1');
  const faults: (string | undefined)[] = [];
  const w = new LinkWatcher({
    ifnames: ['vpwan7'],
    onChange: () => {},
    onFault: (f) => faults.push(f),
    sysfsRoot: dir,
    ipCommand: '/bin/false',
    restartMs: 20,
  });
  t.teardown(() => w.stop());
  await w.start();
  await waitFor(() => faults.some((f) => f !== undefined), { timeoutMs: 30_000, what: 'a fault report' });
  t.match(w.currentFault(), /`\/bin\/false -o monitor link` exited \(code 1\).*sysfs poll.*iproute2/);
  // It keeps retrying: each spawn clears the fault, each exit sets it again.
  await waitFor(() => faults.filter((f) => f === undefined).length >= 2, { timeoutMs: 30_000, what: 'two restarts' });
});
