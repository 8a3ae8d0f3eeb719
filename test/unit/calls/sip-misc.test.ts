/** SIP URI parsing, the announcement scenario and the prompt matcher. */
import t from 'tap';
import { parseSipUri } from '../../../hardware/sip/uri.js';
import { announcementScenarioXml } from '../../../hardware/sip/announcement.js';
import { TEST_CALL_SCENARIO } from '../../../hardware/sip/testCall.js';
import { answeredRoute, callDone, callIdsFromLog, uacScenarioXml } from '../../../hardware/sip/uacScenario.js';
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

t.test('the one caller scenario: routing test call and streaming caller, and its log lines', async (t) => {
  t.match(TEST_CALL_SCENARIO, /From: "Vaktpost test" <sip:vaktpost-test@/, 'the routing test call names itself');
  t.match(TEST_CALL_SCENARIO, /m=audio \[media_port\] RTP\/AVP 0/, 'it offers media but streams none');
  t.match(TEST_CALL_SCENARIO, /<pause\/>/, "it holds for SIPp's -d");
  t.notMatch(TEST_CALL_SCENARIO, /rtp_stream/);
  const streaming = uacScenarioXml({ name: 'x', caller: '+4790000111', subject: 'y', probe: false, streamFile: '/tmp/a.ulaw', holdMs: 1500.4 });
  t.match(streaming, /<exec rtp_stream="\/tmp\/a\.ulaw,1,0,PCMU\/8000"\/>/, 'streams the file once');
  t.match(streaming, /m=audio \[rtpstream_audio_port\] RTP\/AVP 0/);
  t.match(streaming, /<pause milliseconds="1500"\/>/);
  t.notMatch(streaming, /X-Vaktpost-Probe/, 'no probe header unless asked');
  t.match(streaming, /From: <sip:\+4790000111@/);
  t.throws(() => uacScenarioXml({ name: 'x', caller: 'a"b', subject: 'y', probe: false }), /caller/);
  t.throws(() => uacScenarioXml({ name: 'x', caller: 'a', subject: 'y', probe: false, streamFile: 'rel.ulaw' }), /absolute/);
  t.throws(() => uacScenarioXml({ name: 'x', caller: 'a', subject: 'y]]><x', probe: false }), /subject/);

  const log = ['callid 1 abc@127.0.0.1', 'answered 1 backup 2026-12-07\t03:50:24.1\t1796616624.1', 'done 1 2026-12-07\t03:50:25.1\t1796616625.1'];
  t.same([...callIdsFromLog(log)], [[1, 'abc@127.0.0.1']]);
  t.equal(answeredRoute(log), 'backup');
  t.equal(answeredRoute(['answered 1  2026-12-07\t03:50:24.1\t1796616624.1']), undefined, 'no X-Vaktpost-Route: no route, not the date');
  t.ok(callDone(log));
  t.notOk(callDone(log.slice(0, 2)), 'no BYE answered: not done');
});
