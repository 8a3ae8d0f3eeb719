/**
 * The audio log's pieces of rendered config: rtpengine's own file, and the
 * WITH_RTPENGINE blocks of the Kamailio cfg (on only with calls.recording).
 * ops/rtpengine/rtpengine.conf.example is the rendering of
 * the `calls.recording` and `audiolog` sections of ops/vaktpost.example.yaml
 * (VAKTPOST_WRITE_EXAMPLES=1 regenerates).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import YAML from 'yaml';
import { renderRtpengineConf } from '../../../supervisor/src/audiolog/rtpengineConf.js';
import { audiologSchema } from '../../../supervisor/src/config/audiolog.js';
import { callRecordingSchema, callsSchema } from '../../../supervisor/src/config/calls.js';
import { renderInputFromConfig, renderKamailio } from '../../../supervisor/src/reconcilers/kamailio/render.js';
import { controlKeys } from '../../../supervisor/src/reconcilers/kamailio/controlSecret.js';

const OPS = path.resolve(import.meta.dirname, '../../../ops/rtpengine');
const base = {
  centres: { local: { uris: ['sip:legevakt@10.20.0.10:5060'] }, backup: { uris: ['sip:backup@10.30.0.10:5060'] } },
  announcement: { uris: ['sip:announcement@127.0.0.1:5090'] },
};

t.test('rtpengine.conf.example is the rendering of the example config', async (t) => {
  const doc = YAML.parse(await readFile(path.join(OPS, '..', 'vaktpost.example.yaml'), 'utf8')) as { calls: { recording: unknown }; audiolog: unknown };
  const a = audiologSchema.parse(doc.audiolog);
  const r = callRecordingSchema.parse(doc.calls.recording);
  const conf = renderRtpengineConf({ daemon: a.rtpengine, ng: r.rtpengine });
  if (process.env.VAKTPOST_WRITE_EXAMPLES === '1') await writeFile(path.join(OPS, 'rtpengine.conf.example'), conf);
  t.equal(await readFile(path.join(OPS, 'rtpengine.conf.example'), 'utf8'), conf);
  t.match(conf, /^table = -1$/m, 'userspace only (no kernel module)');
  t.match(conf, /^recording-method = pcap$/m);
  t.match(conf, /^delete-delay = 0$/m, 'the metadata file is renamed at once when the call ends');
  t.match(conf, /^listen-ng = 127\.0\.0\.1:2223$/m);
  t.match(conf, /^interface = 10\.20\.0\.5$/m);
  t.match(
    renderRtpengineConf({ daemon: { ...a.rtpengine, advertise: '84.1.2.3' }, ng: r.rtpengine }),
    /^interface = 10\.20\.0\.5!84\.1\.2\.3$/m,
    'advertised address behind NAT',
  );
});

const SECRET = '0123456789abcdef0123456789abcdef';

t.test('Kamailio cfg: recording off renders the old placeholders, on renders the blocks', async (t) => {
  const off = callsSchema.parse(base);
  const input = renderInputFromConfig(off, { dispatcherListPath: '/var/lib/vaktpost/kamailio/dispatcher.list', controlSecret: SECRET });
  t.equal(input.rtpengine, undefined, 'off by default');
  const cfgOff = renderKamailio(input).cfg;
  t.notMatch(cfgOff, /#!define WITH_RTPENGINE/);
  t.match(cfgOff, /#!ifdef WITH_RTPENGINE\n# modparam\("rtpengine", "rtpengine_sock", RTPENGINE_SOCK\)\n#!endif/, 'placeholder kept');

  const on = callsSchema.parse({ ...base, recording: { enabled: true, eventsPort: 5099, rtpengine: { port: 2300 } } });
  const cfg = renderKamailio(renderInputFromConfig(on, { dispatcherListPath: '/var/lib/vaktpost/kamailio/dispatcher.list', controlSecret: SECRET })).cfg;
  t.match(cfg, /^#!define WITH_RTPENGINE$/m);
  t.match(cfg, /^#!define RTPENGINE_SOCK "udp:127\.0\.0\.1:2300"$/m);
  t.match(cfg, /^#!define RECORDING_EVENTS_URI "sip:127\.0\.0\.1:5099"$/m);
  t.match(cfg, /modparam\("rtpengine", "rtpengine_tout_ms", 300\)/);
  t.match(cfg, /modparam\("rtpengine", "rtpengine_disable_tout", 10\)/);
  t.match(cfg, /rtpengine_offer\(RTPENGINE_FLAGS \+ " record-call=yes metadata=" \+ \$avp\(vprec_meta\)\)/, 'offer records with metadata');
  t.match(cfg, /\$\(fU\{s\.encode\.hexa\}\)/, 'caller number hex-encoded');
  t.match(
    cfg,
    /xlog\("L_ERR", "vaktpost: rtpengine did not take the offer for \$ci - this call is NOT RECORDED\\n"\);/,
    'a failed offer never blocks the call',
  );
  t.match(cfg, new RegExp(`send_data\\(RECORDING_EVENTS_URI, "VPCALL2 ${controlKeys(SECRET).events} connected `), 'events carry the control secret');
  t.match(cfg, new RegExp(`send_data\\(RECORDING_EVENTS_URI, "VPCALL2 ${controlKeys(SECRET).events} ended `));
  t.match(cfg, /if \(isflagset\(FLT_PROBE\) && \$rU == RECORDING_TEST_NUMBER\) \{\n\t\troute\(ANNOUNCEMENT\);/, 'the test call never reaches a centre');
  t.match(cfg, /route\[RECORDING_IN_DIALOG\][\s\S]*rtpengine_delete\(\);/, 'BYE ends the recording');
  t.match(cfg, /if \(t_check_trans\(\)\) \{\n#!ifdef WITH_RTPENGINE\n\t\t\trtpengine_delete\(\);/, 'CANCEL too');
  t.notMatch(cfg, /"486"|"600"|"603"/, 'still no busy code anywhere');
  t.throws(
    () =>
      renderKamailio({
        ...renderInputFromConfig(on, { dispatcherListPath: '/x/d.list', controlSecret: SECRET }),
        rtpengine: { ng: { host: 'localhost', port: 1 }, offerTimeoutMs: 1, retryAfterS: 1, eventsPort: 1, testNumber: 'a b' },
      }),
    /testNumber .* may hold|must be an IPv4/,
  );
});

t.test('config: defaults and strictness', async (t) => {
  const a = audiologSchema.parse({});
  t.equal(a.retention.years, 3, 'three years by default (akuttmedisinforskriften § 20)');
  t.equal(a.access.listenRole, 'admin');
  t.equal(a.testCall.enabled, true);
  t.throws(() => audiologSchema.parse({ retention: { yeras: 3 } }), /yeras|Unrecognized/i, 'a typo is an error');
  t.throws(() => audiologSchema.parse({ archiveDir: 'relative/path' }), /absolute/);
  t.throws(() => audiologSchema.parse({ rtpengine: { portMin: 5000, portMax: 4000 } }), /portMin/);
  t.equal(callRecordingSchema.parse({}).enabled, false, 'recording is switched on explicitly');
  t.equal(callRecordingSchema.parse({}).notice.enabled, false);
});
