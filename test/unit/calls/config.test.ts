/** The calls: config section. */
import t from 'tap';
import { callsSchema } from '../../../supervisor/src/config/calls.js';

const minimal = {
  centres: { local: { uris: ['sip:lv@10.0.0.10'] }, backup: { uris: ['sip:backup@10.1.0.10:5070'] } },
  announcement: { uris: ['sip:announcement@127.0.0.1:5090'] },
};

t.test('defaults are our measured settings', async (t) => {
  const c = callsSchema.parse(minimal);
  t.equal(c.timers.noReplyMs, 2000);
  t.equal(c.timers.ringNoAnswerMs, 20_000);
  t.equal(c.timers.keepaliveIntervalS, 2);
  t.equal(c.finalReply.code, 480);
  t.equal(c.rpc.port, 5071);
  t.equal(c.sip.port, 5060);
  t.same(c.sip.transports, ['udp']);
  t.equal(c.runDir, '/run/vaktpost/kamailio');
  t.equal(c.verify.testCall.enabled, false);
  t.equal(c.drill.schedule, '30 10 * * *');
  t.same(c.drill.quietTime, { start: '10:00', end: '14:00' });
  t.match(c.announcement.textNb, /ring 1 1 3/);
});

t.test('refuses what would make a caller hear busy or hide a dead centre', async (t) => {
  t.throws(() => callsSchema.parse({ ...minimal, finalReply: { code: 486 } }), /never hear busy/);
  t.throws(() => callsSchema.parse({ ...minimal, finalReply: { code: 603 } }), /never hear busy/);
  t.throws(() => callsSchema.parse({ ...minimal, timers: { keepaliveReplyCodes: [404, 408] } }), /408/);
  t.throws(
    () => callsSchema.parse({ ...minimal, centres: { local: { uris: ['sip:x@10.0.0.1'] }, backup: { uris: ['sip:x@10.0.0.1'] } } }),
    /both a local and a backup/,
  );
});

t.test('strict: typos and bad values are errors', async (t) => {
  t.throws(() => callsSchema.parse({ ...minimal, timer: {} }), /unrecognized/i);
  t.throws(() => callsSchema.parse({ ...minimal, timers: { noReplyMS: 1 } }), /unrecognized/i);
  t.throws(() => callsSchema.parse({ ...minimal, centres: { local: { uris: ['10.0.0.1'] }, backup: minimal.centres.backup } }), /SIP URI/);
  t.throws(() => callsSchema.parse({ ...minimal, trunk: { sources: ['10.0.0.0/33'] } }), /CIDR/);
  t.throws(() => callsSchema.parse({ ...minimal, drill: { schedule: 'daily' } }), /cron/);
  t.throws(() => callsSchema.parse({ ...minimal, rpc: { port: 5060 } }), /must differ/);
  t.throws(() => callsSchema.parse({ ...minimal, drill: { quietTime: { start: '25:00' } } }), /HH:MM/);
  t.throws(() => callsSchema.parse({ ...minimal, verify: { testCall: { number: 'a b' } } }));
});
