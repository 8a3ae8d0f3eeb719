/**
 * Acceptance 2 (issue #10): a deviation opened by a fault is acknowledged and
 * closed through the API; the export shows who and when. The supervisor runs
 * as its own process on the simulated box; the fault is a simulated WAN
 * outage that moves calls to the backup centre.
 */
import path from 'node:path';
import t from 'tap';
import { evidenceSchema } from '../../../supervisor/src/config/evidence.js';
import { runEvidenceCli } from '../../../supervisor/src/evidence/cli.js';
import { scratchDir, waitFor } from '../../helpers/util.js';
import { parseCsv, startEvidenceProcess, writeEvidenceConfig } from './harness.js';

interface Dev {
  id: number;
  kind: string;
  state: string;
  openedBy: string;
  titleEn: string;
  occurrences: number;
  ack: { at: number; by: string; comment: string | null } | null;
  closed: { at: number; by: string; comment: string } | null;
}

t.test('a fault opens a deviation; a technician acknowledges and closes it; the export shows who and when', async (t) => {
  const { dir, cleanup } = await scratchDir('evidence-dev');
  t.teardown(cleanup);
  const files = await writeEvidenceConfig({ dir, evidence: { timeZone: 'Europe/Oslo', heartbeatS: 1 } });
  const sup = await startEvidenceProcess(t, files);
  const tech = await sup.login('tekniker1', 'technician');
  const nurse = await sup.login('sykepleier1', 'operator');

  await waitFor(async () => (await sup.admin<{ mode: string }>('GET', '/api/status')).json.mode === 'normal', { timeoutMs: 30_000, what: 'normal mode' });
  t.equal((await sup.as<{ deviations: Dev[] }>(tech, 'GET', '/api/deviations')).json.deviations.length, 0, 'no deviation on a healthy box');

  const faultAt = Date.now();
  const f = await sup.admin('POST', '/api/sim/fault', { fault: 'wan-down' });
  t.equal(f.status, 200, 'fault injected');
  const open = await waitFor(
    async () => (await sup.as<{ deviations: Dev[] }>(tech, 'GET', '/api/deviations?state=open')).json.deviations.find((d) => d.kind === 'route.changed'),
    { timeoutMs: 30_000, what: 'a deviation for the failover' },
  );
  t.match(open, { state: 'open', openedBy: 'system', titleEn: /Calls now go to backup/ }, 'opened by the system with the alarm text');
  const detail = await sup.as<{ deviation: Dev; events: Array<{ kind: string; severity: string }> }>(tech, 'GET', `/api/deviations/${open.id}`);
  t.equal(detail.json.events[0]?.kind, 'route.changed', 'the alarm event is linked to the deviation');
  t.equal(detail.json.events[0]?.severity, 'alarm');

  // The nurse on duty may read the register but not sign it off.
  t.equal((await sup.as(nurse, 'GET', '/api/deviations')).status, 200, 'an operator can read');
  t.equal((await sup.as(nurse, 'POST', `/api/deviations/${open.id}/ack`, { comment: 'sett' })).status, 403, 'an operator cannot acknowledge');
  t.equal((await sup.as(nurse, 'POST', `/api/deviations/${open.id}/close`, { comment: 'ferdig' })).status, 403, 'an operator cannot close');

  const ackBefore = Date.now();
  const ack = await sup.as<{ deviation: Dev }>(tech, 'POST', `/api/deviations/${open.id}/ack`, { comment: 'Ser på WAN-linjene' });
  t.equal(ack.status, 200, ack.text);
  t.match(ack.json.deviation, { state: 'acknowledged', ack: { by: 'tekniker1', comment: 'Ser på WAN-linjene' } });
  t.ok((ack.json.deviation.ack?.at ?? 0) >= ackBefore && (ack.json.deviation.ack?.at ?? 0) <= Date.now(), 'acknowledged now');
  t.equal((await sup.as(tech, 'POST', `/api/deviations/${open.id}/ack`, {})).status, 409, 'acknowledged once');
  t.equal((await sup.as(tech, 'POST', `/api/deviations/${open.id}/close`, { comment: '' })).status, 400, 'closing needs a comment');

  const closeBefore = Date.now();
  const closed = await sup.as<{ deviation: Dev }>(tech, 'POST', `/api/deviations/${open.id}/close`, {
    comment: 'Fiberbrudd hos leverandør, reparert; ruting tilbake til lokal',
  });
  t.equal(closed.status, 200, closed.text);
  t.match(closed.json.deviation, { state: 'closed', closed: { by: 'tekniker1', comment: /Fiberbrudd/ }, ack: { by: 'tekniker1' } });
  const closedAt = closed.json.deviation.closed?.at ?? 0;
  t.ok(closedAt >= closeBefore && closedAt <= Date.now(), 'closed now');

  // The sign-offs are audited events too.
  const evs = await sup.admin<{ events: Array<{ kind: string; actor: string }> }>('GET', '/api/events?limit=200');
  t.ok(
    evs.json.events.some((e) => e.kind === 'deviation.closed' && e.actor === 'tekniker1'),
    'closing recorded as an event with the actor',
  );

  const csv = await sup.as(tech, 'GET', '/api/deviations/export?format=csv');
  t.equal(csv.status, 200);
  t.match(csv.headers.get('content-type') ?? '', /text\/csv/);
  const rows = parseCsv(csv.text);
  const row = rows.find((r) => r.id === String(open.id));
  t.ok(row, 'the deviation is in the CSV export');
  t.match(row, {
    kind: 'route.changed',
    opened_by: 'system',
    state: 'closed',
    acknowledged_by: 'tekniker1',
    acknowledge_comment: 'Ser på WAN-linjene',
    closed_by: 'tekniker1',
    close_comment: 'Fiberbrudd hos leverandør, reparert; ruting tilbake til lokal',
  });
  const local = (ms: number) => {
    const p = Object.fromEntries(
      new Intl.DateTimeFormat('en-US', {
        timeZone: 'Europe/Oslo',
        hourCycle: 'h23',
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
      })
        .formatToParts(ms)
        .map((x) => [x.type, x.value]),
    );
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
  };
  t.equal(row?.acknowledged_local, local(ack.json.deviation.ack?.at ?? 0), 'when it was acknowledged (local time)');
  t.equal(row?.closed_local, local(closedAt), 'when it was closed (local time)');
  t.ok((open as Dev & { openedAt: number }).openedAt >= faultAt - 1000, 'opened after the fault');

  const html = await sup.as(tech, 'GET', '/api/deviations/export?format=html');
  t.equal(html.status, 200);
  t.match(html.headers.get('content-type') ?? '', /text\/html/);
  t.match(html.text, /Avviksregister \/ Deviations register/);
  t.match(html.text, new RegExp(`${local(closedAt)}<br>tekniker1<br>«Fiberbrudd`), 'the printable export shows who closed it and when');
  t.match(html.text, /Ser på WAN-linjene/);

  // Only the box's own CLI may sign on behalf of a named person.
  const onBehalf = await sup.as(tech, 'POST', '/api/deviations', { title: 'Test', by: 'someone-else' });
  t.equal(onBehalf.status, 400, 'a logged-in user cannot sign as someone else');
  // `vaktpost deviations` reads the register straight from the store.
  let text = '';
  const cfg = { box: { name: 'evidence-test', dataDir: path.join(dir, 'data') }, evidence: evidenceSchema.parse({ timeZone: 'Europe/Oslo' }) };
  await runEvidenceCli('deviations', [], { state: 'closed' }, { cfg, api: async () => null, write: (s) => (text += s) });
  t.match(
    text,
    new RegExp(`#${open.id} .* route\\.changed .*\\n +closed ${local(closedAt)} by tekniker1: Fiberbrudd`),
    '`vaktpost deviations` shows who closed it and when',
  );
});
