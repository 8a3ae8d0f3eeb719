/** Reading SIPp's own accounting files (formats measured from SIPp 3.6.1). */
import t from 'tap';
import { parseSippErrorCodes, parseSippLog, parseSippStats, sippArgs, describeSippExit } from '../../../hardware/sip/sipp.js';
import { summarizeCaller } from '../../helpers/sipp.js';

const header =
  'StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TargetRate;CallRate(P);CallRate(C);IncomingCall(P);IncomingCall(C);OutgoingCall(P);OutgoingCall(C);TotalCallCreated;CurrentCall;SuccessfulCall(P);SuccessfulCall(C);FailedCall(P);FailedCall(C);FailedUnexpectedMessage(P);FailedUnexpectedMessage(C);AutoAnswered(P);AutoAnswered(C);';

t.test('stats CSV: the last line holds the cumulative counts', async (t) => {
  const csv = `${header}\nx;x;x;0;0;10;0;0;0;0;3;3;3;1;2;2;0;0;0;0;0;4;\nx;x;x;0;0;10;0;0;0;0;0;5;5;0;0;4;1;1;1;1;0;6;\n`;
  const s = parseSippStats(csv);
  t.equal(s?.created, 5);
  t.equal(s?.outgoing, 5);
  t.equal(s?.successful, 4);
  t.equal(s?.failed, 1);
  t.equal(s?.failedUnexpectedMessage, 1);
  t.equal(s?.autoAnswered, 6);
  t.equal(s?.current, 0);
  t.equal(parseSippStats(header), null, 'no data line yet');
});

t.test('error codes and log lines', async (t) => {
  const codes = '2026-11-22\t01:25:38.212088\t1795310738.212088;00:00:00:002000;\n2026-11-22\t01:25:38.5\t1.5;00:00:00:307000;486,486,408,\n';
  t.same(parseSippErrorCodes(codes), { 486: 2, 408: 1 });
  const log =
    'sent 1 2026-11-22\t01:29:02.488851\t1795310942.488851\nanswered 1 backup 2026-11-22\t01:29:02.491430\t1795310942.491430\n2026-11-22\t01:23:44.468954\t1795310624.468954: Variable $whole is referenced 1 times!\ndone 1 2026-11-22\t01:29:02.505516\t1795310942.505516\nsent 2 2026-11-22\t01:29:03.0\t1795310943.000000\nanswered 2  2026-11-22\t01:29:03.1\t1795310943.100000\n';
  const lines = parseSippLog(log);
  t.equal(lines.length, 5, "SIPp's own warnings are not scenario log lines");
  const r = summarizeCaller({ exitCode: 1, signal: null, stats: null, unexpectedCodes: {}, logLines: lines, stderrTail: '', durationMs: 1 });
  t.same(r.calls.get(1), { n: 1, sentAt: 1795310942489, answeredBy: 'backup', answeredAt: 1795310942491, doneAt: 1795310942506 });
  t.equal(r.calls.get(2)?.answeredBy, '(none)', 'an answer without X-Vaktpost-Role');
  t.equal(r.completed, 1);
  t.same(r.answersPerRole, { backup: 1, '(none)': 1 });
});

t.test('arguments and exit codes', async (t) => {
  const a = sippArgs({
    scenarioFile: '/s.xml',
    workDir: '/w',
    localIp: '127.0.0.1',
    localPort: 5070,
    remote: '127.0.0.1:5060',
    service: '116117',
    calls: 10,
    rate: 20,
    pauseMs: 100,
    keys: { role: 'local' },
    autoAnswer: true,
    timeoutS: 5,
  });
  t.same(a.slice(0, 6), ['-sf', '/s.xml', '-i', '127.0.0.1', '-p', '5070']);
  t.equal(a[a.length - 1], '127.0.0.1:5060', 'remote host last');
  t.ok(a.includes('-trace_error_codes') && a.includes('-trace_stat') && a.includes('-aa'));
  t.notOk(a.includes('-cp'), 'no fixed control port unless asked');
  t.match(describeSippExit(1, null), /failed/);
  t.match(describeSippExit(null, 'SIGKILL'), /SIGKILL/);
});
