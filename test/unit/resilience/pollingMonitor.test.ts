/**
 * PollingMonitor (monitors/pollingMonitor.ts) on a scripted poll with a short pollMs:
 * polls never overlap; a throwing poll is reported once through the guard, later
 * failures back off, "polls again" is logged once; stop waits for the poll in flight
 * and nothing runs after it. Waits are on conditions, never on a time budget.
 * The last group runs the same loop on simulated time (test/helpers/simClock.ts):
 * a minute's pollMs, exact backoff instants, no real waiting.
 */
import t from 'tap';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { type Fault, Guard } from '../../../supervisor/src/guard.js';
import type { SignalSink } from '../../../supervisor/src/monitors/monitor.js';
import { PollingMonitor, type PollingOptions } from '../../../supervisor/src/monitors/pollingMonitor.js';
import { SimClock } from '../../helpers/simClock.js';
import { waitFor } from '../../helpers/util.js';
import { gate, recordingLog } from './fakes.js';

const POLL_MS = 20;

class Scripted extends PollingMonitor {
  readonly name = 'scripted';
  polls = 0;
  active = 0;
  maxActive = 0;
  starts: number[] = [];
  ends: number[] = [];
  /** Throw on these poll numbers (1-based). */
  throwOn: (n: number) => boolean = () => false;
  /** Each poll awaits this, if set. */
  hold: (() => Promise<void>) | null = null;
  stopped = false;
  events: string[] = [];

  constructor(
    opts: PollingOptions,
    /** Time stamps of starts/ends (the simulated clock's, when one is used). */
    private readonly stamp: () => number = () => performance.now(),
  ) {
    super(opts);
  }

  protected override async poll(emit: SignalSink): Promise<void> {
    const n = ++this.polls;
    this.events.push(`poll ${n}`);
    if (this.stopped) this.events.push('POLL AFTER STOP');
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    this.starts.push(this.stamp());
    try {
      if (this.hold) await this.hold();
      if (this.throwOn(n)) throw new Error(`driver error ${n}`);
      emit({ subsystem: 'system', source: 'scripted', key: 'system.scripted', status: 'ok', value: n, observedAt: Date.now(), ttlMs: 1000 });
    } finally {
      this.active--;
      this.ends.push(this.stamp());
      this.events.push(`end ${n}`);
    }
  }

  protected override onStop(): void {
    this.events.push('onStop');
  }
}

t.test('polls never overlap, even when a poll takes longer than pollMs', async (t) => {
  const m = new Scripted({ pollMs: POLL_MS });
  m.hold = () => new Promise((r) => setTimeout(r, POLL_MS * 3));
  const got: Signal[] = [];
  await m.start((s) => got.push(s));
  t.teardown(() => m.stop());
  await waitFor(() => m.polls >= 5, { timeoutMs: 20_000, what: 'five polls' });
  await m.stop();
  t.equal(m.maxActive, 1, 'never two polls at once');
  for (let i = 1; i < m.starts.length; i++) {
    t.ok((m.starts[i] as number) >= (m.ends[i - 1] as number), `poll ${i + 1} started after poll ${i} ended`);
  }
  t.ok(got.length >= 5, 'signals emitted');
});

