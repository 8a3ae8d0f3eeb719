/**
 * WAN figures, measured in the netns test-bed (test/helpers/netns) with the real
 * monitor code running in the box namespace:
 *
 * 1. Detection time (median/p95) for carrier loss and a silent blackhole on wan1 with
 *    our defaults, side by side with the *same probe code* configured like the peers:
 *      mwan3-like  (OpenWrt): 10 s interval, down after 5, 4 s timeout, reacts to ifdown
 *      dpinger-like (pfSense): 500 ms interval, 2 s loss interval, down at ≥ 20 % loss
 *                              over a 60 s window, no link awareness
 *    The slow peers run in fewer trials (their detection takes 15–55 s each).
 * 2. Other faults, ours only (`--fault-trials N`, default 5), the limits test/integration/wan/
 *    links.test.ts no longer asserts: admin down on wan1 (goal 100 ms), an upstream-only
 *    failure behind the ISP (1.5 s), both links blackholed → the site WAN fails (1.7 s from
 *    the first blackhole), the local centre's SIP service dead → every centres.local.* path
 *    fails (4 s: 500 ms centre probes × 6). A random phase over the probe interval each trial.
 * 3. Soak (`--soak-min N`, default 10): 5 % random loss per packet in each direction on
 *    wan1 and +300 ms RTT on wan2, counting false downs (goal 0). A naive
 *    200 ms × 3 / fixed 200 ms-timeout monitor runs beside it as a positive control:
 *    it must show false downs, proving the soak can see them.
 *
 * Usage: npx tsx test/bench/wan.bench.ts [--soak-min N] [--no-soak] [--trials N] [--fault-trials N]
 *        [--only detection,faults,soak]   (sections to run; default all)
 * One JSON line per figure on stdout; progress on stderr.
 */
import type { WanConfigInput } from '../../supervisor/src/config/wan.js';
import type { MonitorProcess } from '../helpers/netns/monitorProcess.js';
import { type FaultStamp, Testbed } from '../helpers/netns/testbed.js';
import { percentiles } from '../helpers/util.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const SOAK_MIN = Number(arg('--soak-min') ?? process.env.WAN_SOAK_MIN ?? 10);
const NO_SOAK = process.argv.includes('--no-soak');
const TRIALS = Number(arg('--trials') ?? 20);
const PEER_TRIALS = { dpinger: 5, mwan3: 3 };
const FAULT_TRIALS = Number(arg('--fault-trials') ?? 5);
const ONLY = new Set((arg('--only') ?? 'detection,faults,soak').split(','));

const log = (msg: string) => process.stderr.write(`[wan.bench] ${msg}\n`);
const emit = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
const r1 = (x: number) => Math.round(x * 10) / 10;

type Peer = 'ours' | 'mwan3' | 'dpinger';
const INTERVAL_MS: Record<Peer, number> = { ours: 100, mwan3: 10_000, dpinger: 500 };

function configs(bed: Testbed): Record<Peer, WanConfigInput> {
  const base = bed.wanConfig();
  return {
    ours: { ...base },
    mwan3: {
      // OpenWrt mwan3 track defaults: interval 10, timeout 4, count 1, down 5, up 5.
      ...base,
      intervalMs: INTERVAL_MS.mwan3,
      downAfter: 5,
      upAfter: 1, // recovery speed is not measured; this only shortens the bench
      timeout: { floorMs: 4000, capMs: 4000, initialMs: 4000, marginMs: 0 },
      watchCarrier: true, // netifd's ifdown hotplug event on carrier loss
    },
    dpinger: {
      // pfSense dpinger defaults: probe 500 ms, loss interval 2000 ms, time period 60 s, loss alarm 20 %.
      ...base,
      intervalMs: INTERVAL_MS.dpinger,
      downAfter: 1000, // no streak rule: loss over the window only
      downLossPct: 20,
      windowRounds: 120, // 60 s
      upAfter: 1,
      timeout: { floorMs: 2000, capMs: 2000, initialMs: 2000, marginMs: 0 },
      watchCarrier: false,
    },
  };
}

