/**
 * Parsing of `chronyc -c` output. Every line below was captured from chrony
 * 4.3 on this machine (a -x client chronyd against the test NTP server).
 */
import t from 'tap';
import {
  ChronyParseError,
  LAST_RX_NEVER,
  parseNtpData,
  parseReach,
  parseServerStats,
  parseSourceStats,
  parseSources,
  parseTracking,
} from '../../../hardware/chrony/index.js';

// Synchronised, test server shifted +2.0 s: chronyd says the system clock is 2 s SLOW.
const TRACKING_PLUS_2 =
  '7F000001,127.0.0.1,2,1795310440.575254803,1.999968171,-0.000036021,1.309312463,-1.675,-6.100,181.026,0.000256954,0.000409341,0.3,Normal\n';
// Test server at -1.5 s: system clock fast → negative system time.
const TRACKING_MINUS_1_5 =
  '7F000001,127.0.0.1,2,1795310443.338839048,-1.499962150,0.000005463,0.704691231,-1.156,1.081,71.618,0.000303988,0.000192926,0.3,Normal\n';
// Before the first sync.
const TRACKING_UNSYNCED = '00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised\n';

t.test('tracking: fields, units and the sign of system time', async (t) => {
  const tr = parseTracking(TRACKING_PLUS_2);
  t.equal(tr.refId, '7F000001');
  t.equal(tr.refName, '127.0.0.1');
  t.equal(tr.stratum, 2);
  t.ok(Math.abs(tr.refTime - 1795310440.575255) < 1e-6, 'refTime in epoch seconds with its fraction');
  t.equal(tr.systemTimeS, 1.999968171, 'positive = system clock slow (server ahead by 2 s)');
  t.equal(tr.lastOffsetS, -0.000036021);
  t.equal(tr.rmsOffsetS, 1.309312463);
  t.equal(tr.freqPpm, -1.675);
  t.equal(tr.residFreqPpm, -6.1);
  t.equal(tr.skewPpm, 181.026);
  t.equal(tr.rootDelayS, 0.000256954);
  t.equal(tr.rootDispersionS, 0.000409341);
  t.equal(tr.updateIntervalS, 0.3);
  t.equal(tr.leapStatus, 'Normal');
  t.ok(parseTracking(TRACKING_MINUS_1_5).systemTimeS < 0, 'system clock fast → negative');
});

t.test('tracking before the first sync', async (t) => {
  const tr = parseTracking(TRACKING_UNSYNCED);
  t.equal(tr.leapStatus, 'Not synchronised');
  t.equal(tr.refName, '');
  t.equal(tr.refTime, 0);
  t.equal(tr.stratum, 0);
});

t.test('tracking: unparsable output is a ChronyParseError naming the field', async (t) => {
  t.throws(() => parseTracking(''), ChronyParseError);
  t.throws(() => parseTracking(TRACKING_PLUS_2 + TRACKING_PLUS_2), { name: 'ChronyParseError', message: /exactly one line, got 2/ });
  t.throws(() => parseTracking('7F000001,127.0.0.1,2'), { message: /expected 14 comma-separated fields, got 3/ });
  t.throws(() => parseTracking(TRACKING_PLUS_2.replace('Normal', 'Weird')), { message: /field 14 \(leap status\) is "Weird"/ });
  t.throws(() => parseTracking(TRACKING_PLUS_2.replace('1.999968171', 'abc')), { message: /field 5 \(system time\) is "abc"/ });
  t.throws(() => parseTracking(TRACKING_PLUS_2.replace(',2,', ',2.5,')), { message: /field 3 \(stratum\).*an integer/ });
  t.throws(() => parseTracking('506 Cannot talk to daemon'), ChronyParseError);
});

t.test('sources: states, octal reach, never-received', async (t) => {
  const text = [
    '^,*,127.0.0.1,1,-2,377,0,-0.000007121,-0.000010306,0.000305746',
    '^,*,127.0.0.1,1,-2,37,1,0.926602185,-0.236630693,0.000322534',
    '^,*,127.0.0.1,1,-2,177,0,0.833639562,0.253714204,0.000371474',
    '^,*,127.0.0.1,1,-2,370,1,-0.000025745,-0.000027005,0.000258184',
    '^,*,127.0.0.1,1,-1,200,2,-0.000025745,-0.000027005,0.000258184',
    '^,?,127.0.0.1,1,0,0,25,-0.000025745,-0.000027005,0.000258184',
    '^,?,127.0.0.1,0,0,0,4294967295,0.000000000,0.000000000,0.000000000',
    '',
  ].join('\n');
  const s = parseSources(text);
  t.equal(s.length, 7, 'blank lines ignored');
  t.same(
    s.map((x) => x.reach),
    [0o377, 0o37, 0o177, 0o370, 0o200, 0, 0],
  );
  t.equal(s[0]?.reach, 255, '377 is octal: all 8 polls answered');
  t.equal(s[4]?.reach, 128, '200 octal = only the oldest of 8 polls answered');
  t.equal(s[0]?.state, 'selected');
  t.equal(s[0]?.mode, 'server');
  t.equal(s[0]?.pollLog2, -2);
  t.equal(s[0]?.lastRxS, 0);
  t.equal(s[0]?.adjustedOffsetS, -0.000007121);
  t.equal(s[0]?.measuredOffsetS, -0.000010306);
  t.equal(s[0]?.errorS, 0.000305746);
  t.equal(s[5]?.state, 'unusable');
  t.equal(s[5]?.lastRxS, 25);
  t.equal(s[6]?.lastRxS, null, `${LAST_RX_NEVER} = never`);
  t.same(
    parseSources('=,+,10.0.0.2,3,6,377,12,0,0,0\n#,-,GPS,0,4,377,5,0,0,0\n^,x,1.1.1.1,2,6,377,1,0,0,0\n^,~,2.2.2.2,2,6,377,1,0,0,0').map((x) => [
      x.mode,
      x.state,
    ]),
    [
      ['peer', 'combined'],
      ['refclock', 'notCombined'],
      ['server', 'falseticker'],
      ['server', 'jittery'],
    ],
  );
  t.same(parseSources(''), [], 'no sources configured');
});

