/**
 * TimeMonitor against a scripted TimeSource (the role the simulated box plays):
 * the signal set, unknown-with-cause on every kind of wrapper error (the error
 * bound in holdover once a good one is known), ntpdata wiring, no overlapping
 * polls, nothing emitted after stop. The real chronyd is driven in
 * test/integration/time.
 */
import t from 'tap';
import {
  ChronydNotRunningError,
  ChronyNotAuthorisedError,
  ChronyParseError,
  type NtpSourceData,
  type NtpSourceInfo,
  type TimeSource,
  type Tracking,
} from '../../../hardware/chrony/index.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { TIME_SIGNAL_KEYS, TimeMonitor } from '../../../supervisor/src/monitors/timeMonitor.js';
import { assertStopsQuietly, SimClock } from '../../helpers/simClock.js';
import { waitFor } from '../../helpers/util.js';

const TH = { warnS: 0.5, failS: 1.0, clearHoldS: 4, maxSourceLossS: 30 };

function goodTracking(): Tracking {
  return {
    refId: '7F000001',
    refName: '127.0.0.1',
    stratum: 2,
    refTime: Date.now() / 1000 - 0.2,
    systemTimeS: 0.0001,
    lastOffsetS: 0,
    rmsOffsetS: 0,
    freqPpm: 0,
    residFreqPpm: 0,
    skewPpm: 1,
    rootDelayS: 0.0003,
    rootDispersionS: 0.0002,
    updateIntervalS: 0.3,
    leapStatus: 'Normal',
  };
}
const goodSources: NtpSourceInfo[] = [
  {
    mode: 'server',
    state: 'selected',
    address: '127.0.0.1',
    stratum: 1,
    pollLog2: -2,
    reach: 0o377,
    lastRxS: 0,
    adjustedOffsetS: 0,
    measuredOffsetS: 0,
    errorS: 0.0003,
  },
];

class ScriptedSource implements TimeSource {
  fail: Error | null = null;
  calls = 0;
  concurrent = 0;
  maxConcurrent = 0;
  delayMs = 0;
  async tracking(): Promise<Tracking> {
    this.calls++;
    this.concurrent++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (this.fail) throw this.fail;
      return goodTracking();
    } finally {
      this.concurrent--;
    }
  }
  async sources(): Promise<NtpSourceInfo[]> {
    if (this.fail) throw this.fail;
    return goodSources;
  }
}

t.test('healthy source: the five time signals, all ok, with units and ttl', async (t) => {
  const src = new ScriptedSource();
  const got: Signal[] = [];
  const m = new TimeMonitor({ source: src, thresholds: TH, pollMs: 1000 });
  t.teardown(() => m.stop());
  await m.start((s) => got.push(s));
  t.same(
    got.map((s) => s.key),
    [...TIME_SIGNAL_KEYS],
  );
  for (const s of got) {
    t.equal(s.status, 'ok', `${s.key} ok`);
    t.equal(s.subsystem, 'time');
    t.equal(s.source, 'chrony');
    t.ok(s.ttlMs >= 3000, 'ttl covers three polls');
  }
  t.equal(got.find((s) => s.key === 'time.offset')?.unit, 's');
  t.equal(got.find((s) => s.key === 'time.leap')?.value, 'Normal');
});

t.test('wrapper errors: unknown with the cause; the error bound in holdover (warn); recovery at once', async (t) => {
  const src = new ScriptedSource();
  const got: Signal[] = [];
  const m = new TimeMonitor({ source: src, thresholds: TH, pollMs: 30 });
  t.teardown(() => m.stop());
  await m.start((s) => got.push(s));

  for (const err of [
    new ChronydNotRunningError('chronyd is not running or not reachable at /run/chrony/chronyd.sock'),
    new ChronyParseError('chronyc -c tracking: expected 14 comma-separated fields, got 3'),
  ]) {
    src.fail = err;
    const from = got.length;
    await waitFor(() => got.slice(from).filter((s) => s.status === 'unknown').length >= 4, { timeoutMs: 30_000, what: 'four unknown signals' });
    const round = got
      .slice(from)
      .filter((s) => s.status !== 'ok')
      .slice(0, 5);
    t.same(
      round.map((s) => s.key),
      [...TIME_SIGNAL_KEYS],
    );
    for (const s of round) {
      if (s.key === 'time.errorBound') {
        t.equal(s.status, 'warn', 'the error bound: holdover from the last good one');
        t.ok(typeof s.value === 'number' && s.value < 0.01, `holdover bound ${s.value}`);
        t.match(s.detail, `monitoring fault: ${err.message}; holdover: last good bound`);
      } else {
        t.equal(s.status, 'unknown', s.key);
        t.equal(s.value, null);
        t.equal(s.detail, `monitoring fault: ${err.message}`);
      }
    }
  }
  src.fail = null;
  const from = got.length;
  await waitFor(() => got.slice(from).some((s) => s.key === 'time.errorBound' && s.status === 'ok'), { timeoutMs: 30_000, what: 'recovery' });
  t.pass('recovered to ok when the source answers again (the bound never left ok: no hold to serve)');
});

