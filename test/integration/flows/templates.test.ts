/**
 * Acceptance (flows, 1): every template is deployed through Node-RED's admin API (the
 * editor's path, via Vaktpost's proxy) into a real Node-RED child, driven with signal
 * sequences, and the routes it makes the supervisor take are the expected ones.
 */
import t from 'tap';
import type { Decision } from '../../../supervisor/src/core/policy.js';
import { waitFor } from '../../helpers/util.js';
import { type Harness, startHarness } from './harness.js';

function decisionsSince(h: Harness, n: number): Decision[] {
  return h.live.slice(n).flatMap((m) => (m.type === 'decision' ? [m.decision] : []));
}

/**
 * Waits until the flow has been sent `n` more evaluations (the advisor sends the next only
 * once the one before is settled, so at least n − 1 were answered, each at a supervisor
 * decision step) and its last verdict is an answer.
 */
async function moreEvaluations(h: Harness, n: number): Promise<void> {
  const from = h.flows.status().evaluationsSent;
  await waitFor(() => h.flows.status().evaluationsSent >= from + n && h.flows.status().verdict === 'proposals', {
    timeoutMs: 30_000,
    what: `${n} more flow evaluations`,
  });
}

function withTabEnv(flows: Array<Record<string, unknown>>, name: string, value: string): Array<Record<string, unknown>> {
  return flows.map((n) =>
    n.type === 'tab' ? { ...n, env: [...((n.env as unknown[]) ?? []).filter((e) => (e as { name: string }).name !== name), { name, value, type: 'str' }] } : n,
  );
}

/**
 * The first full hour after `after` that is weekday `isoDay` (1 = Monday), `hour`:00 in
 * Oslo. Times only move forward in this test: a clock stepping back would put the last
 * route change in the future and hold the route down.
 */
function osloTime(after: number, isoDay: number, hour: number): number {
  const fmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Oslo', weekday: 'short', hour: '2-digit', hourCycle: 'h23' });
  const days: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
  for (let t = Math.ceil(after / 3600_000) * 3600_000; ; t += 3600_000) {
    const p = Object.fromEntries(fmt.formatToParts(new Date(t)).map((x) => [x.type, x.value]));
    if (days[p.weekday as string] === isoDay && Number(p.hour) === hour) return t;
  }
}