async function detectionTrials(
  bed: Testbed,
  mons: Record<Peer, MonitorProcess | undefined>,
  fault: (b: Testbed) => Promise<FaultStamp>,
  label: string,
): Promise<Record<Peer, number[]> & { cmdMs: number[] }> {
  const out: Record<Peer, number[]> = { ours: [], mwan3: [], dpinger: [] };
  const cmdMs: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const active = (['ours', 'mwan3', 'dpinger'] as const).filter((p) => {
      if (!mons[p]) return false;
      return p === 'ours' || i < PEER_TRIALS[p];
    });
    // Everyone healthy first (a peer may need one of its slow rounds to notice the restore).
    for (const p of active) {
      if (mons[p]?.latest('wan.wan1.state')?.status !== 'ok') {
        await mons[p]?.waitStatus('wan.wan1.state', 'ok', { timeoutMs: 60_000, since: Date.now() - 1 });
      }
    }
    // A uniformly random phase over the slowest active prober's interval: otherwise the
    // fault always lands just after the peer's recovery round (its worst case).
    const slowest = Math.max(...active.map((p) => INTERVAL_MS[p]));
    await new Promise((r) => setTimeout(r, 100 + Math.random() * slowest));
    const f = await fault(bed);
    const got = await Promise.all(
      active.map((p) => mons[p]?.waitStatus('wan.wan1.state', 'fail', { timeoutMs: 120_000, since: f.at }).then((s) => [p, s.t - f.at] as const)),
    );
    for (const g of got) if (g) out[g[0]].push(g[1]);
    cmdMs.push(f.doneAt - f.at);
    log(`${label} trial ${i + 1}/${TRIALS}: ${got.map((g) => (g ? `${g[0]} ${g[1]} ms` : '')).join(', ')} (fault command ${f.doneAt - f.at} ms)`);
    await bed.restore('wan1');
  }
  return { ...out, cmdMs };
}

function detectionFigures(name: string, goal: number, res: Record<Peer, number[]> & { cmdMs: number[] }): void {
  const ours = percentiles(res.ours);
  const peerStats = (p: 'mwan3' | 'dpinger', which: 'median' | 'p95') => {
    const s = percentiles(res[p]);
    // ratio = how many times longer the peer setting took than ours
    return { value: r1(s[which]), n: res[p].length, ratio: Math.round((100 * s[which]) / ours[which]) / 100 };
  };
  for (const which of ['median', 'p95'] as const) {
    emit({
      name: `wan.detect.${name}.${which}`,
      value: r1(ours[which]),
      unit: 'ms',
      goal,
      better: 'lower',
      n: res.ours.length,
      min: r1(ours.min),
      max: r1(ours.max),
      // Timed from just before the fault command; this is how long the command itself took.
      faultCommandMedianMs: r1(percentiles(res.cmdMs).median),
      peer: {
        'mwan3-like (10 s x 5, 4 s timeout)': peerStats('mwan3', which),
        'dpinger-like (500 ms, 60 s window, 20 % loss)': peerStats('dpinger', which),
      },
    });
  }
}

async function detection(bed: Testbed): Promise<void> {
  const cfg = configs(bed);
  log('starting monitors: ours, mwan3-like, dpinger-like');
  const mons: Record<Peer, MonitorProcess | undefined> = {
    ours: await bed.startMonitor(cfg.ours, { label: 'ours' }),
    mwan3: await bed.startMonitor(cfg.mwan3, { label: 'mwan3-like' }),
    dpinger: await bed.startMonitor(cfg.dpinger, { label: 'dpinger-like' }),
  };
  const carrier = await detectionTrials(bed, mons, (b) => b.carrierLoss('wan1'), 'carrier loss');
  detectionFigures('carrier_loss', 100, carrier);
  const blackhole = await detectionTrials(bed, mons, (b) => b.blackhole('wan1'), 'blackhole');
  detectionFigures('blackhole', 1500, blackhole);
  await Promise.all([mons.ours?.stop(), mons.mwan3?.stop(), mons.dpinger?.stop()]);
}

