/**
 * The WAN and centre monitors in the network-namespace test-bed (test/helpers/netns):
 * real veth links, real routing tables, faults injected on the ISP side, the monitor
 * running inside the box namespace. The tests check *what* detected each fault (the
 * carrier path or the probes, per the signal's detail) and what stayed up; how fast is
 * measured by test/bench/wan.bench.ts (wan.detect.*), not here: a busy machine must not
 * fail a functional test. Detection times are still printed as comments.
 */
import { readFile } from 'node:fs/promises';
import t from 'tap';
import type { MonitorProcess } from '../../helpers/netns/monitorProcess.js';
import { ip } from '../../helpers/netns/sh.js';
import { type LinkName, LINKS, Testbed } from '../../helpers/netns/testbed.js';

// How long to wait for an event before calling it "never happened" (not a speed limit).
const WAIT_MS = 30_000;

let bed: Testbed;
let mon: MonitorProcess;

t.before(async () => {
  bed = await Testbed.create();
  t.teardown(() => bed.teardown());
  mon = await bed.startMonitor(bed.wanConfig(), { centres: true });
  await allHealthy(Date.now() - 60_000, 60_000);
});

/** Every link ok and every centre path ok, each reported at or after `since`. */
async function allHealthy(since: number, timeoutMs = WAIT_MS): Promise<void> {
  for (const l of LINKS) await mon.waitStatus(`wan.${l}.state`, 'ok', { timeoutMs, since });
  for (const c of ['local', 'backup', 'trunk']) {
    for (const l of LINKS) await mon.waitStatus(`centres.${c}.${l}`, 'ok', { timeoutMs, since });
  }
}

async function restore(...links: LinkName[]): Promise<void> {
  const since = Date.now();
  for (const l of links) await bed.restore(l);
  await allHealthy(since);
}

function statusesSince(key: string, since: number): string[] {
  return mon.history(key, since).map((s) => s.signal.status);
}

t.test('carrier loss on wan1: link and state fail from the carrier (not the probes), wan2 untouched', async (t) => {
  const f = await bed.carrierLoss('wan1');
  const link = await mon.waitStatus('wan.wan1.link', 'fail', { timeoutMs: WAIT_MS, since: f.at });
  const state = await mon.waitStatus('wan.wan1.state', 'fail', { timeoutMs: WAIT_MS, since: f.at });
  t.comment(`carrier loss → wan.wan1.state fail in ${state.t - f.at} ms (fault command took ${f.doneAt - f.at} ms)`);
  t.comment(`carrier loss → wan.wan1.link fail in ${link.t - f.at} ms`);
  t.match(link.signal.detail, /no carrier/, 'the link signal names the carrier');
  t.match(state.signal.detail, /no carrier/, 'the first failing state names the carrier: the link path saw it, not the probes');
  t.notMatch(state.signal.detail, /probe rounds/, 'not a probe verdict');
  t.equal(mon.latest('wan.site.state')?.status, 'ok', 'site still up on wan2');
  t.notOk(
    statusesSince('wan.wan2.state', f.at).some((s) => s !== 'ok'),
    'wan2 stayed ok',
  );
  await restore('wan1');
});

t.test('admin down on wan1: fail from the link state; routes restored on the way back', async (t) => {
  const f = await bed.adminDown('wan1');
  const state = await mon.waitStatus('wan.wan1.state', 'fail', { timeoutMs: WAIT_MS, since: f.at });
  t.comment(`admin down → fail in ${state.t - f.at} ms (command ${f.doneAt - f.at} ms)`);
  t.match(state.signal.detail, /administratively down/, 'the first failing state names the admin-down link, not a probe verdict');
  await restore('wan1');
  t.pass('wan1 answers again after link up + route re-add');
});

t.test('silent blackhole on wan1: the probes find it; wan2 stays up', async (t) => {
  const f = await bed.blackhole('wan1');
  const state = await mon.waitStatus('wan.wan1.state', 'fail', { timeoutMs: WAIT_MS, since: f.at });
  t.comment(`blackhole → wan.wan1.state fail in ${state.t - f.at} ms`);
  t.match(state.signal.detail, /probe rounds in a row lost to every target/);
  t.notOk(statusesSince('wan.wan1.link', f.at).includes('fail'), 'carrier never dropped: only probes could see this');
  t.notOk(
    statusesSince('wan.wan2.state', f.at).some((s) => s !== 'ok'),
    'wan2 stayed ok',
  );
  t.notOk(statusesSince('wan.site.state', f.at).includes('fail'), 'the site never lost its WAN');
  // Centre paths over wan1 go too (same probes' fate), over wan2 they stay.
  await mon.waitStatus('centres.local.wan1', 'fail', { timeoutMs: WAIT_MS, since: f.at });
  t.equal(mon.latest('centres.local.wan2')?.status, 'ok', 'local centre still reachable via wan2');
  await restore('wan1');
});

