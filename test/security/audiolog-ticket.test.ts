/**
 * Issue #17, item 4: the playback ticket that replaced `GET …/audio?reason=` —
 * the parts the process test (audiolog-access.test.ts) cannot reach without
 * waiting out a real lifetime: a ticket replayed after it ran out, and the
 * Range header the player's GETs are answered by. The tickets run on a clock
 * the test sets (the supervisor passes its own).
 */
import t from 'tap';
import { byteRange } from '../../supervisor/src/api/byteRange.js';
import { PlaybackTickets, TICKET_PATTERN } from '../../supervisor/src/audiolog/playbackTickets.js';

const ADMIN = { userId: 1, username: 'admin', session: 'session-token-of-admin' };

t.test('a ticket replayed after it ran out is refused, and forgotten', async (t) => {
  let now = 1_000_000;
  const tickets = new PlaybackTickets(() => now);
  const { ticket, expiresAt } = tickets.issue('20261122T024300Z-e54be67a6ebf', ADMIN, 7, 60_000);
  t.match(ticket, TICKET_PATTERN, 'the ticket looks like what the route accepts');
  t.equal(expiresAt, 1_060_000);
  now = 1_059_999;
  t.match(tickets.redeem(ticket, '20261122T024300Z-e54be67a6ebf', ADMIN), { ok: true, grant: { accessSeq: 7, username: 'admin' } }, 'valid until its end');
  now = 1_060_000;
  t.same(tickets.redeem(ticket, '20261122T024300Z-e54be67a6ebf', ADMIN), { ok: false, why: 'expired' }, 'refused from its end on');
  t.same(tickets.redeem(ticket, '20261122T024300Z-e54be67a6ebf', ADMIN), { ok: false, why: 'unknown' }, 'and then forgotten');
  t.equal(tickets.size, 0, 'nothing held');
});

t.test('a ticket is bound to the user, the session and the recording', async (t) => {
  const tickets = new PlaybackTickets(() => 0);
  const { ticket } = tickets.issue('rec-aaaaaaaa', ADMIN, 1, 60_000);
  t.same(
    tickets.redeem(ticket, 'rec-aaaaaaaa', { ...ADMIN, session: 'another-session-of-admin' }),
    { ok: false, why: 'session' },
    'another session of the same user',
  );
  t.same(tickets.redeem(ticket, 'rec-aaaaaaaa', { userId: 2, username: 'kari', session: ADMIN.session }), { ok: false, why: 'session' }, 'another user');
  t.same(tickets.redeem(ticket, 'rec-bbbbbbbb', ADMIN), { ok: false, why: 'recording' }, 'another recording');
  t.same(tickets.redeem('A'.repeat(43), 'rec-aaaaaaaa', ADMIN), { ok: false, why: 'unknown' }, 'a made-up ticket');
  t.equal(tickets.redeem(ticket, 'rec-aaaaaaaa', ADMIN).ok, true, 'and still good for its holder');
  // Expired tickets are dropped when the next one is issued: the map does not grow without end.
  let clock = 0;
  const t2 = new PlaybackTickets(() => clock);
  for (let i = 0; i < 50; i++) t2.issue('rec-aaaaaaaa', ADMIN, i, 10);
  clock = 10;
  t2.issue('rec-aaaaaaaa', ADMIN, 51, 10);
  t.equal(t2.size, 1, 'expired tickets are pruned');
});

t.test('Range headers as the <audio> element sends them', async (t) => {
  const size = 10_000;
  t.same(byteRange(undefined, size), { kind: 'whole' }, 'no Range: the whole file');
  t.same(byteRange('bytes=0-', size), { kind: 'part', start: 0, end: 9999 }, 'bytes=0- (how Chromium starts)');
  t.same(byteRange('bytes=0-1023', size), { kind: 'part', start: 0, end: 1023 });
  t.same(byteRange('bytes=9000-20000', size), { kind: 'part', start: 9000, end: 9999 }, 'an end past the file is clipped');
  t.same(byteRange('bytes=-500', size), { kind: 'part', start: 9500, end: 9999 }, 'the last 500 bytes');
  t.same(byteRange('bytes=10000-', size), { kind: 'unsatisfiable' }, 'a start past the end: 416');
  t.same(byteRange('bytes=500-100', size), { kind: 'unsatisfiable' }, 'an end before the start: 416');
  t.same(byteRange('bytes=-0', size), { kind: 'unsatisfiable' });
  t.same(byteRange('bytes=0-1,5-9', size), { kind: 'whole' }, 'several ranges: the whole file (allowed by RFC 9110)');
  t.same(byteRange('items=0-1', size), { kind: 'whole' }, 'another unit: ignored');
  t.same(byteRange('bytes=-', size), { kind: 'whole' }, 'nothing named: ignored');
});
