/** Kamailio call-record lines, report periods, and the past slots of a cron schedule. */
import t from 'tap';
import { localTime } from '../../../supervisor/src/core/evidence.js';
import { parseCallRecordLine, secondsDotMicrosToMs } from '../../../supervisor/src/evidence/callRecordLine.js';
import { cronSlots, lastSlotAtOrBefore } from '../../../supervisor/src/evidence/cronSlots.js';
import { parsePeriod } from '../../../supervisor/src/evidence/period.js';

const TZ = 'Europe/Oslo';

t.test('call-record lines as Kamailio 5.6 acc + db_flatstore writes them', async (t) => {
  // Verbatim shapes seen from the rendered cfg (see test/integration/evidence).
  const arrived = parseCallRecordLine('INVITE|5170SIPpTag001||1-5170@127.0.0.1||arrived|1795314162|1795314162.656012||caller||116117|0');
  t.ok(arrived.ok);
  if (arrived.ok) {
    t.match(arrived.record, {
      event: 'arrived',
      callId: '1-5170@127.0.0.1',
      fromTag: '5170SIPpTag001',
      at: 1795314162656,
      code: null,
      role: null,
      caller: 'caller',
      pai: null,
      called: '116117',
      probe: false,
    });
  }
  const answered = parseCallRecordLine(
    'INVITE|5170SIPpTag001|5157SIPpTag012|1-5170@127.0.0.1|200|answered|1795314162|1795314162.684180|local|caller||116117|0',
  );
  t.ok(answered.ok && answered.record.event === 'answered' && answered.record.role === 'local' && answered.record.code === 200);
  const ended = parseCallRecordLine('BYE|5170SIPpTag001|5157SIPpTag012|1-5170@127.0.0.1||ended|1795314162|1795314162.917630|||||');
  t.ok(ended.ok && ended.record.event === 'ended' && ended.record.caller === null);
  const pipe = parseCallRecordLine('INVITE|t||x@y||arrived|1|1795314162.000001||Ola%7CNordmann|4790000001|116117|1');
  t.ok(
    pipe.ok && pipe.record.caller === 'Ola|Nordmann' && pipe.record.pai === '4790000001' && pipe.record.probe && pipe.record.at === 1795314162000,
    'escaped | decoded, probe flag',
  );
  t.match(parseCallRecordLine('a|b|c'), { ok: false, error: /expected 13 fields/ });
  t.match(parseCallRecordLine('INVITE|t||x||ringing|1|1795314162.1|||||0'), { ok: false, error: /unknown call event/ });
  t.match(parseCallRecordLine('INVITE|t||x||arrived|1|yesterday|||||0'), { ok: false, error: /bad timestamp/ });
  t.match(parseCallRecordLine('INVITE|t||||arrived|1|1795314162.1|||||0'), { ok: false, error: /no Call-ID/ });
  t.equal(secondsDotMicrosToMs('1795314162.5'), 1795314162500, 'short fraction = tenths');
  t.equal(secondsDotMicrosToMs('1795314162.999999'), 1795314162999, 'microseconds truncated, never rounded up into the next ms');
});

t.test('report periods', async (t) => {
  const now = localTime(TZ, 2025, 5, 20, 12, 0);
  t.same(parsePeriod({ month: '2025-03' }, TZ, now), { from: localTime(TZ, 2025, 3, 1), to: localTime(TZ, 2025, 4, 1) });
  t.same(
    parsePeriod({ from: '2025-05-01', to: '2025-05-01' }, TZ, now),
    { from: localTime(TZ, 2025, 5, 1), to: localTime(TZ, 2025, 5, 2) },
    '"to" day is inclusive',
  );
  t.same(parsePeriod({}, TZ, now), { from: localTime(TZ, 2025, 5, 1), to: now }, 'default: this month so far');
  t.same(parsePeriod({ from: '2025-05-20T10:00:00+02:00', to: '2025-05-20T10:01:00+02:00' }, TZ, now), {
    from: Date.UTC(2025, 4, 20, 8),
    to: Date.UTC(2025, 4, 20, 8, 1),
  });
  t.throws(() => parsePeriod({ from: 'last week' }, TZ, now), /expected YYYY-MM-DD/);
  t.throws(() => parsePeriod({ from: '2025-05-02', to: '2025-05-01' }, TZ, now), /empty/);
  t.throws(() => parsePeriod({ month: '2025-5' }, TZ, now), /YYYY-MM/);
});

t.test('cron slots: what should have run, in the schedule zone', async (t) => {
  const a = localTime(TZ, 2025, 3, 28, 12, 0);
  const b = localTime(TZ, 2025, 4, 1, 12, 0);
  t.same(
    cronSlots('5 0 * * *', a, b, TZ),
    [29, 30, 31, 1].map((d) => localTime(TZ, 2025, d === 1 ? 4 : 3, d, 0, 5)),
    'daily 00:05 local across the spring-forward change',
  );
  t.same(
    cronSlots('15 0 1 * *', localTime(TZ, 2025, 1, 15), localTime(TZ, 2025, 4, 15), TZ),
    [2, 3, 4].map((m) => localTime(TZ, 2025, m, 1, 0, 15)),
    'monthly',
  );
  t.same(
    cronSlots('0 23 L * *', localTime(TZ, 2024, 2, 1), localTime(TZ, 2024, 3, 31, 23, 30), TZ),
    [localTime(TZ, 2024, 2, 29, 23), localTime(TZ, 2024, 3, 31, 23)],
    'L = last day (leap February)',
  );
  t.same(
    cronSlots('0 12 13 * 1', localTime(TZ, 2025, 1, 1), localTime(TZ, 2025, 12, 31), TZ),
    [localTime(TZ, 2025, 1, 13, 12), localTime(TZ, 2025, 10, 13, 12)],
    'day-of-month AND weekday, like node-cron',
  );
  const s0 = localTime(TZ, 2025, 5, 1, 10, 0);
  t.same(cronSlots('*/3 * * * * *', s0, s0 + 10_000, TZ), [s0 + 3000, s0 + 6000, s0 + 9000], 'six fields: seconds; (after, upTo]');
  t.equal(cronSlots('* * * * * *', s0 - 3_600_000, s0, TZ, 5).length, 5, 'capped to the most recent');
  t.same(cronSlots('* * * * * *', s0 - 3_600_000, s0, TZ, 2), [s0 - 1000, s0], 'the most recent ones');
  t.equal(lastSlotAtOrBefore('30 10 * * *', localTime(TZ, 2025, 5, 1, 10, 29), TZ), localTime(TZ, 2025, 4, 30, 10, 30));
  t.equal(lastSlotAtOrBefore('30 10 * * *', localTime(TZ, 2025, 5, 1, 10, 30), TZ), localTime(TZ, 2025, 5, 1, 10, 30), 'at the slot itself');
  t.same(cronSlots('0 3 * * *', Date.UTC(2025, 4, 1), Date.UTC(2025, 4, 3), 'UTC'), [Date.UTC(2025, 4, 1, 3), Date.UTC(2025, 4, 2, 3)], 'any zone');
  t.throws(() => cronSlots('61 * * * *', 0, 1, TZ), /not a valid cron/);
});