t.test('upstream-only failure on wan1: the ISP answers, beyond it nothing — probes catch it', async (t) => {
  const f = await bed.upstreamFailure('wan1');
  const state = await mon.waitStatus('wan.wan1.state', 'fail', { timeoutMs: WAIT_MS, since: f.at });
  t.comment(`upstream-only failure → wan.wan1.state fail in ${state.t - f.at} ms`);
  t.match(state.signal.detail, /probe rounds in a row lost/, 'found by the probes');
  t.ok(await bed.ispAnswersPing('wan1'), 'the ISP router itself still answers ping over wan1');
  t.notOk(statusesSince('wan.wan1.link', f.at).includes('fail'), 'carrier stayed up');
  await restore('wan1');
});

t.test('both links blackholed: the site WAN fails', async (t) => {
  const f1 = await bed.blackhole('wan1');
  await bed.blackhole('wan2');
  const site = await mon.waitStatus('wan.site.state', 'fail', { timeoutMs: WAIT_MS, since: f1.at });
  t.comment(`both blackholed → wan.site.state fail in ${site.t - f1.at} ms`);
  t.match(site.signal.detail, /every link is down/);
  for (const c of ['local', 'backup']) {
    for (const l of LINKS) await mon.waitStatus(`centres.${c}.${l}`, 'fail', { timeoutMs: WAIT_MS, since: f1.at });
  }
  t.pass('every centre path fails too');
  await restore('wan1', 'wan2');
  t.equal(mon.latest('wan.site.state')?.status, 'ok');
});

t.test('local centre dead, WAN fine: centres.local.* fail on every path, nothing else', async (t) => {
  const f = await bed.stopCentre('local');
  const paths = await Promise.all(LINKS.map((l) => mon.waitStatus(`centres.local.${l}`, 'fail', { timeoutMs: WAIT_MS, since: f.at })));
  const worst = Math.max(...paths.map((p) => p.t - f.at));
  t.comment(`local centre dead → centres.local.* fail on every path in ${worst} ms`);
  t.match(paths[0]?.signal.detail, /local centre unreachable via wan1/);
  for (const l of LINKS) {
    t.notOk(
      statusesSince(`wan.${l}.state`, f.at).some((s) => s !== 'ok'),
      `${l} stayed ok`,
    );
    t.notOk(
      statusesSince(`centres.backup.${l}`, f.at).some((s) => s !== 'ok'),
      `backup via ${l} stayed ok`,
    );
  }
  const since = Date.now();
  await bed.startCentre('local');
  for (const l of LINKS) await mon.waitStatus(`centres.local.${l}`, 'ok', { timeoutMs: WAIT_MS, since });
});

t.test('a 300 ms-RTT link is slow, not down: timeouts follow the RTT', async (t) => {
  const f = await bed.delay('wan2', 300);
  const rtt = await mon.waitFor((s) => s.key === 'wan.wan2.rtt' && typeof s.value === 'number' && s.value >= 280, {
    timeoutMs: 60_000,
    since: f.at,
    what: 'wan2 median RTT ≥ 280 ms',
  });
  // Keep watching for five more heartbeats' worth of state reports.
  const seen = mon.history('wan.wan2.state', rtt.t).length;
  await mon.waitFor(() => mon.history('wan.wan2.state', rtt.t).length >= seen + 5, {
    timeoutMs: 60_000,
    what: 'five more wan2 state reports',
  });
  t.comment(`wan2 RTT ${rtt.signal.value} ms; state ${mon.latest('wan.wan2.state')?.detail}`);
  t.notOk(statusesSince('wan.wan2.state', f.at).includes('fail'), 'never declared down');
  t.match(mon.latest('wan.wan2.state')?.detail, /timeouts (\d{3,})\/(\d{3,}) ms/);
  await restore('wan2');
});

t.test('the `ip monitor` subprocess is restarted when it dies, and carrier loss is still instant', async (t) => {
  const { stdout } = await ip(undefined, 'netns', 'pids', bed.ns.box);
  let killed: number | undefined;
  // Taken before the kill: the monitor may report the exit while this loop still reads /proc.
  const since = Date.now();
  for (const pid of stdout.split(/\s+/).filter(Boolean).map(Number)) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.split('\0').join(' ').trim() === 'ip -o monitor link') {
      killed = pid;
      process.kill(pid, 'SIGKILL'); // a process the monitor under test started
    }
  }
  t.ok(killed, 'found the monitor subprocess');
  const fault = await mon.waitFor((s) => s.key === 'wan.wan1.link' && /exited/.test(s.detail ?? ''), {
    timeoutMs: WAIT_MS,
    since,
    what: 'the fault to be reported',
  });
  await mon.waitFor((s) => s.key === 'wan.wan1.link' && s.status === 'ok' && !/monitor link/.test(s.detail ?? ''), {
    timeoutMs: WAIT_MS,
    since: fault.t,
    what: 'the fault to clear after the restart',
  });
  const f = await bed.carrierLoss('wan1');
  const state = await mon.waitStatus('wan.wan1.state', 'fail', { timeoutMs: WAIT_MS, since: f.at });
  t.comment(`carrier loss after restart → fail in ${state.t - f.at} ms`);
  t.match(state.signal.detail, /no carrier/, 'still seen from the carrier, not left to the probes');
  await restore('wan1');
});