/** Ours only, with the centre probes on: faults the detection section does not time. */
async function otherFaults(bed: Testbed): Promise<void> {
  const mon = await bed.startMonitor(bed.wanConfig(), { centres: true, label: 'faults: ours' });
  const links = ['wan1', 'wan2'] as const;
  const healthy = async (since: number) => {
    for (const l of links) await mon.waitStatus(`wan.${l}.state`, 'ok', { timeoutMs: 20_000, since });
    for (const c of ['local', 'backup', 'trunk']) for (const l of links) await mon.waitStatus(`centres.${c}.${l}`, 'ok', { timeoutMs: 20_000, since });
  };
  await healthy(Date.now() - 60_000);
  const CENTRE_PROBE_MS = 500;
  const cases: Array<{ name: string; goal: number; phaseMs: number; run: () => Promise<number>; undo: () => Promise<unknown> }> = [
    {
      name: 'admin_down',
      goal: 100,
      phaseMs: INTERVAL_MS.ours,
      run: async () => {
        const f = await bed.adminDown('wan1');
        return (await mon.waitStatus('wan.wan1.state', 'fail', { timeoutMs: 5000, since: f.at })).t - f.at;
      },
      undo: () => bed.restore('wan1'),
    },
    {
      name: 'upstream_failure',
      goal: 1500,
      phaseMs: INTERVAL_MS.ours,
      run: async () => {
        const f = await bed.upstreamFailure('wan1');
        return (await mon.waitStatus('wan.wan1.state', 'fail', { timeoutMs: 5000, since: f.at })).t - f.at;
      },
      undo: () => bed.restore('wan1'),
    },
    {
      name: 'both_blackholed_site',
      goal: 1700,
      phaseMs: INTERVAL_MS.ours,
      run: async () => {
        const f = await bed.blackhole('wan1');
        await bed.blackhole('wan2');
        return (await mon.waitStatus('wan.site.state', 'fail', { timeoutMs: 5000, since: f.at })).t - f.at;
      },
      undo: async () => {
        await bed.restore('wan1');
        await bed.restore('wan2');
      },
    },
    {
      name: 'local_centre_dead',
      goal: 4000,
      phaseMs: CENTRE_PROBE_MS,
      run: async () => {
        const f = await bed.stopCentre('local');
        const paths = await Promise.all(links.map((l) => mon.waitStatus(`centres.local.${l}`, 'fail', { timeoutMs: 10_000, since: f.at })));
        return Math.max(...paths.map((p) => p.t - f.at));
      },
      undo: () => bed.startCentre('local'),
    },
  ];
  for (const c of cases) {
    const xs: number[] = [];
    for (let i = 0; i < FAULT_TRIALS; i++) {
      await new Promise((r) => setTimeout(r, 100 + Math.random() * c.phaseMs));
      xs.push(await c.run());
      log(`${c.name} trial ${i + 1}/${FAULT_TRIALS}: ${xs.at(-1)} ms`);
      const since = Date.now();
      await c.undo();
      await healthy(since);
    }
    const p = percentiles(xs);
    emit({
      name: `wan.detect.${c.name}.p95`,
      value: r1(p.p95),
      unit: 'ms',
      goal: c.goal,
      better: 'lower',
      median: r1(p.median),
      max: r1(p.max),
      n: xs.length,
      detail: 'ours only; timed from just before the fault command, as in links.test.ts',
    });
  }
  await mon.stop();
}

/** Transitions into `fail` of `key` at or after `since`. */
function downsSince(m: MonitorProcess, key: string, since: number): number {
  let prev: string | undefined;
  let downs = 0;
  for (const s of m.history(key)) {
    if (s.t >= since && s.signal.status === 'fail' && prev !== 'fail') downs++;
    prev = s.signal.status;
  }
  return downs;
}

