/**
 * Acceptance 3 (issue #10): a schedule missed while the supervisor was down is
 * reported after restart. The supervisor runs as its own process with the
 * daily summary scheduled every 4 s (node-cron, six fields); it is SIGKILLed
 * (the box loses power), kept down across several slots, and started again.
 * Ground truth: the slots strictly between the last run before the kill and
 * the first scheduled run after the restart — every one must be logged as
 * missed, exactly once, and caught up; the gap shows as "not observed" time.
 */
import path from 'node:path';
import t from 'tap';
import { evidenceSchema } from '../../../supervisor/src/config/evidence.js';
import { runEvidenceCli } from '../../../supervisor/src/evidence/cli.js';
import { scratchDir, waitFor } from '../../helpers/util.js';
import { startEvidenceProcess, writeEvidenceConfig } from './harness.js';

interface Run {
  id: number;
  duty: string;
  trigger: string;
  scheduledFor: number | null;
  startedAt: number;
  outcome: string;
  detail: string;
}

const EVERY = 4000;

t.test('a duty missed while the box was off is reported after restart', async (t) => {
  const { dir, cleanup } = await scratchDir('evidence-missed');
  t.teardown(cleanup);
  const files = await writeEvidenceConfig({
    dir,
    evidence: {
      timeZone: 'Europe/Oslo',
      heartbeatS: 1,
      availability: { bucketS: 1 },
      duties: {
        dailySummary: { schedule: '*/4 * * * * *' },
        monthlyReport: { enabled: false },
        retention: { enabled: false },
        missedCheckS: 1,
        graceS: 1,
      },
    },
  });
  let sup = await startEvidenceProcess(t, files);
  let tech = await sup.login('tekniker1', 'technician');
  const runs = async () => (await sup.as<{ runs: Run[] }>(tech, 'GET', '/api/duties?duty=daily-summary')).json.runs;

  // Let it run on schedule at least twice.
  await waitFor(async () => (await runs()).filter((r) => r.trigger === 'schedule' && r.outcome === 'ok').length >= 2, {
    timeoutMs: 30_000,
    what: 'two scheduled daily summaries',
  });
  const before = await runs();
  t.ok(
    before.every((r) => r.trigger === 'schedule'),
    'a fresh box has missed nothing',
  );
  t.ok(
    before.every((r) => (r.scheduledFor ?? 1) % EVERY === 0),
    'each run is logged with the slot it was due for',
  );

  await sup.kill('SIGKILL');
  const killedAt = Date.now();
  // Down across at least two slots.
  await new Promise((r) => setTimeout(r, 2.5 * EVERY));
  sup = await startEvidenceProcess(t, files);
  const restartedAt = Date.now();
  tech = await sup.login('tekniker1', 'technician');

  const after = await waitFor(
    async () => {
      const rs = await runs();
      const firstPost = rs.filter((r) => r.trigger === 'schedule' && r.startedAt >= restartedAt - 60_000 && (r.scheduledFor ?? 0) > killedAt).at(-1);
      if (!firstPost) return null;
      // Wait until the periodic check has looked at every slot before the first run after restart.
      const missedSlots = rs.filter((r) => r.outcome === 'missed').map((r) => r.scheduledFor as number);
      const lastPre = Math.max(...rs.filter((r) => r.trigger === 'schedule' && (r.scheduledFor ?? 0) <= killedAt).map((r) => r.scheduledFor as number));
      const expected = [];
      for (let s = lastPre + EVERY; s < (firstPost.scheduledFor as number); s += EVERY) expected.push(s);
      // …and until each catch-up has finished (a run is recorded when it starts).
      const caughtUpDone = expected.every((s) => rs.some((r) => r.trigger === 'catch-up' && r.scheduledFor === s && r.outcome && r.outcome !== 'running'));
      return expected.every((s) => missedSlots.includes(s)) && caughtUpDone ? { rs, lastPre, firstPost: firstPost.scheduledFor as number, expected } : null;
    },
    { timeoutMs: 30_000, intervalMs: 250, what: 'the missed slots to be logged after the restart' },
  );
  const missed = after.rs.filter((r) => r.outcome === 'missed');
  t.ok(after.expected.length >= 2, `the box was off across ${after.expected.length} slots`);
  t.same(
    missed.map((r) => r.scheduledFor).sort(),
    [...after.expected].sort(),
    'exactly the slots between the last run before the kill and the first run after restart are reported missed',
  );
  t.ok(
    missed.every((r) => r.trigger === 'detected' && r.startedAt >= restartedAt - 2000),
    'noticed after the restart',
  );
  t.ok(
    after.expected.every((s) => s > killedAt - EVERY && s <= restartedAt + EVERY),
    'all of them fall in the time the box was off',
  );
  const caughtUp = after.rs.filter((r) => r.trigger === 'catch-up').map((r) => r.scheduledFor);
  t.same([...caughtUp].sort(), [...after.expected].sort(), 'each missed summary was caught up for its own slot');
  t.ok(
    after.rs.filter((r) => r.trigger === 'catch-up').every((r) => r.outcome === 'ok'),
    'catch-ups succeeded',
  );

  // Announced, and a deviation opened for it; the gap itself is on record too.
  const evs = await sup.admin<{ events: Array<{ kind: string; en: string; severity: string }> }>('GET', '/api/events?limit=500');
  const miss = evs.json.events.find((e) => e.kind === 'duty.missed');
  t.match(miss, { severity: 'warn', en: /daily-summary did not run \d+× .*was the box off\?/ });
  t.ok(
    evs.json.events.some((e) => e.kind === 'evidence.gap'),
    'the gap in observation is recorded',
  );
  const devs = await sup.as<{ deviations: Array<{ kind: string; state: string }> }>(tech, 'GET', '/api/deviations?state=open');
  t.ok(
    devs.json.deviations.some((d) => d.kind === 'duty.missed'),
    'a missed duty opens a deviation',
  );

  // The duty log export and the report both show it.
  const csv = await sup.as(tech, 'GET', '/api/duties?format=csv&duty=daily-summary');
  t.match(csv.text, /daily-summary,detected,.*,missed,due .* but never ran/);
  const report = await sup.as<{ lostTime: Array<{ from: number; to: number; state: string }>; duties: Run[] }>(
    tech,
    'GET',
    `/api/evidence/report?from=${encodeURIComponent(new Date(killedAt - 10_000).toISOString())}&to=${encodeURIComponent(new Date(restartedAt).toISOString())}`,
  );
  t.equal(report.status, 200, report.text.slice(0, 300));
  const gap = report.json.lostTime.find((l) => l.state === 'unobserved' && l.from <= killedAt + 1000 && l.to >= restartedAt - 5000);
  t.ok(gap, `the time the box was off is "not observed" in the availability figures (${JSON.stringify(report.json.lostTime)})`);
  t.ok(
    report.json.duties.some((d) => d.outcome === 'missed'),
    'the report lists the missed runs',
  );

  // `vaktpost duties` reads the same log straight from the store.
  let text = '';
  const cfg = { box: { name: 'evidence-test', dataDir: path.join(dir, 'data') }, evidence: evidenceSchema.parse({ timeZone: 'Europe/Oslo' }) };
  const code = await runEvidenceCli('duties', [], {}, { cfg, api: async () => null, write: (s) => (text += s) });
  t.equal(code, 0);
  t.equal(
    text.split('\n').filter((l) => / daily-summary +detected +missed +due /.test(l)).length,
    after.expected.length,
    '`vaktpost duties` lists each missed slot',
  );
});