t.test('a throwing poll: one fault through the guard, growing backoff, "polls again" once', async (t) => {
  const { log, lines } = recordingLog();
  const faults: Fault[] = [];
  const guard = new Guard(log, (f) => faults.push(f));
  const m = new Scripted({ pollMs: POLL_MS, maxBackoffMs: 10_000, guard, log });
  const FAILS = 4; // polls 2..5 throw
  m.throwOn = (n) => n >= 2 && n < 2 + FAILS;
  const got: Signal[] = [];
  await m.start((s) => got.push(s));
  t.teardown(() => m.stop());
  await waitFor(() => m.polls >= 2 + FAILS + 2, { timeoutMs: 30_000, what: 'recovery and one more poll' });
  await m.stop();

  t.equal(faults.length, 1, 'reported once, not once per failing poll');
  t.equal(faults[0]?.where, 'monitor scripted: poll');
  t.equal(faults[0]?.error.message, 'driver error 2', 'the first failure');
  t.equal(lines.filter((l) => l.level === 'error' && l.obj.where === 'monitor scripted: poll').length, 1, 'logged once');
  const back = lines.filter((l) => /polls again/.test(l.msg));
  t.equal(back.length, 1, '"back" logged once');
  t.equal(back[0]?.obj.failures, FAILS);

  // Gap before poll k+1 after the k-th consecutive failure is at least pollMs·2^(k−1).
  const gap = (n: number) => (m.starts[n] as number) - (m.ends[n - 1] as number); // before poll n+1 (0-based index n)
  const slack = 2; // timers may fire a millisecond early
  t.ok(gap(2) >= POLL_MS - slack, `after 1 failure ≥ ${POLL_MS} ms (${gap(2).toFixed(1)})`);
  t.ok(gap(3) >= 2 * POLL_MS - slack, `after 2 failures ≥ ${2 * POLL_MS} ms (${gap(3).toFixed(1)})`);
  t.ok(gap(4) >= 4 * POLL_MS - slack, `after 3 failures ≥ ${4 * POLL_MS} ms (${gap(4).toFixed(1)})`);
  t.ok(gap(5) >= 8 * POLL_MS - slack, `after 4 failures ≥ ${8 * POLL_MS} ms (${gap(5).toFixed(1)})`);
  t.ok(
    got.some((s) => s.value === 2 + FAILS),
    'signals flow again after recovery',
  );
});

t.test('a poll that keeps failing is retried for ever (capped backoff), never given up', async (t) => {
  const { log } = recordingLog();
  const m = new Scripted({ pollMs: POLL_MS, maxBackoffMs: 30, log });
  m.throwOn = () => true;
  await m.start(() => {});
  t.teardown(() => m.stop());
  await waitFor(() => m.polls >= 7, { timeoutMs: 30_000, what: 'seven failing polls' });
  await m.stop();
  t.ok(m.polls >= 7, 'still polling while failing');
  t.equal(m.active, 0);
});

t.test('a failure without a guard is logged once through the logger', async (t) => {
  const { log, lines } = recordingLog();
  const m = new Scripted({ pollMs: POLL_MS, log });
  m.throwOn = (n) => n <= 3;
  await m.start(() => {});
  t.teardown(() => m.stop());
  await waitFor(() => m.polls >= 5, { timeoutMs: 30_000, what: 'recovery' });
  await m.stop();
  t.equal(lines.filter((l) => l.level === 'error').length, 1);
  t.match(lines.find((l) => l.level === 'error')?.msg, /monitor scripted: poll failed/);
});

t.test('stop waits for the poll in flight; nothing runs after it', async (t) => {
  const m = new Scripted({ pollMs: POLL_MS });
  await m.start(() => {});
  await waitFor(() => m.polls >= 2, { timeoutMs: 20_000, what: 'a scheduled poll' });
  const g = gate();
  m.hold = () => g.promise;
  const held = m.polls + 1;
  await waitFor(() => m.active === 1, { timeoutMs: 20_000, what: 'a poll in flight' });
  let stopped = false;
  const stopping = m.stop().then(() => {
    stopped = true;
    m.stopped = true;
  });
  await new Promise((r) => setTimeout(r, POLL_MS * 3));
  t.equal(stopped, false, 'stop has not returned while the poll is in flight');
  t.notOk(m.events.includes('onStop'), 'onStop waits too');
  g.open();
  await stopping;
  const ended = m.events.indexOf(`end ${held}`);
  t.ok(ended >= 0 && ended < m.events.indexOf('onStop'), 'the poll ended before onStop');
  const polls = m.polls;
  await new Promise((r) => setTimeout(r, POLL_MS * 10));
  t.equal(m.polls, polls, 'no poll after stop');
  t.notOk(m.events.includes('POLL AFTER STOP'));
});