t.test('chronyd unreachable from the start: every signal unknown with the cause', async (t) => {
  const src = new ScriptedSource();
  src.fail = new ChronydNotRunningError('chronyd is not running or not reachable at /run/chrony/chronyd.sock');
  const got: Signal[] = [];
  const m = new TimeMonitor({ source: src, thresholds: TH, pollMs: 1000 });
  t.teardown(() => m.stop());
  await m.start((s) => got.push(s));
  t.same(
    got.map((s) => [s.key, s.status, s.value]),
    TIME_SIGNAL_KEYS.map((k) => [k, 'unknown', null]),
  );
});

class PacketSource extends ScriptedSource implements TimeSource {
  packet: Partial<NtpSourceData> = {};
  packetError: Error | null = null;
  async ntpData(): Promise<NtpSourceData[]> {
    if (this.packetError) throw this.packetError;
    return [
      {
        address: '127.0.0.1',
        leapStatus: 'Normal',
        stratum: 1,
        pollLog2: -2,
        rootDelayS: 0,
        rootDispersionS: 0.0001,
        refId: '54455354',
        refName: 'TEST',
        tests: '111 111 1111',
        totalTx: 9,
        totalRx: 9,
        totalValidRx: 9,
        totalGoodRx: 9,
        ...this.packet,
      },
    ];
  }
}

t.test('ntpdata: a source whose last packet says stratum 16 / leap 3 fails time.source; ntpdata errors are ignored', async (t) => {
  const src = new PacketSource();
  const got: Signal[] = [];
  const m = new TimeMonitor({ source: src, thresholds: TH, pollMs: 30 });
  t.teardown(() => m.stop());
  await m.start((s) => got.push(s));
  t.equal(got.find((s) => s.key === 'time.source')?.status, 'ok');

  src.packet = { leapStatus: 'Not synchronised', stratum: 16, refName: '' };
  let from = got.length;
  const fail = await waitFor(() => got.slice(from).find((s) => s.key === 'time.source' && s.status === 'fail'), {
    timeoutMs: 30_000,
    what: 'time.source fail',
  });
  t.match(fail.detail, /127\.0\.0\.1 \(says unsynchronised: leap Not synchronised, stratum 16\)/);

  // 501 over UDP (or any ntpdata failure): the poll goes on without it.
  src.packetError = new ChronyNotAuthorisedError('chronyd refused "chronyc ntpdata" (501 Not authorised)');
  from = got.length;
  await waitFor(() => got.slice(from).some((s) => s.key === 'time.source' && s.status === 'ok'), { timeoutMs: 30_000, what: 'time.source ok without ntpdata' });
  t.notOk(
    got.slice(from).some((s) => s.status === 'unknown'),
    'an ntpdata failure is not a monitoring fault',
  );
  const src2 = got.slice(from).find((s) => s.key === 'time.source' && s.status === 'ok');
  t.match(
    src2?.detail,
    /without ntpdata \(chronyd refused "chronyc ntpdata" \(501 Not authorised\)\): an upstream that answers "unsynchronised" shows only as a lost source/,
  );
});

t.test('a slow source never gets two polls at once; nothing is emitted after stop', async (t) => {
  const src = new ScriptedSource();
  src.delayMs = 60;
  const got: Signal[] = [];
  const m = new TimeMonitor({ source: src, thresholds: TH, pollMs: 10 });
  await m.start((s) => got.push(s));
  void m.pollNow();
  void m.pollNow();
  await waitFor(() => src.calls >= 4, { timeoutMs: 30_000, what: 'four polls' });
  t.equal(src.maxConcurrent, 1);
  await m.stop();
  const n = got.length;
  const calls = src.calls;
  await new Promise((r) => setTimeout(r, 150)); // several poll periods: proving a negative needs a wait
  t.equal(got.length, n, 'no signals after stop');
  t.equal(src.calls, calls, 'no polls after stop');
});

t.test('on simulated time: a poll every pollMs to the millisecond; chronyd down keeps the pace as unknown; nothing after stop', async (t) => {
  const clock = new SimClock(Date.now());
  const src = new ScriptedSource();
  const got: Signal[] = [];
  const m = new TimeMonitor({ source: src, thresholds: TH, pollMs: 1000, clock });
  await m.start((s) => got.push(s));
  t.teardown(() => m.stop());
  const offsets = () => got.filter((s) => s.key === 'time.offset');
  await clock.advance(59_999);
  t.equal(offsets().length, 60, 'at 0 s and every second, not a millisecond early');
  await clock.advance(1);
  t.equal(offsets().length, 61);
  t.same(
    offsets()
      .slice(0, 3)
      .map((s) => s.observedAt - offsets()[0]!.observedAt),
    [0, 1000, 2000],
    'observed at the simulated instants',
  );

  src.fail = new ChronydNotRunningError('chronyd is not running');
  const before = offsets().length;
  await clock.advance(3000);
  const down = offsets().slice(before);
  t.equal(down.length, 3, 'chronyd down: still one poll per second');
  t.ok(
    down.every((s) => s.status === 'unknown' && /chronyd is not running/.test(s.detail ?? '')),
    'unknown with the cause',
  );

  await assertStopsQuietly(
    t,
    clock,
    () => m.stop(),
    () => got.length,
  );
  t.equal(src.maxConcurrent, 1);
});