t.test('templates deployed through the admin API decide the routes', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const version = () => h.flows.status().version?.id;

  await t.test('default flow (initial version) reproduces the built-in policy', async (t) => {
    t.equal(version(), 1, 'the default template is version 1');
    await h.waitForRoute('local', { decidedBy: /^flows:v1$/, what: 'the default flow to propose local' });
    h.monitor.set('wan.wan1.state', 'fail', 'down');
    h.monitor.set('wan.wan2.state', 'fail', 'down');
    const d = await h.waitForRoute('backup', { decidedBy: /^flows:v1$/ });
    t.equal(d.mode, 'failover', 'same mode as the built-in policy');
    h.monitor.set('wan.wan1.state', 'ok', 'up');
    h.monitor.set('wan.wan2.state', 'ok', 'up');
    await h.waitForRoute('local', { decidedBy: /^flows:v1$/, what: 'failback after the hold' });
  });

  await t.test('small municipality: any single WAN loss fails over', async (t) => {
    const dep = await h.deployAndWait(withTabEnv(h.template('small-municipality-any-wan'), 'FAILBACK_S', '1'));
    t.equal(dep.status, 200, `deploy accepted: ${dep.text}`);
    t.equal(version(), 2, 'recorded as version 2');
    await h.waitForRoute('local', { decidedBy: /^builtin$/, what: 'the flow to defer to the built-in policy' });
    const mark = h.live.length;
    h.monitor.set('wan.wan1.state', 'fail', 'down');
    const d = await h.waitForRoute('backup', { decidedBy: /^flows:v2$/ });
    t.equal(d.mode, 'failover');
    t.match(
      h.supervisor
        .snapshot()
        .reasons.map((r) => r.en)
        .join(' | '),
      /WAN link down \(wan1\)/,
      'the flow says why',
    );
    t.notOk(
      decisionsSince(h, mark).some((x) => x.route === 'local' && x.routeChanged),
      'no detour',
    );
    const upAt = performance.now();
    h.monitor.set('wan.wan1.state', 'ok', 'up');
    await h.waitForRoute('local', { timeoutMs: 30_000, what: 'failback after FAILBACK_S' });
    t.ok(performance.now() - upAt >= 900, `stayed on backup for the flow's failback hold (${Math.round(performance.now() - upAt)} ms ≥ 1 s)`);
  });

  await t.test('analog backup lines: WAN loss keeps calls local; the safety floor still wins', async (t) => {
    const dep = await h.deployAndWait(h.template('analog-backup-lines'));
    t.equal(dep.status, 200, dep.text);
    t.equal(version(), 3);
    await h.waitForRoute('local');
    const mark = h.live.length;
    h.monitor.set('wan.wan1.state', 'fail', 'down');
    h.monitor.set('wan.wan2.state', 'fail', 'down');
    h.monitor.set('centres.local.wan1', 'fail', false);
    h.monitor.set('centres.backup.wan1', 'fail', false);
    await h.waitForRoute('local', { decidedBy: /^flows:v3$/, what: 'the flow to keep calls local' });
    // Give the built-in policy every chance to move calls (it wants backup): several more
    // evaluations answered by the flow, not a fixed sleep a busy machine may not fill.
    await moreEvaluations(h, 3);
    const s = h.supervisor.snapshot();
    t.equal(s.route, 'local', 'still local while WAN is down');
    t.equal(s.mode, 'degraded', 'running local with a known problem');
    t.match(s.reasons.map((r) => r.en).join(' | '), /analog backup lines/);
    t.notOk(
      decisionsSince(h, mark).some((x) => x.route === 'backup'),
      'the route never went to backup in between',
      { decisions: decisionsSince(h, mark).map((x) => `${x.route} ${x.mode} ${x.decidedBy}: ${x.reasons.map((r) => r.code).join(',')}`) },
    );

    h.monitor.set('centres.local.lan', 'fail', false);
    const f = await h.waitForRoute('backup', { decidedBy: /^builtin$/, what: 'the safety floor' });
    t.equal(f.mode, 'failover');
    t.ok(
      h.supervisor.snapshot().reasons.some((r) => r.code === 'centres.localUnreachable'),
      'floor reason: local centre unreachable on every path',
    );
    for (const k of ['centres.local.lan', 'centres.local.wan1', 'centres.backup.wan1']) h.monitor.set(k, 'ok', true);
    h.monitor.set('wan.wan1.state', 'ok', 'up');
    h.monitor.set('wan.wan2.state', 'ok', 'up');
    await h.waitForRoute('local');
  });

  await t.test('recording fails outside office hours → backup; inside → alarm only', async (t) => {
    const tuesday = osloTime(Date.now() + 86400_000, 2, 10);
    const saturday = osloTime(tuesday, 6, 23);
    const nextTuesday = osloTime(saturday, 2, 10);
    h.clock.offsetMs = tuesday - Date.now();
    h.monitor.refresh();
    const dep = await h.deployAndWait(h.template('recording-after-hours'));
    t.equal(dep.status, 200, dep.text);
    t.equal(version(), 4);
    h.monitor.set('recording.rtpengine', 'fail', false);
    await h.waitForRoute('local', { decidedBy: /^builtin$/ });
    await moreEvaluations(h, 3);
    t.equal(h.supervisor.snapshot().route, 'local', 'Tuesday 10:00: recording fault is not a reason to move calls');
    t.same(
      h.flows.status().proposals.map((p) => p.route),
      ['builtin'],
      'the flow answered: built-in policy decides',
    );

    h.clock.offsetMs = saturday - Date.now();
    h.monitor.refresh();
    await h.waitForRoute('backup', { decidedBy: /^flows:v4$/, what: 'Saturday 23:00: fail over' });
    t.match(
      h.supervisor
        .snapshot()
        .reasons.map((r) => r.nb)
        .join(' | '),
      /lydloggen feiler utenfor kontortid/,
      'reason in Norwegian',
    );

    h.clock.offsetMs = nextTuesday - Date.now();
    h.monitor.refresh();
    await h.waitForRoute('local', { what: 'back in office hours' });
    h.monitor.set('recording.rtpengine', 'ok', true);
  });

  await t.test('every deploy is versioned with who, when and the diff', async (t) => {
    const list = (await h.http('GET', '/api/flows/versions')).json as {
      versions: Array<{ id: number; actor: string; kind: string; diff: { summary: string } }>;
    };
    t.same(
      list.versions.map((v) => [v.id, v.actor, v.kind]),
      [
        [4, 'tekniker', 'deploy'],
        [3, 'tekniker', 'deploy'],
        [2, 'tekniker', 'deploy'],
        [1, 'system', 'initial'],
      ],
    );
    t.match(list.versions[0]?.diff.summary, /^\+\d+ −\d+ ~\d+ nodes$/);
    t.ok(h.events('flows.deployed').length >= 3, 'each deploy is an event');
  });
});
