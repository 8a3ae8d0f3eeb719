/**
 * rtpengine's restarts told from its uptime (pure), and its per-stream packet
 * counters read from a `query` answer in the shape rtpengine 10.5 gives
 * (trimmed from a real answer: test/integration/audiolog/one-way.test.ts
 * drives the real thing).
 */
import t from 'tap';
import { rtpStreamCounts, uptimeSeconds } from '../../../hardware/rtpengine/streamStats.js';
import { RtpengineRestartWatch } from '../../../supervisor/src/audiolog/rtpengineRestarts.js';

const T0 = 1_800_000_000_000;

t.test('a start that moves forward is a restart; whole-second uptime is not', async (t) => {
  const w = new RtpengineRestartWatch();
  t.equal(w.observe(T0, 100), null, 'first look: nothing to compare with');
  t.equal(w.observe(T0 + 999, 100), null, 'same second of uptime 1 s later: rounding, not a restart');
  t.equal(w.observe(T0 + 1400, 101), null);
  const r = w.observe(T0 + 3000, 0);
  t.ok(r, 'uptime back to 0: restarted');
  t.match(r, { at: T0 + 3000, upSince: T0 + 3000, previousUpSince: T0 - 100_000, lastSeenUpAt: T0 + 1400 });
  t.equal(w.observe(T0 + 4000, 1), null, 'the new process, seen again: no second restart');
  // A restart the pings never saw (systemd brought it back within a poll), but its start moved by 2 s.
  const quick = w.observe(T0 + 10_000, 5);
  t.ok(quick, 'a fast restart is seen by its start, not by a failed ping');
  t.equal(w.restarts.length, 2);
});

t.test('which restart cut a recording', async (t) => {
  const w = new RtpengineRestartWatch();
  w.observe(T0, 50);
  const first = w.observe(T0 + 20_000, 1); // up again since T0+19 s; last seen before: T0
  w.observe(T0 + 30_000, 11);
  const second = w.observe(T0 + 60_000, 2);
  t.ok(first && second);
  t.equal(w.during(T0 - 5000, null), first, 'an unfinished recording begun before the first restart: the first one ended it');
  t.equal(w.during(T0 + 25_000, null), second, 'begun between them: the second');
  t.equal(w.during(T0 - 5000, T0 - 1000), null, 'finished before the old process was last seen: not cut');
  t.equal(w.during(T0 + 61_000, null), null, 'begun after every restart');
});

t.test('per-stream counters from a query answer: RTP only, by rtpengine port', async (t) => {
  const stream = (port: number, rtcp: boolean, packets: number) => ({
    'local port': port,
    flags: [rtcp ? 'RTCP' : 'RTP', 'filled'],
    'last packet': 1_796_684_029,
    stats: { packets, bytes: packets * 172, errors: 0 },
  });
  const answer = {
    tags: {
      caller1: { medias: [{ streams: [stream(16926, false, 20), stream(16927, true, 3)] }] },
      taker1: { medias: [{ streams: [stream(16908, false, 0), stream(16909, true, 0)] }] },
    },
    result: 'ok',
  };
  t.same(rtpStreamCounts(answer), [
    { port: 16926, packets: 20, bytes: 3440, lastPacketMs: 1_796_684_029_000 },
    { port: 16908, packets: 0, bytes: 0, lastPacketMs: null },
  ]);
  t.same(rtpStreamCounts({ result: 'ok' }), [], 'an answer without tags: no counts, no throw');
  t.equal(uptimeSeconds({ statistics: { totalstatistics: { uptime: '42' } } }), 42);
  t.equal(uptimeSeconds({ result: 'ok' }), null);
});