t.test('sources: bad rows are ChronyParseErrors', async (t) => {
  t.throws(() => parseSources('^,*,127.0.0.1,1,-2,378,0,0,0,0'), { message: /field 6 \(reach\) is "378", expected an octal/ });
  t.throws(() => parseSources('^,*,127.0.0.1,1,-2,400,0,0,0,0'), { message: /reach/ }, '400 octal > 8 bits');
  t.throws(() => parseSources('!,*,127.0.0.1,1,-2,377,0,0,0,0'), { message: /field 1 \(mode\)/ });
  t.throws(() => parseSources('^,%,127.0.0.1,1,-2,377,0,0,0,0'), { message: /field 2 \(state\)/ });
  t.throws(() => parseSources('^,*,127.0.0.1,1,-2,377'), { message: /expected 10/ });
});

t.test('parseReach', async (t) => {
  t.equal(parseReach('377'), 255);
  t.equal(parseReach('1'), 1);
  t.equal(parseReach('10'), 8, 'octal, not decimal');
  t.equal(parseReach('8'), null);
  t.equal(parseReach(''), null);
  t.equal(parseReach('0377'), null, 'more than 3 digits');
});

t.test('sourcestats', async (t) => {
  const s = parseSourceStats('127.0.0.1,14,12,4,-0.002,12.577,-0.000000055,0.000013790\n');
  t.same(s, [{ address: '127.0.0.1', samples: 14, runs: 12, spanS: 4, freqPpm: -0.002, freqSkewPpm: 12.577, offsetS: -0.000000055, stdDevS: 0.00001379 }]);
  t.throws(() => parseSourceStats('127.0.0.1,14,12'), ChronyParseError);
});

t.test('serverstats', async (t) => {
  const s = parseServerStats('0,0,4,0,0,0,0,0,0,0,0\n');
  t.equal(s.commandPacketsReceived, 4);
  t.equal(s.ntpPacketsReceived, 0);
  t.throws(() => parseServerStats('501 Not authorised'), ChronyParseError);
});

// `chronyc -c ntpdata` from chronyd 4.3: the test server healthy, then answering stratum 16 / leap 3.
const NTPDATA_GOOD =
  '127.0.0.1,7F000001,56353,127.0.0.1,7F000001,Normal,4,Server,1,-2,0,-20,0.000000954,0.000000,0.000107,54455354,TEST,1796661791.743823528,0.005304878,0.010947872,0.000023017,0.000073910,0.00,111,111,1111,No,No,Kernel,Kernel,4,4,4,4\n';
const NTPDATA_UNSYNC =
  '127.0.0.1,7F000001,57289,127.0.0.1,7F000001,Not synchronised,4,Server,16,-2,0,-20,0.000000954,0.000000,0.000107,54455354,,1796661654.426565170,0.000000000,0.000000000,0.000000000,0.000000000,0.00,111,101,0000,No,No,Kernel,Kernel,6,6,6,4\n';

t.test('ntpdata: the last packet of each source', async (t) => {
  const [good] = parseNtpData(NTPDATA_GOOD);
  t.same(good, {
    address: '127.0.0.1',
    leapStatus: 'Normal',
    stratum: 1,
    pollLog2: -2,
    rootDelayS: 0,
    rootDispersionS: 0.000107,
    refId: '54455354',
    refName: 'TEST',
    tests: '111 111 1111',
    totalTx: 4,
    totalRx: 4,
    totalValidRx: 4,
    totalGoodRx: 4,
  });
  const both = parseNtpData(`${NTPDATA_GOOD}${NTPDATA_UNSYNC}`);
  t.equal(both.length, 2);
  const bad = both[1];
  t.equal(bad?.leapStatus, 'Not synchronised');
  t.equal(bad?.stratum, 16);
  t.equal(bad?.refName, '', 'an unsynchronised server sends no reference name');
  t.equal(bad?.tests, '111 101 0000', 'test 6 (synchronised) failed');
  t.equal(bad?.totalValidRx, 6);
  t.equal(bad?.totalGoodRx, 4, 'the leap-3 replies are valid, not good');
  t.same(parseNtpData(''), [], 'no NTP sources: no records');
  t.throws(() => parseNtpData('127.0.0.1,7F000001,1\n'), ChronyParseError);
  t.throws(() => parseNtpData(NTPDATA_GOOD.replace('Normal', 'Weird')), { name: 'ChronyParseError', message: /field 6 \(leap status\)/ });
});