t.test('stop during the first poll of start: nothing is scheduled after it', async (t) => {
  const m = new Scripted({ pollMs: POLL_MS });
  const g = gate();
  m.hold = () => g.promise;
  const starting = m.start(() => {});
  await waitFor(() => m.active === 1, { timeoutMs: 20_000, what: 'the first poll in flight' });
  const stopping = m.stop().then(() => {
    m.stopped = true;
  });
  g.open();
  await Promise.all([starting, stopping]);
  await new Promise((r) => setTimeout(r, POLL_MS * 10));
  t.equal(m.polls, 1, 'only the first poll ran');
  t.notOk(m.events.includes('POLL AFTER STOP'));
});

// ---- on simulated time: the loop schedules only through the injected Timers ----

const MINUTE = 60_000;

function simulated(opts: Omit<PollingOptions, 'timers'> = { pollMs: MINUTE }) {
  const clock = new SimClock();
  const m = new Scripted({ ...opts, timers: clock }, () => clock.monotonic());
  return { clock, m };
}

t.test('simulated time: one poll per pollMs, to the millisecond, and never before', async (t) => {
  const { clock, m } = simulated();
  const got: Signal[] = [];
  await m.start((s) => got.push(s));
  t.teardown(() => m.stop());
  t.equal(m.polls, 1, 'start polls once');
  t.equal(clock.nextIn(), MINUTE, 'the next poll is pollMs away');
  await clock.advance(MINUTE - 1);
  t.equal(m.polls, 1, 'not a millisecond early');
  await clock.advance(1);
  t.equal(m.polls, 2, 'due at exactly pollMs');
  await clock.advance(60 * MINUTE); // an hour of polling, no real waiting
  t.equal(m.polls, 62, 'one poll per minute for an hour');
  t.same(m.starts.slice(0, 4), [0, MINUTE, 2 * MINUTE, 3 * MINUTE], 'polls at 0, 1, 2, 3 min');
  t.equal(got.length, 62, 'every poll emitted');
  t.equal(clock.pendingTimers, 1, 'one timer at a time');
});

t.test('simulated time: a slow poll delays the next, never overlaps it', async (t) => {
  const { clock, m } = simulated();
  await m.start(() => {});
  t.teardown(() => m.stop());
  const g = gate();
  m.hold = () => g.promise;
  await clock.advance(MINUTE);
  t.equal(m.active, 1, 'poll 2 in flight');
  await clock.advance(5 * MINUTE);
  t.equal(m.polls, 2, 'no poll starts while one is in flight');
  t.equal(clock.pendingTimers, 0, 'nothing scheduled until the poll ends');
  m.hold = null;
  g.open();
  await clock.advance(0);
  t.equal(clock.nextIn(), MINUTE, 'the next poll is a full pollMs after the slow one ended');
  t.equal(m.maxActive, 1);
});

t.test('simulated time: "down" once, backoff doubling to its cap, "back" once', async (t) => {
  const { log, lines } = recordingLog();
  const faults: Fault[] = [];
  const guard = new Guard(log, (f) => faults.push(f));
  const { clock, m } = simulated({ pollMs: MINUTE, maxBackoffMs: 5 * MINUTE, guard, log });
  const FAILS = 6; // polls 2..7 throw
  m.throwOn = (n) => n >= 2 && n < 2 + FAILS;
  await m.start(() => {});
  t.teardown(() => m.stop());
  await clock.advance(MINUTE); // poll 2: the first failure
  t.equal(m.polls, 2);
  t.equal(faults.length, 1, '"down" reported at the first failure');
  // After the k-th consecutive failure the next poll waits pollMs·2^(k−1), capped at maxBackoffMs.
  const expected = [1, 2, 4, 5, 5, 5].map((x) => x * MINUTE);
  for (const [i, wait] of expected.entries()) {
    t.equal(clock.nextIn(), wait, `after ${i + 1} failure(s) the next poll is ${wait / MINUTE} min away`);
    await clock.advance(wait - 1);
    t.equal(m.polls, 2 + i, 'not a millisecond early');
    await clock.advance(1);
    t.equal(m.polls, 3 + i, 'polled at the backoff instant');
  }
  t.equal(faults.length, 1, 'still one fault after six failures');
  t.equal(faults[0]?.error.message, 'driver error 2', 'the first failure is the one reported');
  const back = lines.filter((l) => /polls again/.test(l.msg));
  t.equal(back.length, 1, '"back" logged once, at the first good poll');
  t.equal(back[0]?.obj.failures, FAILS);
  t.equal(clock.nextIn(), MINUTE, 'back to pollMs after recovery');
  await clock.advance(10 * MINUTE);
  t.equal(faults.length, 1);
  t.equal(lines.filter((l) => /polls again/.test(l.msg)).length, 1, 'no further "back" lines');
});

