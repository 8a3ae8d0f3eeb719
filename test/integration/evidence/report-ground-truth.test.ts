/**
 * Acceptance 1 (issue #10): a SIPp-driven scenario with known answer delays and
 * a known failover window produces a report whose availability and answer-time
 * figures equal the ground truth computed from the scenario, exactly.
 *
 * Everything real but the hardware: Kamailio rendered by Vaktpost with call
 * records on (acc + db_flatstore), SIPp as the two centres (answer delay chosen
 * per call by the number dialled) and as the callers, the shipped announcement
 * server, and the supervisor as its own process (simulated box) moving the
 * route with a manual override. Limits are scaled down (5 min → 2 s, 10 min →
 * 5 s, short abandon under 2 s, availability intervals of 6 s) so the day fits
 * in 72 s. Every timing keeps ≥ 1.5 s from the limit it must not cross, on the
 * side a busy machine cannot push it over (its delays only lengthen waits):
 * beside CPU hogs, hops of over a second were seen.
 *
 * Scenario, one event per 6 s interval (calls placed mid-interval):
 *   0 local answers after 0.5 s   1 local 0.5 s   2 local 3 s (over the 2 s limit)
 *   3 caller hangs up after 0.3 s while it rings (short abandon: not counted)
 *   ── route → backup (override) ──
 *   4 backup 0.5 s   5 backup 6 s (over the 5 s max)   6 no call
 *   ── the backup centre dies ──
 *   7 announcement   8 announcement
 *   ── route → local (override) ──
 *   9 caller gives up after 3 s of ringing (unanswered)
 *   10 local 0.5 s   11 local 0.5 s
 * Ground truth: intervals 7, 8, 9 down → 9 of 12 up = 75 %; offered 10, answered
 * by a centre 7, within the limit 5 (0, 1, 4, 10, 11) = 50 %; longest wait call 5
 * (6 s); one call over the max.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t, { type Test } from 'tap';
import { startSipp, type SippProcess, type SippResult } from '../../../hardware/sip/sipp.js';
import { renderKamailio } from '../../../supervisor/src/reconcilers/kamailio/render.js';
import { makeTestPrompt } from '../../helpers/audio/prompt.js';
import { startKamailio } from '../../helpers/kamailio.js';
import { startAnnouncement, summarizeCaller, waitSipReady } from '../../helpers/sipp.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';
import { parseCsv, startEvidenceProcess, writeEvidenceConfig } from './harness.js';

const SIPP = path.join(import.meta.dirname, 'sipp');
const B = 6000;

async function startDelayCentre(t: Test, role: string): Promise<{ uri: string; port: number; proc: SippProcess }> {
  const s = await scratchDir(`ev-${role}`);
  const port = await freePort();
  const proc = startSipp({
    scenarioFile: path.join(SIPP, 'uas-centre.xml'),
    workDir: s.dir,
    localIp: '127.0.0.1',
    localPort: port,
    keys: { role },
    autoAnswer: true,
  });
  t.teardown(async () => {
    await proc.kill();
    await s.cleanup();
  });
  return { uri: `sip:${role}@127.0.0.1:${port}`, port, proc };
}

interface Placed {
  n: number;
  caller: string;
  kind: 'answer' | 'abandon';
  done: Promise<SippResult>;
}

async function placeCall(t: Test, kamPort: number, n: number, o: { number: string; abandonAfterMs?: number }): Promise<Placed> {
  const s = await scratchDir(`ev-caller-${n}`);
  const caller = `479000${String(n).padStart(4, '0')}`;
  const proc = startSipp({
    scenarioFile: path.join(SIPP, o.abandonAfterMs !== undefined ? 'uac-abandon.xml' : 'uac-caller.xml'),
    workDir: s.dir,
    localIp: '127.0.0.1',
    localPort: await freePort(),
    remote: `127.0.0.1:${kamPort}`,
    service: o.number,
    keys: { caller },
    calls: 1,
    rate: 1,
    pauseMs: o.abandonAfterMs ?? 200,
    recvTimeoutMs: 30_000,
    timeoutS: 45,
  });
  t.teardown(async () => {
    await proc.kill();
    await s.cleanup();
  });
  return { n, caller, kind: o.abandonAfterMs !== undefined ? 'abandon' : 'answer', done: proc.done };
}

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));

interface Status {
  actuators: Array<{ actuator: string; converged: boolean; observed: string; target: string }>;
}

t.test('report figures equal the scenario ground truth', async (t) => {
  const { dir, cleanup } = await scratchDir('evidence-truth');
  t.teardown(cleanup);
  const recordsDir = path.join(dir, 'calls');

  const prompt = await makeTestPrompt(t);
  const [local, backup, announcement] = await Promise.all([startDelayCentre(t, 'local'), startDelayCentre(t, 'backup'), startAnnouncement(t, prompt.file)]);
  await Promise.all([local, backup, announcement].map((u) => waitSipReady(u)));
  const kam = await startKamailio(t, { centres: { local: [local.uri], backup: [backup.uri] }, announcementUris: [announcement.uri] });
  // The same Kamailio, now rendered with call records on (what calls.callRecords does).
  await writeFile(path.join(kam.dir, 'kamailio.cfg'), renderKamailio({ ...kam.input, callRecords: { dir: recordsDir } }).cfg);
  await kam.restart();

  const files = await writeEvidenceConfig({
    dir,
    extraYaml: [
      'calls:',
      `  sip: { address: 127.0.0.1, port: ${kam.sipPort} }`,
      `  centres: { local: { uris: ["${local.uri}"] }, backup: { uris: ["${backup.uri}"] } }`,
      `  announcement: { uris: ["${announcement.uri}"] }`,
      `  rpc: { port: ${kam.rpcPort} }`,
      '  verify: { optionsTimeoutMs: 1000 }',
      '  drill: { enabled: false }',
      `  callRecords: { dir: ${recordsDir} }`,
      // The supervisor persists the route into the list file Kamailio restarts from: the test
      // Kamailio's own, never the box default under /var/lib.
      `  configDir: ${kam.dir}`,
    ].join('\n'),
    evidence: {
      timeZone: 'Europe/Oslo',
      heartbeatS: 1,
      ingestEveryMs: 500,
      availability: { bucketS: B / 1000, shortAbandonS: 2, targetPercent: 99.7 },
      answerTime: { limitS: 2, targetPercent: 90, maxS: 5 },
    },
  });
  const sup = await startEvidenceProcess(t, files);
  const tech = await sup.login('tekniker1', 'technician');
  const kamStatus = async () => (await sup.admin<Status>('GET', '/api/status')).json.actuators.find((a) => a.actuator === 'kamailio');
  await waitFor(async () => (await kamStatus())?.converged === true && (await kamStatus())?.observed === 'local', {
    timeoutMs: 30_000,
    what: 'Kamailio routing to local',
  });

  const route = async (to: 'local' | 'backup') => {
    const r = await sup.admin('POST', '/api/route/override', { route: to, minutes: 10, reason: `evidence test: calls to ${to}` });
    if (r.status !== 200) throw new Error(`override ${to}: ${r.status} ${r.text}`);
    await waitFor(
      async () => {
        const s = await kamStatus();
        return s?.converged === true && s.observed === to;
      },
      // The scenario runs on the report's wall-clock buckets: the switch has to land before the
      // next call, placed mid-bucket (B / 2 after the switch was asked for) — the timeline's
      // own limit, not a speed figure.
      { timeoutMs: B / 2, intervalMs: 20, what: `Kamailio routing to ${to}` },
    );
  };

  // Aligned to the report's intervals (local midnight + k·6 s is a multiple of 6 s in epoch ms).
  const T0 = Math.ceil((Date.now() + 1500) / B) * B;
  const mid = (k: number) => T0 + k * B + B / 2;
  const placed: Placed[] = [];
  const call = async (k: number, o: { number: string; abandonAfterMs?: number }) => {
    await sleepUntil(mid(k));
    placed.push(await placeCall(t, kam.sipPort, k, o));
  };
  await call(0, { number: 'd500' });
  await call(1, { number: 'd500' });
  await call(2, { number: 'd3000' });
  await call(3, { number: 'ring', abandonAfterMs: 300 });
  await sleepUntil(T0 + 4 * B);
  const backupAsked = Date.now();
  await route('backup');
  const backupDone = Date.now();
  await call(4, { number: 'd500' });
  await call(5, { number: 'd6000' });
  await sleepUntil(T0 + 7 * B);
  await backup.proc.kill();
  await call(7, { number: 'd500' });
  await call(8, { number: 'd500' });
  await sleepUntil(T0 + 9 * B);
  const localAsked = Date.now();
  await route('local');
  const localDone = Date.now();
  await call(9, { number: 'ring', abandonAfterMs: 3000 });
  await call(10, { number: 'd500' });
  await call(11, { number: 'd500' });
  const results = new Map<number, SippResult>();
  for (const p of placed) results.set(p.n, await p.done);
  await sleepUntil(T0 + 12 * B + 200);

  // What SIPp itself saw: the scenario ran as designed.
  const answeredBy = (n: number) => summarizeCaller(results.get(n) as SippResult).calls.get(1)?.answeredBy;
  t.same(
    [0, 1, 2, 4, 5, 7, 8, 10, 11].map((n) => answeredBy(n)),
    ['local', 'local', 'local', 'backup', 'backup', 'announcement', 'announcement', 'local', 'local'],
    'SIPp: who answered each call',
  );
  t.ok(
    [3, 9].every((n) => results.get(n)?.logLines.some((l) => l.startsWith('cancelled 1'))),
    'SIPp: both abandoning callers hung up while it rang',
  );
  const sippWait = (n: number) => {
    const c = summarizeCaller(results.get(n) as SippResult).calls.get(1);
    return (c?.answeredAt ?? Number.NaN) - (c?.sentAt ?? Number.NaN);
  };

  const q = `from=${encodeURIComponent(new Date(T0).toISOString())}&to=${encodeURIComponent(new Date(T0 + 12 * B).toISOString())}`;
  interface Fig {
    availability: { buckets: number; up: number; down: number; unobserved: number; percent: number; targetMet: boolean };
    answer: {
      offered: number;
      served: number;
      unserved: number;
      excluded: number;
      answeredWithinLimit: number;
      sharePercent: number;
      longestWaitMs: number;
      longestWaitCallId: string;
      overMax: number;
      shareMet: boolean;
      maxMet: boolean;
    };
    backupMs: number;
  }
  const report = await waitFor(
    async () => {
      const r = await sup.as<{
        total: Fig;
        days: Fig[];
        lostTime: Array<{ from: number; to: number; state: string }>;
        unservedCalls: Array<{ why: string; arrivedAt: number }>;
      }>(tech, 'GET', `/api/evidence/report?${q}`);
      // Every call's outcome has been read from Kamailio's files.
      if (r.json.total.answer.offered + r.json.total.answer.excluded === 11 && r.json.total.answer.excluded === 1) return r;
      throw new Error(
        `the report so far: ${JSON.stringify(r.json.total.answer)}; unserved ${JSON.stringify(r.json.unservedCalls.map((c) => [(c.arrivedAt - T0) / B, c.why]))}`,
      );
    },
    { timeoutMs: 30_000, what: 'all 11 calls in the report' },
  );
  const tot = report.json.total;

  // Availability: 12 intervals, 7, 8 (announcement) and 9 (caller gave up) down.
  t.same(
    { buckets: tot.availability.buckets, up: tot.availability.up, down: tot.availability.down, unobserved: tot.availability.unobserved },
    { buckets: 12, up: 9, down: 3, unobserved: 0 },
    'availability intervals',
  );
  t.equal(tot.availability.percent, (9 / 12) * 100, 'availability 75 %');
  t.equal(tot.availability.targetMet, false, 'below the 99.7 % target');
  t.same(
    report.json.lostTime.map((l) => [(l.from - T0) / B, (l.to - T0) / B, l.state]),
    [[7, 10, 'down']],
    'the lost time is exactly intervals 7–9',
  );
  t.same(
    report.json.unservedCalls.map((c) => [Math.floor((c.arrivedAt - T0) / B), c.why]),
    [
      [7, 'announcement'],
      [8, 'announcement'],
      [9, 'abandoned'],
    ],
    'the unanswered calls',
  );

  // Answer times.
  t.same(
    {
      offered: tot.answer.offered,
      served: tot.answer.served,
      unserved: tot.answer.unserved,
      excluded: tot.answer.excluded,
      within: tot.answer.answeredWithinLimit,
      overMax: tot.answer.overMax,
    },
    { offered: 10, served: 7, unserved: 3, excluded: 1, within: 5, overMax: 1 },
    'answer-time counts',
  );
  t.equal(tot.answer.sharePercent, (5 / 10) * 100, '50 % answered within the limit');
  t.equal(tot.answer.shareMet, false);
  t.equal(tot.answer.maxMet, false, 'one caller waited over the max');
  // At least the scenario's 6 s (a busy machine only adds). Kamailio's wait lies inside the
  // caller's own: it sees the INVITE after the caller sent it and passes the 200 on before the
  // caller gets it (both are wall-clock stamps; 20 ms covers their resolution). How much
  // inside depends on the machine's load — beside CPU hogs the two hops took 280 ms — so
  // that is not asserted. That it is call 5's is checked by Call-ID in the call list below.
  t.ok(tot.answer.longestWaitMs >= 6000, `the longest wait is at least call 5's 6 s (${tot.answer.longestWaitMs} ms)`);
  t.ok(
    tot.answer.longestWaitMs <= sippWait(5) + 20,
    `Kamailio's wait for call 5 (${tot.answer.longestWaitMs} ms) lies within what the caller measured (${sippWait(5)} ms)`,
  );
  const days = report.json.days;
  t.equal(
    days.reduce((s, d) => s + d.availability.buckets, 0),
    12,
    'per-day rows add up',
  );
  t.equal(
    days.reduce((s, d) => s + d.answer.offered, 0),
    10,
  );

  // Time on backup: the failover window, from the recorded route decisions.
  t.ok(
    tot.backupMs >= localAsked - backupDone && tot.backupMs <= localDone - backupAsked,
    `time on backup ${tot.backupMs} ms lies within the failover window [${localAsked - backupDone}, ${localDone - backupAsked}]`,
  );

  // The same figures in the CSV and the printable page.
  const csv = await sup.as(tech, 'GET', `/api/evidence/report?${q}&format=csv`);
  const total = parseCsv(csv.text).find((r) => r.level === 'total');
  t.match(total, {
    availability_percent: '75.000',
    intervals: '12',
    intervals_up: '9',
    intervals_down: '3',
    intervals_not_observed: '0',
    offered_calls: '10',
    answered_within_limit: '5',
    answered_within_limit_percent: '50.000',
    calls_over_max_wait: '1',
    availability_met: 'no',
    max_wait_met: 'no',
  });
  t.equal(total?.longest_wait_call_id, tot.answer.longestWaitCallId);
  const html = await sup.as(tech, 'GET', `/api/evidence/report?${q}&format=html`);
  t.match(html.text, /<td class="n">75\.000<\/td>/, 'the printable page shows 75.000 %');
  t.match(html.text, /Definisjoner \/ Definitions/, "with the figures' definitions");
  t.match(html.text, /intervaller på 6 s/);

  // T22: every call carries its caller ID (the trunk's P-Asserted-Identity) and Call-ID.
  const calls = await sup.as(tech, 'GET', `/api/evidence/calls?${q}&format=csv`);
  const rows = parseCsv(calls.text);
  t.equal(rows.length, 11, 'all 11 calls in the call list');
  t.same(
    rows.map((r) => r.caller_id),
    placed.map((p) => p.caller),
    'caller IDs, in order of arrival',
  );
  t.same(
    rows.map((r) => r.answered_by),
    ['local', 'local', 'local', '', 'backup', 'backup', 'announcement', 'announcement', '', 'local', 'local'],
    'answered by, per call',
  );
  t.ok(
    rows.every((r) => /^1-\d+@127\.0\.0\.1$/.test(r.call_id ?? '')),
    'Call-IDs as SIPp sent them',
  );
  t.equal(tot.answer.longestWaitCallId, rows[5]?.call_id, "the longest wait is call 5's (the sixth call to arrive)");
  t.equal((await sup.as(await sup.login('sykepleier1', 'operator'), 'GET', `/api/evidence/calls?${q}`)).status, 403, 'caller IDs only for technicians');
});
