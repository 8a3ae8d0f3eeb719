/**
 * Flap damping (RFC 2439 / IP event dampening): the penalty arithmetic, suppression
 * and reuse hysteresis, the ceiling, and the event bound on a link that flaps every
 * 3 s — driven through the real WanLink state machine with a fake clock.
 */
import fc from 'fast-check';
import t from 'tap';
import { dampingSchema } from '../../../supervisor/src/config/wan.js';
import {
  type DampingParams,
  dampDecay,
  dampDownEdge,
  healthStatus,
  initialDamp,
  initialLinkState,
  isDownEdge,
  type LinkHealth,
  type LinkParams,
  msUntilReuse,
  onCarrier,
  onRound,
  penaltyAt,
  penaltyCeiling,
  siteWan,
} from '../../../supervisor/src/core/linkState.js';

const D: DampingParams = { penalty: 1000, suppressAt: 1500, reuseAt: 750, halfLifeMs: 15_000, maxSuppressMs: 60_000 };

t.test('the config defaults are the ones these tests assume', async (t) => {
  const c = dampingSchema.parse({});
  t.same({ penalty: c.penalty, suppressAt: c.suppressAt, reuseAt: c.reuseAt, halfLifeMs: c.halfLifeMs, maxSuppressMs: c.maxSuppressMs }, D);
  t.equal(c.enabled, true);
  t.notOk(dampingSchema.safeParse({ reuseAt: 2500 }).success, 'reuse above suppress is refused');
  t.notOk(dampingSchema.safeParse({ maxSuppressMs: 5000 }).success, 'a ceiling below suppressAt is refused (would never suppress)');
});

t.test('the penalty halves every half-life', async (t) => {
  const d = dampDownEdge(initialDamp(0), D, 0);
  t.equal(d.penalty, 1000);
  t.equal(Math.round(penaltyAt(d, D, 15_000)), 500);
  t.equal(Math.round(penaltyAt(d, D, 30_000)), 250);
  t.equal(penaltyAt(d, D, -5), 1000, 'no growth if the clock reads earlier');
});

t.test('one outage is reported as such; a second within a half-life suppresses', async (t) => {
  let d = dampDownEdge(initialDamp(0), D, 0);
  t.notOk(d.suppressed, 'one outage: not flapping');
  const late = dampDownEdge(d, D, 16_000);
  t.notOk(late.suppressed, `a second 16 s later: penalty ${late.penalty.toFixed(0)} < ${D.suppressAt}`);
  d = dampDownEdge(d, D, 3000);
  t.ok(d.suppressed, `a second 3 s later: penalty ${d.penalty.toFixed(0)} ≥ ${D.suppressAt}`);
  t.equal(d.downEdges, 2);
  t.equal(d.suppressedAt, 3000);
});

t.test('property: a single outage never suppresses; two suppress exactly when ≤ one half-life apart', async () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 600_000 }), fc.integer({ min: 0, max: 600_000 }), (start, gap) => {
      const one = dampDownEdge(initialDamp(start), D, start);
      const two = dampDownEdge(one, D, start + gap);
      return !one.suppressed && two.suppressed === gap <= D.halfLifeMs;
    }),
  );
});

t.test('reuse: suppression holds until the penalty decays below reuseAt (hysteresis)', async (t) => {
  let d = initialDamp(0);
  for (const at of [0, 3000]) d = dampDownEdge(d, D, at);
  const wait = msUntilReuse(d, D, 3000);
  t.ok(wait > 0);
  t.ok(dampDecay(d, D, 3000 + wait - 10).suppressed, 'still suppressed just before');
  const after = dampDecay(d, D, 3000 + wait + 10);
  t.notOk(after.suppressed, 'reused just after');
  t.ok(penaltyAt(after, D, 3000 + wait + 10) < D.reuseAt);
  t.comment(`two outages 3 s apart: reported normally again ${(wait / 1000).toFixed(1)} s after the second`);
  // Between reuse and suppress, a decaying penalty does not re-suppress by itself.
  const mid = { ...dampDownEdge(initialDamp(0), D, 0), penalty: 1500, suppressed: false };
  t.notOk(dampDecay(mid, D, 1000).suppressed);
});

t.test('the ceiling bounds how long a link stays suppressed after it settles', async (t) => {
  let d = initialDamp(0);
  for (let i = 0; i < 1000; i++) d = dampDownEdge(d, D, i * 100); // a storm: 10 edges a second for 100 s
  t.ok(d.penalty <= penaltyCeiling(D) + 1e-9, 'never above the ceiling');
  const wait = msUntilReuse(d, D, 99_900);
  t.ok(wait <= D.maxSuppressMs + 1, `suppressed ${(wait / 1000).toFixed(1)} s after the storm, ≤ maxSuppress ${D.maxSuppressMs / 1000} s`);
});

