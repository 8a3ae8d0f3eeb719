/** pcap → two bit-exact channels: placement by RTP time, loss, reordering, duplicates, SSRC changes, truncation, codecs. */
import t from 'tap';
import { parseMetadataFile } from '../../../hardware/rtpengine/metadata.js';
import { readPcap } from '../../../hardware/rtpengine/pcap.js';
import { convertPcap } from '../../../supervisor/src/audiolog/convert.js';
import { metadataText, pcapFile, type TestPacket } from './pcapBuilder.js';

const OFFER = 30000; // the call-taker sends here
const ANSWER = 30014; // the caller sends here
const T0 = 1_795_313_983_800_000;

function speech(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    b[i] = x & 0xfe; // never 0xff (silence), so placement errors show
  }
  return b;
}

function stream(audio: Buffer, o: { dst: number; src: number; ssrc: number; startUs: number; seq0?: number; ts0?: number; pt?: number }): TestPacket[] {
  const out: TestPacket[] = [];
  for (let i = 0; i * 160 < audio.length; i++) {
    out.push({
      tsUs: o.startUs + i * 20_000,
      srcPort: o.src,
      dstPort: o.dst,
      seq: (o.seq0 ?? 1000) + i,
      ts: (o.ts0 ?? 50_000) + i * 160,
      ssrc: o.ssrc,
      ...(o.pt !== undefined ? { pt: o.pt } : {}),
      payload: audio.subarray(i * 160, i * 160 + 160),
    });
  }
  return out;
}

const meta = parseMetadataFile(metadataText({ offerPort: OFFER, answerPort: ANSWER }));
const caller = speech(160 * 100, 1);
const taker = speech(160 * 80, 2);

t.test('each side lands in its own channel, bit for bit, time-aligned', async (t) => {
  const pkts = [
    ...stream(caller, { dst: ANSWER, src: 4000, ssrc: 11, startUs: T0 }),
    ...stream(taker, { dst: OFFER, src: 5000, ssrc: 22, startUs: T0 + 400_000 }),
  ].sort((a, b) => a.tsUs - b.tsUs);
  const r = convertPcap(pcapFile(pkts), meta);
  t.ok(Buffer.from(r.channels.caller).subarray(0, caller.length).equals(caller), 'caller channel = caller payloads');
  const off = 3200; // 400 ms later
  t.ok(
    Buffer.from(r.channels.callTaker)
      .subarray(off, off + taker.length)
      .equals(taker),
    'call-taker channel starts 400 ms in',
  );
  t.ok(
    r.channels.callTaker.subarray(0, off).every((b) => b === 0xff),
    'silence before the call-taker speaks',
  );
  t.equal(r.frames, Math.max(caller.length, off + taker.length));
  t.equal(r.stats.caller.samples, caller.length);
  t.equal(r.stats.callTaker.codec, 'mulaw');
  t.same(r.warnings, []);
});

t.test('reordered, duplicated and lost packets', async (t) => {
  const pkts = stream(caller, { dst: ANSWER, src: 4000, ssrc: 11, startUs: T0 });
  const swapped = [...pkts];
  [swapped[10], swapped[11]] = [swapped[11] as TestPacket, swapped[10] as TestPacket];
  swapped.splice(30, 0, { ...(pkts[29] as TestPacket), tsUs: (pkts[29] as TestPacket).tsUs + 5000 }); // duplicate
  swapped.splice(51, 1); // lose packet 50 (after the inserted duplicate shifts indexes by one)
  const r = convertPcap(pcapFile(swapped), meta);
  const ch = Buffer.from(r.channels.caller);
  t.ok(ch.subarray(0, 160 * 50).equals(caller.subarray(0, 160 * 50)), 'reordering is undone by RTP timestamps');
  t.ok(
    ch.subarray(160 * 50, 160 * 51).every((b) => b === 0xff),
    'a lost packet is silence, in its place',
  );
  t.ok(ch.subarray(160 * 51).equals(caller.subarray(160 * 51)), 'everything after it stays in place');
  t.equal(r.stats.caller.duplicates, 1, 'the duplicate is dropped');
});