async function soak(bed: Testbed): Promise<void> {
  const base = bed.wanConfig();
  const singleTarget: WanConfigInput = {
    ...base,
    links: (base.links ?? []).map((l) => ({ ...l, targets: l.targets.slice(0, 1) })),
  };
  const naive: WanConfigInput = {
    ...singleTarget,
    intervalMs: 200,
    downAfter: 3,
    upAfter: 1,
    timeout: { floorMs: 200, capMs: 200, initialMs: 200, marginMs: 0 },
  };
  const ours = await bed.startMonitor(base, { label: 'soak: ours' });
  const ours1 = await bed.startMonitor(singleTarget, { label: 'soak: ours, one target' });
  const control = await bed.startMonitor(naive, { label: 'soak: naive control' });
  for (const m of [ours, ours1, control]) {
    for (const l of ['wan1', 'wan2']) await m.waitStatus(`wan.${l}.state`, 'ok', { timeoutMs: 20_000 });
  }
  const start = Date.now();
  await bed.loss('wan1', 5);
  await bed.delay('wan2', 300);
  log(`soak: 5 % loss per packet each way on wan1, +300 ms RTT on wan2, for ${SOAK_MIN} min`);
  const progress = setInterval(() => {
    const min = ((Date.now() - start) / 60_000).toFixed(1);
    log(
      `soak ${min} min: ours downs wan1 ${downsSince(ours, 'wan.wan1.state', start)} wan2 ${downsSince(ours, 'wan.wan2.state', start)}; ` +
        `one-target ${downsSince(ours1, 'wan.wan1.state', start)}/${downsSince(ours1, 'wan.wan2.state', start)}; ` +
        `naive ${downsSince(control, 'wan.wan1.state', start)}/${downsSince(control, 'wan.wan2.state', start)}`,
    );
  }, 60_000);
  await new Promise((r) => setTimeout(r, SOAK_MIN * 60_000));
  clearInterval(progress);
  const minutes = (Date.now() - start) / 60_000;

  const mean = (m: MonitorProcess, key: string) => {
    const xs = m
      .history(key, start + 15_000)
      .map((s) => s.signal.value)
      .filter((v): v is number => typeof v === 'number');
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
  };
  const lossPct = mean(ours, 'wan.wan1.loss');
  const q1 = lossPct / 100; // per-probe loss observed
  const perDay = (q: number, n: number, ms: number) => (86_400_000 / ms) * (1 - q) * q ** n;
  emit({
    name: 'wan.soak.loss5pct.false_downs',
    value: downsSince(ours, 'wan.wan1.state', start),
    unit: 'count',
    goal: 0,
    better: 'lower',
    minutes: r1(minutes),
    observedProbeLossPct: r1(lossPct),
    expectedPerDay: { twoTargets: perDay(q1 * q1, 6, 100), oneTarget: perDay(q1, 6, 100) },
    oneTarget: downsSince(ours1, 'wan.wan1.state', start),
    peer: {
      'naive (200 ms x 3, fixed 200 ms timeout, one target)': {
        value: downsSince(control, 'wan.wan1.state', start),
        expected: r1((perDay(q1, 3, 200) * minutes) / 1440),
      },
    },
  });
  emit({
    name: 'wan.soak.delay300ms.false_downs',
    value: downsSince(ours, 'wan.wan2.state', start),
    unit: 'count',
    goal: 0,
    better: 'lower',
    minutes: r1(minutes),
    rttMs: r1(mean(ours, 'wan.wan2.rtt')),
    oneTarget: downsSince(ours1, 'wan.wan2.state', start),
    peer: { 'naive (fixed 200 ms timeout)': { value: downsSince(control, 'wan.wan2.state', start) } },
  });
  await Promise.all([ours.stop(), ours1.stop(), control.stop()]);
  await bed.restore('wan1');
  await bed.restore('wan2');
}

// The far ends' SIP services only for the centre-death fault.
const bed = await Testbed.create({ sip: ONLY.has('faults') });
let failed = false;
const onSignal = () => {
  void bed.teardown().then(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
try {
  if (ONLY.has('detection')) await detection(bed);
  if (ONLY.has('faults') && FAULT_TRIALS > 0) await otherFaults(bed);
  if (ONLY.has('soak') && !NO_SOAK && SOAK_MIN > 0) await soak(bed);
} catch (e) {
  failed = true;
  log(`failed: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  await bed.teardown();
}
process.exit(failed ? 1 : 0);
