/** NTP timestamps and the 48-byte header (RFC 5905). */
import fc from 'fast-check';
import t from 'tap';
import {
  NTP_MODE,
  NTP_UNIX_OFFSET_S,
  createPreciseWallClock,
  decodePacket,
  emptyPacket,
  encodePacket,
  ntpToUnixMs,
  refIdText,
  unixMsToNtp,
} from '../../../hardware/ntp/index.js';

t.test('Unix epoch is NTP second 2208988800', async (t) => {
  t.same(unixMsToNtp(0), { seconds: NTP_UNIX_OFFSET_S, fraction: 0 });
  t.same(unixMsToNtp(500), { seconds: NTP_UNIX_OFFSET_S, fraction: 2 ** 31 }, 'half a second = 0x80000000');
});

t.test('round trip keeps sub-microsecond precision', async (t) => {
  fc.assert(
    fc.property(fc.double({ min: 0, max: 4_000_000_000_000, noNaN: true }), (ms) => {
      return Math.abs(ntpToUnixMs(unixMsToNtp(ms), ms) - ms) < 0.001;
    }),
  );
  t.pass();
});

t.test('era rollover in 2036 is resolved against our own clock', async (t) => {
  const after2036 = Date.UTC(2036, 1, 7, 6, 28, 20); // a few seconds past the era-0 wrap
  const ts = unixMsToNtp(after2036);
  t.ok(ts.seconds < 100, 'the 32-bit seconds field has wrapped');
  t.equal(ntpToUnixMs(ts, after2036 - 10_000), after2036, 'pivot just before the wrap still decodes after it');
});

t.test('encode/decode header fields', async (t) => {
  const p = emptyPacket({
    leap: 3,
    version: 4,
    mode: NTP_MODE.server,
    stratum: 2,
    poll: -2,
    precision: -20,
    rootDelayS: 0.5,
    rootDispersionS: 0.25,
    refId: Buffer.from([127, 0, 0, 1]),
    reference: { seconds: 1, fraction: 2 },
    origin: { seconds: 3, fraction: 4 },
    receive: { seconds: 5, fraction: 6 },
    transmit: { seconds: 0xffffffff, fraction: 0xfffffffe },
  });
  const buf = encodePacket(p);
  t.equal(buf.length, 48);
  t.equal(buf[0], (3 << 6) | (4 << 3) | 4, 'LI|VN|mode byte');
  t.same(decodePacket(buf), p);
  t.equal(decodePacket(buf.subarray(0, 47)), null, 'short datagram is not NTP');
  t.equal(refIdText(2, Buffer.from([127, 0, 0, 1])), '127.0.0.1');
  t.equal(refIdText(1, Buffer.from('GPS\0')), 'GPS');
  t.equal(refIdText(0, Buffer.from('RATE')), 'RATE');
});

t.test('precise wall clock agrees with Date.now() within its 1 ms tick', async (t) => {
  const now = createPreciseWallClock();
  for (let i = 0; i < 1000; i++) {
    const a = Date.now();
    const p = now();
    const b = Date.now();
    if (p < a - 0.5 || p > b + 1.5) return t.fail(`precise ${p} outside [${a}, ${b}]`);
  }
  t.pass('1000 readings within the tick');
});