t.test('property: suppressed ⇒ the penalty went ≥ suppressAt at some edge, and decays to reuse in ≤ maxSuppressMs', async () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 60 }), (gaps) => {
      let d = initialDamp(0);
      let now = 0;
      let peak = 0;
      for (const g of gaps) {
        now += g;
        d = dampDownEdge(d, D, now);
        peak = Math.max(peak, d.penalty);
        if (d.penalty > penaltyCeiling(D) + 1e-6) return false;
      }
      if (d.suppressed && peak < D.suppressAt) return false;
      return msUntilReuse(d, D, now) <= D.maxSuppressMs + 1;
    }),
  );
});

t.test('only up → down counts as an edge', async (t) => {
  t.ok(isDownEdge('ok', 'down'));
  t.ok(isDownEdge('degraded', 'down'));
  t.notOk(isDownEdge('unknown', 'down'), 'the first verdict at start is not a flap');
  t.notOk(isDownEdge('down', 'down'));
  t.notOk(isDownEdge('ok', 'degraded'));
});

t.test('flapping is reported as fail and counts as down for the site', async (t) => {
  t.equal(healthStatus('flapping'), 'fail', 'not warn: warn would count as known-good and allow fail-back');
  t.equal(siteWan(['flapping', 'down']), 'down');
  t.equal(siteWan(['flapping', 'ok']), 'ok');
});

// ── The event bound, through the raw state machine + damping ───────────────

const P: LinkParams = { downAfter: 6, upAfter: 10, windowRounds: 100, degradedLossPct: 10, recoverLossPct: 5, degradedRttMs: 400, minRoundsForLoss: 20 };

/** The same composition as WanLink: raw state, damping on its edges, reported health. */
function simulateCarrierFlap(
  periodMs: number,
  flapForMs: number,
  totalMs: number,
  damping: DampingParams | undefined,
): { changes: LinkHealth[]; okAgainAt: number | undefined } {
  let s = initialLinkState();
  let d = initialDamp(0);
  const reported = () => (d.suppressed ? 'flapping' : s.health);
  const changes: LinkHealth[] = [];
  let last: LinkHealth = s.health;
  let okAgainAt: number | undefined;
  const after = (now: number, rawBefore: LinkHealth) => {
    if (damping) d = isDownEdge(rawBefore, s.health) ? dampDownEdge(d, damping, now) : dampDecay(d, damping, now);
    const r = reported();
    if (r !== last) {
      changes.push(r);
      last = r;
      if (r === 'ok' && now > flapForMs && okAgainAt === undefined) okAgainAt = now;
    }
  };
  s = onCarrier(s, true, 'up', 0);
  let carrier = true;
  for (let now = 0; now <= totalMs; now += 100) {
    // Warm-up 5 s, then carrier down for half of each period, up for the other half.
    const flapping = now >= 5000 && now < 5000 + flapForMs;
    const want = flapping ? Math.floor((now - 5000) / (periodMs / 2)) % 2 === 1 : true;
    if (want !== carrier) {
      const raw = s.health;
      s = onCarrier(s, want, want ? 'carrier back' : 'no carrier', now);
      carrier = want;
      after(now, raw);
    }
    const raw = s.health;
    s = onRound(s, P, carrier ? { answered: true, sent: 2, lost: 0, rttMs: 20 } : { answered: false, sent: 2, lost: 2 }, now);
    after(now, raw);
  }
  return { changes, okAgainAt };
}

t.test('a link flapping every 3 s for 2 minutes: ≤ 4 reported state changes (vs one per edge undamped)', async (t) => {
  const damped = simulateCarrierFlap(3000, 120_000, 250_000, D);
  const raw = simulateCarrierFlap(3000, 120_000, 250_000, undefined);
  t.comment(`undamped: ${raw.changes.length} state changes; damped: ${damped.changes.join(' → ')}`);
  t.ok(raw.changes.length >= 40, 'the defect: an event per edge');
  // unknown→ok at start; then ok→down, down→ok, ok→flapping (2nd edge), and flapping→ok after it settles.
  t.same(damped.changes, ['ok', 'down', 'ok', 'flapping', 'ok']);
  const duringFlap = damped.changes.length - 1; // minus the start-up unknown → ok
  t.ok(duringFlap <= 4, `${duringFlap} changes from the first flap until it is trusted again`);
  t.ok(
    damped.okAgainAt !== undefined && damped.okAgainAt - 125_000 <= D.maxSuppressMs + 1000,
    `ok again ${((damped.okAgainAt ?? 0) - 125_000) / 1000} s after the flapping stopped`,
  );
});
