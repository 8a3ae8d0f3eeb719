/**
 * When the recording test call runs (supervisor/src/monitors/recordingTestCall.ts), on
 * simulated time: the first one `firstAfterMs` after start, then every `intervalMs`, and
 * none after stop — also when stop comes before the first one was due (it used to be
 * placed anyway, 10 s after a stop). What a test call does is tested with Kamailio,
 * rtpengine and SIPp in test/integration/audiolog.
 */
import t from 'tap';
import { RecordingTestCallMonitor } from '../../../supervisor/src/monitors/recordingTestCall.js';
import { assertStopsQuietly, SimClock } from '../../helpers/simClock.js';

function monitor(clock: SimClock) {
  const m = new RecordingTestCallMonitor({
    kamailio: { host: '127.0.0.1', port: 9 },
    testNumber: 'vaktpost-test',
    intervalMs: 3_600_000,
    timeoutMs: 30_000,
    durationMs: 3000,
    firstAfterMs: 10_000,
    clock,
    waitForRecording: async () => null,
    archivePath: () => '/nonexistent',
  });
  const placed: number[] = [];
  // Count the calls the schedule places instead of placing them.
  m.runNow = async () => {
    placed.push(clock.monotonic());
    return { ok: true, callId: null, recordingId: null, detail: 'counted', durationMs: 0 };
  };
  return { m, placed };
}

t.test('first after 10 s, then hourly', async (t) => {
  const clock = new SimClock();
  const { m, placed } = monitor(clock);
  await m.start(() => {});
  await clock.advance(9_999);
  t.same(placed, [], 'none before firstAfterMs');
  await clock.advance(1);
  t.same(placed, [10_000], 'the first at 10 s');
  await clock.advance(2 * 3_600_000);
  t.same(placed, [10_000, 3_600_000, 7_200_000], 'then on the hour');
  await assertStopsQuietly(
    t,
    clock,
    () => m.stop(),
    () => placed.length,
  );
});

t.test('stopped before the first was due: none is placed', async (t) => {
  const clock = new SimClock();
  const { m, placed } = monitor(clock);
  await m.start(() => {});
  await clock.advance(5_000);
  await assertStopsQuietly(
    t,
    clock,
    () => m.stop(),
    () => placed.length,
  );
  t.same(placed, [], 'no test call after stop');
});
