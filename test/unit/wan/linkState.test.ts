import fc from 'fast-check';
import t from 'tap';
import {
  combinePaths,
  falseDownsPerDay,
  healthStatus,
  initialLinkState,
  initialReach,
  type LinkParams,
  type LinkState,
  linkStats,
  onCarrier,
  onReachProbe,
  onRound,
  siteWan,
  worstDetectionMs,
} from '../../../supervisor/src/core/linkState.js';

const P: LinkParams = {
  downAfter: 6,
  upAfter: 10,
  windowRounds: 100,
  degradedLossPct: 10,
  recoverLossPct: 5,
  degradedRttMs: 400,
  minRoundsForLoss: 20,
};
const ok = { answered: true, sent: 2, lost: 0, rttMs: 20 };
const lost = { answered: false, sent: 2, lost: 2, detail: 'no answer' };

function feed(s: LinkState, rounds: Array<typeof ok | typeof lost>, p = P): LinkState {
  let x = s;
  for (const r of rounds) x = onRound(x, p, r, 0);
  return x;
}
const times = <T>(n: number, r: T): T[] => Array.from({ length: n }, () => r);
const upLink = () => feed(initialLinkState(), times(P.upAfter, ok));

t.test('starts unknown and needs upAfter answered rounds to be ok', async (t) => {
  let s = initialLinkState();
  t.equal(s.health, 'unknown');
  s = feed(s, times(P.upAfter - 1, ok));
  t.equal(s.health, 'unknown', 'one short of upAfter');
  s = feed(s, [ok]);
  t.equal(s.health, 'ok');
  t.match(s.reason, /10 probe rounds in a row answered/);
});

t.test('down after exactly downAfter lost rounds in a row, not before', async (t) => {
  let s = feed(upLink(), times(P.downAfter - 1, lost));
  t.equal(s.health, 'ok', '5 lost: still ok');
  s = feed(s, [ok, ...times(P.downAfter - 1, lost)]);
  t.not(s.health, 'down', 'an answer resets the streak (the loss makes it degraded, not down)');
  s = onRound(s, P, lost, 1234);
  t.equal(s.health, 'down');
  t.equal(s.changedAt, 1234);
  t.match(s.reason, /6 probe rounds in a row lost to every target \(no answer\)/);
});

t.test('unknown goes down after downAfter losses (a link dead at start)', async (t) => {
  const s = feed(initialLinkState(), times(P.downAfter, lost));
  t.equal(s.health, 'down');
});

t.test('carrier loss is down at once; carrier back still needs upAfter answers', async (t) => {
  let s = onCarrier(upLink(), false, 'no carrier', 5);
  t.equal(s.health, 'down');
  t.equal(s.reason, 'no carrier');
  s = feed(s, times(20, ok));
  t.equal(s.health, 'down', 'answers while carrier is down do not count (they cannot be real)');
  s = onCarrier(s, true, 'carrier back', 6);
  t.equal(s.health, 'down', 'carrier alone does not bring it up');
  s = feed(s, times(P.upAfter - 1, ok));
  t.equal(s.health, 'down');
  s = feed(s, [ok]);
  t.equal(s.health, 'ok');
});

t.test('recovery from down starts a fresh window (outage losses are history)', async (t) => {
  let s = feed(upLink(), times(30, lost));
  t.equal(s.health, 'down');
  t.ok((linkStats(s).lossPct ?? 0) > 50, 'loss % shows the outage while down');
  s = feed(s, times(P.upAfter, ok));
  t.equal(s.health, 'ok');
  t.equal(linkStats(s).lossPct, 0);
  t.equal(linkStats(s).rounds, P.upAfter);
});

t.test('degraded on loss with hysteresis, and on median RTT', async (t) => {
  // 30 % of probes lost (one of two targets in 60 % of rounds), never a whole round.
  const half = { answered: true, sent: 2, lost: 1, rttMs: 20 };
  let s = upLink();
  for (let i = 0; i < 30 && s.health === 'ok'; i++) s = onRound(s, P, i % 5 < 3 ? half : ok, 0);
  t.equal(s.health, 'degraded');
  t.match(s.reason, /^probe loss \d+\.\d % ≥ 10 %$/);
  s = onRound(s, P, half, 0);
  t.match(s.reason, /not yet below 5 %/);
  t.equal(healthStatus(s.health), 'warn');
  // Loss falls to ~7 %: below the entry threshold but above recovery → stays degraded.
  for (let i = 0; i < 100; i++) s = onRound(s, P, i % 7 === 0 ? half : ok, 0);
  t.equal(s.health, 'degraded', 'hysteresis holds between 5 % and 10 %');
  s = feed(s, times(100, ok));
  t.equal(s.health, 'ok');

  let r = upLink();
  r = feed(r, times(60, { ...ok, rttMs: 450 }));
  t.equal(r.health, 'degraded');
  t.match(r.reason, /median RTT 450 ms/);
  r = feed(r, times(100, { ...ok, rttMs: 300 }));
  t.equal(r.health, 'ok', 'a 300 ms link is slow but ok');
});

