/**
 * Acceptance (issue #15, DNS edge at supervisor level): the real supervisor process
 * (`vaktpost run`) runs in the test-bed's box namespace with its centres given by
 * host name, resolved through the test-bed's DNS server. DNS goes silent for 60 s:
 * the supervisor keeps probing the last good addresses, only `centres.dns` warns,
 * calls never move, and nothing about the centres raises an alarm. The route is
 * read from the supervisor's store (decisions), the alarms from its events.
 */
import t from 'tap';
import type { WanConfigInput } from '../../../supervisor/src/config/wan.js';
import { ADDR, type CENTRES, DNS, Testbed } from '../../helpers/netns/testbed.js';
import { scratchDir, waitFor } from '../../helpers/util.js';
import { startNsSupervisor } from './nsSupervisor.js';

/** Awaited states: generous, for a busy 2-core machine (longer = "never", not "slow"). */
const WAIT_MS = 90_000;
/** The scenario's length: DNS stays silent this long (a fixed wait is the point here). */
const SILENT_MS = 60_000;
const PORT = 18080;

t.test('supervisor: DNS silent for 60 s with centres given by name — no route change, no centres alarm, centres.dns back to ok', async (t) => {
  const bed = await Testbed.create();
  t.teardown(() => bed.teardown());
  // Before the supervisor starts: the box's resolver config is bound at process start.
  const dns = await bed.startDns({ ttlS: 1 });
  const { dir, cleanup } = await scratchDir('wan-dns-sup');
  t.teardown(cleanup);
  const sipEnd = (c: (typeof CENTRES)[number]) => ({ endpoints: [{ host: DNS.names[c], port: ADDR.sipPort }] });
  const wan: WanConfigInput = {
    ...bed.wanConfig(),
    centres: { local: sipEnd('local'), backup: sipEnd('backup'), trunk: { ...sipEnd('trunk'), intervalMs: 200 } },
    // A 1 s TTL honoured as such, quick retries: the outage is seen within a few seconds.
    dns: { minTtlMs: 1000, retryMs: 1000, maxRetryMs: 2000, timeoutMs: 500, tries: 1 },
  };
  const { status, signal, waitStatus, db } = await startNsSupervisor(t, bed, { dir, port: PORT, wan: wan, waitMs: WAIT_MS });
  const lastDecision = () =>
    db.prepare('SELECT id, route, mode, reasons_json FROM decisions ORDER BY id DESC LIMIT 1').get() as
      | { id: number; route: string; mode: string; reasons_json: string }
      | undefined;

  const ready = await waitStatus(
    'route local, centres ok and centres.dns ok',
    (s) => s.route === 'local' && s.health.centres?.status === 'ok' && signal(s, 'centres.dns')?.status === 'ok',
  );
  t.match(signal(ready, 'centres.dns')?.detail, /local\.centre\.test → 198\.51\.100\.10/, 'the centres were resolved from DNS');
  await waitFor(() => lastDecision()?.route === 'local', { timeoutMs: WAIT_MS, intervalMs: 100, what: 'a stored decision for local' });
  t.equal(lastDecision()?.route, 'local', 'the store says local');

  const silentAt = Date.now();
  await dns.silent();
  const warn = await waitStatus('centres.dns warn in /api/status', (s) => signal(s, 'centres.dns')?.status === 'warn');
  t.comment(`DNS silent → centres.dns warn in the status after ${Date.now() - silentAt} ms: ${signal(warn, 'centres.dns')?.detail}`);
  t.match(signal(warn, 'centres.dns')?.detail, /not a centre fault/);
  t.not(warn.health.centres?.status, 'fail', 'centres not failed while DNS is silent');

  // Keep DNS silent for the rest of the 60 s (measured from silencing), looking at the status meanwhile.
  const seen: string[] = [];
  while (Date.now() - silentAt < SILENT_MS) {
    const s = await status().catch(() => null);
    if (s) {
      const line = `route ${s.route}, centres ${s.health.centres?.status}, centres.dns ${signal(s, 'centres.dns')?.status}, floor [${s.floor.map((r) => r.code).join(',')}]`;
      if (seen.at(-1) !== line) seen.push(line);
    }
    await new Promise((r) => setTimeout(r, Math.min(2000, Math.max(0, SILENT_MS - (Date.now() - silentAt)))));
  }
  for (const l of seen) t.comment(`during the silence: ${l}`);
  const unanswered = dns.queries().filter((q) => !q.answered).length;
  t.ok(unanswered > 0, `the supervisor kept asking DNS during the silence (${unanswered} unanswered queries)`);

  const answerAt = Date.now();
  await dns.answer();
  const back = await waitStatus('centres.dns ok again', (s) => signal(s, 'centres.dns')?.status === 'ok');
  t.comment(`DNS answering again → centres.dns ok in the status after ${Date.now() - answerAt} ms`);
  t.equal(signal(back, 'centres.dns')?.status, 'ok', 'centres.dns went back to ok');
  t.equal(back.route, 'local', 'still on local');

  const changes = db.prepare('SELECT id, route, previous_route, reasons_json FROM decisions WHERE route_changed = 1').all();
  t.same(changes, [], 'the store has no route change: calls never moved');
  t.equal(lastDecision()?.route, 'local', 'the last stored decision is local');
  const alarms = db.prepare(`SELECT kind, severity, subsystem, message_en FROM events WHERE severity = 'alarm' AND subsystem = 'centres'`).all();
  t.same(alarms, [], 'the store has no centres alarm');
  const centreEvents = db.prepare(`SELECT kind, severity, message_en FROM events WHERE subsystem = 'centres' AND at >= ? ORDER BY id`).all(silentAt) as Array<{
    kind: string;
    severity: string;
    message_en: string;
  }>;
  for (const e of centreEvents) t.comment(`event ${e.severity} ${e.kind}: ${e.message_en}`);
});