t.test('simulated time: stop waits for the poll in flight, clears the timer, nothing after', async (t) => {
  const { clock, m } = simulated();
  await m.start(() => {});
  const g = gate();
  m.hold = () => g.promise;
  await clock.advance(MINUTE);
  t.equal(m.active, 1, 'a poll in flight');
  let stopped = false;
  const stopping = m.stop().then(() => {
    stopped = true;
    m.stopped = true;
  });
  await clock.advance(10 * MINUTE);
  t.equal(stopped, false, 'stop has not returned while the poll is in flight');
  t.notOk(m.events.includes('onStop'), 'onStop waits too');
  g.open();
  await stopping;
  t.ok(m.events.indexOf('end 2') < m.events.indexOf('onStop'), 'the poll ended before onStop');
  t.equal(clock.pendingTimers, 0, 'no timer left behind');
  await clock.advance(100 * MINUTE);
  t.equal(m.polls, 2, 'no poll after stop');
  t.notOk(m.events.includes('POLL AFTER STOP'));
});

t.test('simulated time: cadence counts pollMs from the start of the last poll; a long poll never stacks', async (t) => {
  const clock = new SimClock();
  const m = new Scripted({ pollMs: MINUTE, timers: clock, cadence: clock }, () => clock.monotonic());
  let pollTakes = 10_000;
  m.hold = () => new Promise((r) => clock.setTimeout(r, pollTakes));
  const starting = m.start(() => {});
  await clock.advance(10_000);
  await starting;
  t.equal(clock.nextIn(), MINUTE - 10_000, 'the next poll is due pollMs after the first STARTED');
  await clock.advance(2 * MINUTE);
  t.same(m.starts.slice(0, 3), [0, MINUTE, 2 * MINUTE], 'a fixed cadence, not pollMs + poll time');
  pollTakes = 90_000; // longer than pollMs
  await clock.advance(3 * MINUTE); // the poll at 3 min runs to 4.5 min
  t.equal(m.maxActive, 1, 'never two at once');
  t.equal(m.starts[3], 3 * MINUTE);
  t.equal(m.starts[4], 3 * MINUTE + 90_000, 'the next poll starts as the long one ends');
  const stopping = m.stop();
  await clock.advance(2 * MINUTE); // lets the poll in flight end
  await stopping;
});

t.test('simulated time: pollNow waits for a poll in flight, then polls afresh; the schedule counts from it', async (t) => {
  const { clock, m } = simulated();
  await m.start(() => {});
  t.teardown(() => m.stop());
  await clock.advance(30_000);
  await m.pollNow();
  t.equal(m.polls, 2, 'a poll at once');
  t.equal(clock.nextIn(), MINUTE, 'the next scheduled poll is pollMs after it');
  const g = gate();
  m.hold = () => g.promise;
  const first = m.pollNow();
  const second = m.pollNow();
  await clock.advance(0);
  t.equal(m.active, 1, 'one poll in flight, the second pollNow waits');
  m.hold = null;
  g.open();
  await Promise.all([first, second]);
  t.equal(m.polls, 4, 'the second pollNow polled afresh after the first');
  t.equal(m.maxActive, 1, 'never two at once');
  t.equal(clock.pendingTimers, 1, 'one timer');
});