t.test('a new SSRC (another centre, a re-INVITE) is placed by capture time, never over earlier audio', async (t) => {
  const a = stream(caller.subarray(0, 160 * 50), { dst: ANSWER, src: 4000, ssrc: 11, startUs: T0 });
  const b = stream(caller.subarray(160 * 50), { dst: ANSWER, src: 4002, ssrc: 99, startUs: T0 + 1_000_000 + 500_000, ts0: 7 });
  const r = convertPcap(pcapFile([...a, ...b]), meta);
  const ch = Buffer.from(r.channels.caller);
  t.ok(ch.subarray(0, 8000).equals(caller.subarray(0, 8000)));
  t.ok(ch.subarray(12_000, 12_000 + 8000).equals(caller.subarray(8000, 16_000)), 'second SSRC at 1.5 s (its capture time)');
  t.same(r.stats.caller.ssrcs, [11, 99]);
});

t.test('an RTP timestamp jump is re-anchored by the capture clock', async (t) => {
  const a = stream(caller.subarray(0, 160 * 50), { dst: ANSWER, src: 4000, ssrc: 11, startUs: T0 });
  const b = stream(caller.subarray(160 * 50), { dst: ANSWER, src: 4000, ssrc: 11, startUs: T0 + 1_000_000, seq0: 1050, ts0: 50_000 + 8000 * 3600 });
  const r = convertPcap(pcapFile([...a, ...b]), meta);
  t.equal(r.stats.caller.reanchors, 1);
  t.ok(Buffer.from(r.channels.caller).subarray(0, caller.length).equals(caller), 'no hour of silence: the audio stays contiguous');
});

t.test('a pcap cut off inside a packet (disk full) keeps what is whole and says so', async (t) => {
  const full = pcapFile(stream(caller, { dst: ANSWER, src: 4000, ssrc: 11, startUs: T0 }));
  const cut = full.subarray(0, full.length - 100);
  const pr = readPcap(cut);
  t.ok(pr.truncated);
  const r = convertPcap(cut, meta);
  t.ok(r.truncated, 'flagged truncated');
  t.equal(r.stats.caller.packets, 99, 'every whole packet kept');
  t.match(r.warnings.join(), /ends inside a packet/);
  t.same(convertPcap(Buffer.alloc(0), meta).frames, 0, 'an empty file is no audio, not an error');
});

t.test('A-law stays A-law; RTCP, DTMF and unknown ports are left out', async (t) => {
  const m = parseMetadataFile(metadataText({ offerPort: OFFER, answerPort: ANSWER, pt: 8, codec: 'PCMA/8000' }));
  const pk = stream(caller.subarray(0, 1600), { dst: ANSWER, src: 4000, ssrc: 11, startUs: T0, pt: 8 });
  const dtmf = { ...(pk[3] as TestPacket), pt: 101, seq: 5000 };
  const stray = { ...(pk[4] as TestPacket), dstPort: 31000, srcPort: 4999, seq: 6000 };
  const r = convertPcap(pcapFile([...pk, dtmf, stray]), m);
  t.equal(r.stats.caller.codec, 'alaw');
  t.ok(Buffer.from(r.channels.caller).equals(caller.subarray(0, 1600)));
  t.equal(r.stats.caller.ignored, 1, 'the DTMF/unknown payload type is counted, not placed');
  t.match(r.warnings.join(), /1 RTP packets went to ports not in any SDP/);
});

t.test('without SDPs the first sender is taken as the caller (and it says so)', async (t) => {
  const pkts = [
    ...stream(caller.subarray(0, 800), { dst: 1, src: 4000, ssrc: 11, startUs: T0 }),
    ...stream(taker.subarray(0, 800), { dst: 2, src: 5000, ssrc: 22, startUs: T0 + 1 }),
  ];
  const r = convertPcap(pcapFile(pkts.sort((a, b) => a.tsUs - b.tsUs)), null);
  t.ok(Buffer.from(r.channels.caller).subarray(0, 800).equals(caller.subarray(0, 800)));
  t.match(r.warnings.join(), /no SDP/);
});
