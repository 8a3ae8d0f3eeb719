/** SIP URI parsing, the announcement scenario and the prompt matcher. */
import t from 'tap';
import { parseSipUri } from '../../../hardware/sip/uri.js';
import { announcementScenarioXml } from '../../../hardware/sip/announcement.js';
import { TEST_CALL_SCENARIO } from '../../../hardware/sip/testCall.js';
import { playsPrompt } from '../../helpers/audio/rtpSink.js';

t.test('parseSipUri', async (t) => {
  t.same(parseSipUri('sip:legevakt@10.20.0.10:5070;transport=udp'), {
    user: 'legevakt',
    host: '10.20.0.10',
    port: 5070,
    explicitPort: true,
    params: { transport: 'udp' },
  });
  t.same(parseSipUri('sip:pbx.example.no'), { host: 'pbx.example.no', port: 5060, explicitPort: false, params: {} });
  t.equal(parseSipUri('sip:a@[2001:db8::1]:5062').host, '2001:db8::1');
  t.throws(() => parseSipUri('tel:+4711223344'), /not a SIP URI/);
  t.throws(() => parseSipUri('sip:a@host:70000'), /outside/);
});

t.test('announcement scenario: answers, streams the prompt as PCMU, hangs up at maxPlayMs', async (t) => {
  const xml = announcementScenarioXml({ promptFile: '/var/lib/vaktpost/ring-113.ulaw', maxPlayMs: 30_000 });
  t.match(xml, /<exec rtp_stream="\/var\/lib\/vaktpost\/ring-113\.ulaw,-1,0,PCMU\/8000"\/>/);
  t.match(xml, /m=audio \[rtpstream_audio_port\] RTP\/AVP 0/);
  t.match(xml, /<recv request="BYE" timeout="30000" ontimeout="hangup"\/>/);
  t.match(xml, /SIP\/2\.0 200 OK/);
  t.notMatch(xml, /SIP\/2\.0 4\d\d|SIP\/2\.0 5\d\d|SIP\/2\.0 6\d\d/, 'it never rejects');
  t.throws(() => announcementScenarioXml({ promptFile: 'relative.ulaw', maxPlayMs: 1000 }), /absolute/);
  t.throws(() => announcementScenarioXml({ promptFile: '/x/a"b.ulaw', maxPlayMs: 1000 }), /absolute and use only/);
  t.match(TEST_CALL_SCENARIO, /X-Vaktpost-Probe: 1/, 'test calls ask Kamailio to name the route');
});

t.test('playsPrompt: byte-exact, loop-aware', async (t) => {
  const prompt = Buffer.from(Array.from({ length: 1600 }, (_, i) => (i * 7) % 251));
  t.ok(playsPrompt(prompt.subarray(320, 1280), prompt));
  t.ok(playsPrompt(Buffer.concat([prompt.subarray(1280), prompt.subarray(0, 400)]), prompt), 'wraps around a loop');
  const bad = Buffer.from(prompt.subarray(0, 800));
  bad[500] = (bad[500] as number) ^ 1;
  t.notOk(playsPrompt(bad, prompt), 'one wrong byte is caught');
  t.notOk(playsPrompt(Buffer.alloc(100), prompt), 'too short');
});