t.test('loss % is not judged on a handful of rounds', async (t) => {
  const s = feed(upLink(), [{ answered: true, sent: 2, lost: 1, rttMs: 20 }]);
  t.equal(linkStats(s).rounds, 11);
  t.equal(s.health, 'ok', '1 lost of 22 probes in 11 rounds: too few rounds to call it degraded');
});

t.test('dpinger-style loss window (fixed denominator)', async (t) => {
  const p = { ...P, downAfter: 1000, windowRounds: 120, downLossPct: 20, degradedLossPct: 100 };
  let s = feed(initialLinkState(), times(10, ok), p);
  s = feed(s, times(23, lost), p);
  t.not(s.health, 'down', '23 of 120 is < 20 %');
  s = onRound(s, p, lost, 0);
  t.equal(s.health, 'down', '24 of 120 = 20 %');
  t.match(s.reason, /24 of the last 120 probe rounds lost/);
});

t.test('property: the streak rule never goes down without downAfter losses in a row', async (t) => {
  fc.assert(
    fc.property(fc.array(fc.boolean(), { maxLength: 400 }), (answers) => {
      let s = upLink();
      let streak = 0;
      for (const a of answers) {
        streak = a ? 0 : streak + 1;
        const before = s.health;
        s = onRound(s, P, a ? ok : lost, 0);
        if (before !== 'down' && s.health === 'down' && streak < P.downAfter) return false;
      }
      return true;
    }),
  );
  t.pass('held for every sequence');
});

t.test('simulated false-down rate matches (1−q)·q^N per round', async (t) => {
  // Heavy loss so the rare event is countable: q = 0.3, N = 6 → 5.1e-4 per round.
  let seed = 42; // mulberry32: a seeded PRNG, so the test is repeatable
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const p = { ...P, upAfter: 1, windowRounds: 10, minRoundsForLoss: 10, degradedLossPct: 100, recoverLossPct: 100 };
  let s = feed(initialLinkState(), [ok], p);
  let downs = 0;
  const rounds = 400_000;
  for (let i = 0; i < rounds; i++) {
    const before = s.health;
    s = onRound(s, p, rand() < 0.3 ? lost : ok, 0);
    if (before !== 'down' && s.health === 'down') downs++;
  }
  const expected = rounds * 0.7 * 0.3 ** 6;
  t.ok(Math.abs(downs - expected) / expected < 0.2, `simulated ${downs} vs expected ${expected.toFixed(0)}`);
});

t.test('false-down arithmetic reproduces the measured figures (ops/net/README.md)', async (t) => {
  const perDay100x6 = falseDownsPerDay(0.05, 6, 100);
  t.ok(Math.abs(1 / perDay100x6 - 78) < 1, `100 ms × 6 at 5 %: one per ${(1 / perDay100x6).toFixed(1)} days`);
  const perDay200x3 = falseDownsPerDay(0.05, 3, 200);
  t.ok(Math.abs((24 * 60) / perDay200x3 - 28) < 1, `200 ms × 3 at 5 %: one per ${((24 * 60) / perDay200x3).toFixed(1)} min`);
  t.equal(worstDetectionMs(6, 100, 250), 850);
});

t.test('site WAN is down only when every link is down', async (t) => {
  t.equal(siteWan(['down', 'down']), 'down');
  t.equal(siteWan(['down', 'ok']), 'ok');
  t.equal(siteWan(['down', 'degraded']), 'degraded');
  t.equal(siteWan(['down', 'unknown']), 'unknown', 'one link unknown: not known to be down');
  t.equal(siteWan([]), 'unknown');
});

t.test('path reachability streaks and the all-paths combination', async (t) => {
  const p = { failAfter: 3, okAfter: 2 };
  let r = initialReach();
  r = onReachProbe(r, p, true);
  t.equal(r.status, 'unknown');
  r = onReachProbe(r, p, true);
  t.equal(r.status, 'ok');
  r = onReachProbe(onReachProbe(r, p, false), p, false);
  t.equal(r.status, 'ok', 'two misses of three');
  r = onReachProbe(r, p, false);
  t.equal(r.status, 'fail');
  r = onReachProbe(r, p, true);
  t.equal(r.status, 'fail', 'one answer is not enough to come back');

  t.equal(combinePaths(['fail', 'fail']), 'unreachable');
  t.equal(combinePaths(['fail', 'ok']), 'reachable');
  t.equal(combinePaths(['fail', 'unknown']), 'unknown', 'unknown is never read as healthy or as failed');
  t.equal(combinePaths([]), 'unknown');
});
