/**
 * Acceptance (flows, 4): a dry-run replays a recorded day of signals through a template
 * (in its own Node-RED child) and through the running flows, and lists where the routes
 * differ. The recorded day: one WAN link down for 30 min, both links down for 10 min.
 * The small-municipality template fails over on the single link (the running default
 * flow does not) and fails back only after its 120 s hold.
 */
import t from 'tap';
import type { Signal, SignalStatus, Subsystem } from '../../../supervisor/src/core/signal.js';
import type { DryRunReport } from '../../../supervisor/src/flows/dryRun.js';
import { startHarness } from './harness.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

function recordedDay(now: number): Signal[] {
  const from = now - 24 * HOUR;
  const out: Signal[] = [];
  const e1 = { from: now - 20 * HOUR, to: now - 20 * HOUR + 30 * MIN };
  const e2 = { from: now - 10 * HOUR, to: now - 10 * HOUR + 10 * MIN };
  const within = (t: number, e: { from: number; to: number }) => t >= e.from && t < e.to;
  // Samples every 60 s, like the supervisor's periodic samples of unchanged signals.
  for (let t = from; t < now - 2 * MIN; t += MIN) {
    const s = (key: string, status: SignalStatus, value: Signal['value']) =>
      out.push({ subsystem: key.split('.')[0] as Subsystem, source: 'recorded', key, status, value, observedAt: t, ttlMs: 90_000 });
    const wan1Down = within(t, e1) || within(t, e2);
    const wan2Down = within(t, e2);
    s('power.ups1.mains', 'ok', 'line');
    s('wan.wan1.state', wan1Down ? 'fail' : 'ok', wan1Down ? 'down' : 'up');
    s('wan.wan2.state', wan2Down ? 'fail' : 'ok', wan2Down ? 'down' : 'up');
    s('centres.local.lan', 'ok', true);
    s('centres.backup.wan1', wan1Down ? 'fail' : 'ok', !wan1Down);
    s('recording.rtpengine', 'ok', true);
    s('system.shutdown', 'ok', false);
  }
  return out;
}

t.test('dry-run of a template over a recorded day lists the differing decisions', async (t) => {
  const h = await startHarness({ flows: { dryRun: { sampleTtlS: 90, tickS: 60, windowHours: 24, proposalTimeoutMs: 2000, maxDurationS: 120 } } });
  t.teardown(() => h.close());
  const now = h.clock.now();
  h.store.insertSamples(recordedDay(now));

  const forbidden = await h.http('POST', '/api/flows/dry-run', { token: h.tokens.operator, body: { template: 'small-municipality-any-wan' } });
  t.equal(forbidden.status, 403, 'an operator cannot start a dry-run');

  const t0 = performance.now();
  const res = await h.http('POST', '/api/flows/dry-run', { body: { template: 'small-municipality-any-wan' } });
  t.equal(res.status, 200, res.text.slice(0, 300));
  const { id, report } = res.json as { id: number; report: DryRunReport };
  t.comment(`dry-run took ${Math.round(performance.now() - t0)} ms, ${report.evaluations} evaluations per side, ${report.samples} samples`);
  t.same(report.warnings, [], 'no warnings');
  t.equal(report.current.kind, 'flows');
  t.equal(report.current.version, 1, 'compared with the running version');
  t.ok(report.candidate.runs && report.current.runs, 'both configurations run in Node-RED');
  t.equal(report.candidate.missedAnswers + report.current.missedAnswers, 0, 'every evaluation answered');

  const [d1, d2, ...more] = report.differences;
  t.equal(report.differences.length, 2, 'two periods differ');
  t.same(more, []);
  const e1 = now - 20 * HOUR;
  const e2end = now - 10 * HOUR + 10 * MIN;
  t.ok(d1 && Math.abs(d1.from - e1) <= 2 * MIN, 'first difference starts with the single-link loss');
  t.equal(d1?.candidate.route, 'backup', 'template: backup');
  t.equal(d1?.current.route, 'local', 'running flows: local');
  t.match(d1?.candidate.reason?.en ?? '', /WAN link down \(wan1\)/, "with the template flow's reason");
  t.ok(
    d1 && d1.durationMs >= 30 * MIN && d1.durationMs <= 35 * MIN,
    `lasts the outage plus the failback hold (${Math.round((d1?.durationMs ?? 0) / MIN)} min)`,
  );
  t.ok(d2 && Math.abs(d2.from - e2end) <= 2 * MIN, 'second difference: after the double outage, while the template holds backup');
  t.equal(d2?.candidate.route, 'backup');
  t.equal(d2?.current.route, 'local');
  // 120 s, give or take the replay's resolution (an evaluation at least every tickS = 60 s).
  t.ok(d2 && d2.durationMs >= MIN && d2.durationMs <= 3 * MIN, `the template's 120 s failback hold (${Math.round((d2?.durationMs ?? 0) / 1000)} s)`);
  t.ok(report.candidate.routeChanges >= 4 && report.current.routeChanges >= 2, 'both sides failed over during the double outage');

  const stored = await h.http('GET', `/api/flows/dry-runs/${id}`, { token: h.tokens.operator });
  t.equal(stored.status, 200, 'the report is stored and readable');
  t.equal((stored.json as { differences: number }).differences, 2);

  const same = await h.http('POST', '/api/flows/dry-run', { body: { template: 'default' } });
  t.equal((same.json as { report: DryRunReport }).report.differences.length, 0, 'the running flow against itself: no difference');

  const dep = await h.http('POST', '/api/flows/deploy', { body: { template: 'small-municipality-any-wan' } });
  t.equal(dep.status, 200, dep.text.slice(0, 200));
  t.equal((dep.json as { dryRunId: number | null }).dryRunId, id, 'the deploy is linked to the dry-run made before it');
  t.match(h.events('flows.deployed')[0]?.en ?? '', new RegExp(`dry-run #${id}: 2 differing periods`));
});
