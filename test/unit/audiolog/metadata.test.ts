/** rtpengine's metadata files (layout measured on rtpengine 10.5) and Vaktpost's metadata string. */
import t from 'tap';
import { callIdFromSpoolName, parseMetadataFile, parseVaktpostMetadata } from '../../../hardware/rtpengine/metadata.js';
import { parseCallEvent } from '../../../supervisor/src/audiolog/callEvents.js';

// Verbatim from rtpengine 10.5 (recording-method=pcap, delete-delay=0).
const DONE =
  '/tmp/rtpx/rec/pcaps/call2%40x-fc85e72b7d6e3349.pcap\n\n\nTimestamp started ms: 1795314228679.411\nSDP mode: offer\nSDP before RTP packet: 1\n\nv=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:30001\r\n\nTimestamp started ms: 1795314228679.416\nSDP mode: answer\nSDP before RTP packet: 1\n\nv=0\r\no=x 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30014 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\na=rtcp:30015\r\n\nTimestamp terminated ms(first monologue): 1795314228686.526\n\ncall start time: 2026-11-22T02:23:48\ncall end time: 2026-11-22T02:23:48\n\n\nvaktpost=1|callid=63616c6c324078|caller=34373931323334353637|route=6c6f63616c\n';

t.test('a finished metadata file', async (t) => {
  const m = parseMetadataFile(DONE);
  t.equal(m.pcapPath, '/tmp/rtpx/rec/pcaps/call2%40x-fc85e72b7d6e3349.pcap');
  t.equal(m.sdps.length, 2);
  t.match(m.sdps[0], { mode: 'offer', audioPorts: [30000], address: '127.0.0.1', payloadTypes: [0], rtpmap: { 0: 'PCMU/8000' } });
  t.match(m.sdps[1], { mode: 'answer', audioPorts: [30014], startedMs: 1795314228679.416 });
  t.equal(m.terminatedMs, 1795314228686.526);
  t.equal(m.callEnd, '2026-11-22T02:23:48');
  t.same(parseVaktpostMetadata(m.metadata), { callid: 'call2@x', caller: '4791234567', route: 'local' });
});

t.test('an in-progress (tmp) file: no end, no metadata string', async (t) => {
  const tmp = DONE.slice(0, DONE.indexOf('\nTimestamp terminated'));
  const m = parseMetadataFile(tmp);
  t.equal(m.terminatedMs, null);
  t.equal(m.callEnd, null);
  t.equal(m.metadata, null);
  t.equal(m.sdps.length, 2);
});

t.test('file names carry the URL-escaped Call-ID', async (t) => {
  t.equal(callIdFromSpoolName('rtpengine-meta-1-18199%40127.0.0.1-dbc174f61e5eac55.txt'), '1-18199@127.0.0.1');
  t.equal(callIdFromSpoolName('rtpengine-meta-test%2Fcall%20id%40x-cc4c128252e9e378.tmp'), 'test/call id@x');
  t.equal(callIdFromSpoolName('something-else.txt'), null);
});

t.test('hex fields cannot inject: a caller number with "|" or spaces stays one value', async (t) => {
  const evil = Buffer.from('123|route=backup x').toString('hex');
  t.same(parseVaktpostMetadata(`vaktpost=1|caller=${evil}`), { caller: '123|route=backup x' });
  t.same(parseVaktpostMetadata(null), {});
});

t.test("Kamailio's call events", async (t) => {
  const hex = (s: string) => `x${Buffer.from(s).toString('hex')}`;
  const k = '0123456789abcdef0123456789abcdef';
  const c = parseCallEvent(
    `VPCALL2 ${k} connected 1795314844.030500 ${hex('a@b')} ${hex('4791234567')} ${hex('116117')} ${hex('local')} x 1 0 ${hex('ft1')} ${hex('tt1')}`,
    k,
  );
  t.same(c, {
    type: 'connected',
    at: 1795314844031,
    callId: 'a@b',
    caller: '4791234567',
    called: '116117',
    route: 'local',
    centre: null,
    recorded: true,
    probe: false,
    fromTag: 'ft1',
    toTag: 'tt1',
  });
  t.same(parseCallEvent(`VPCALL2 ${k} ended 1795314850.010712 ${hex('a@b')}`, k), { type: 'ended', at: 1795314850011, callId: 'a@b' });
  const bad = ['', 'VPCALL2', `VPCALL2 ${k}`, `VPCALL2 ${k} ended x x61`, `VPCALL2 ${k} ended 1 x`, `VPCALL2 ${k} connected 1 x61`, `VPCALL2 ${k} ended 1 xzz`];
  // Without the control secret (the old format, a wrong or a shortened one): never an event.
  bad.push('VPCALL1 ended 1 x61', `VPCALL2 ${k.replace('0', '1')} ended 1 x61`, `VPCALL2 ${k.slice(1)} ended 1 x61`, 'VPCALL2 ended 1 x61');
  for (const b of bad) t.equal(parseCallEvent(b, k), null, JSON.stringify(b));
});
