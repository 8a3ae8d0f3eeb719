/**
 * Centres given by host name while DNS goes silent (the netns test-bed with its own
 * DNS server in the core, test/helpers/netns/dnsResponder.ts).
 *
 * Before: every probe resolved its name again, so a silent DNS server made both
 * centres "unreachable on every path" within seconds — a safety-floor failover whose
 * reason blamed the centres. Now names are resolved apart from the probes, the last
 * good addresses stay in use, and DNS trouble is only `centres.dns` (warn).
 *
 * Every signal the monitors emit is also folded by the real core (SignalTable +
 * evaluateHealth), so the test checks what the supervisor would conclude: no
 * centres failure, no safety floor. Figures are printed, not asserted.
 */
import t from 'tap';
import type { WanConfigInput } from '../../../supervisor/src/config/wan.js';
import { evaluateHealth } from '../../../supervisor/src/core/health.js';
import { SignalTable } from '../../../supervisor/src/core/signalTable.js';
import type { TimedSignal } from '../../helpers/netns/monitorProcess.js';
import { ADDR, CENTRES, DNS, LINKS, Testbed } from '../../helpers/netns/testbed.js';

const WAIT_MS = 60_000;
const SILENT_MS = 60_000;

t.test('DNS silent for 60 s: probes keep going to the cached addresses, only centres.dns warns; it clears when DNS returns', async (t) => {
  const bed = await Testbed.create();
  t.teardown(() => bed.teardown());
  const dns = await bed.startDns({ ttlS: 1 });
  const base = bed.wanConfig();
  const sipEnd = (c: (typeof CENTRES)[number]) => ({ endpoints: [{ host: DNS.names[c], port: ADDR.sipPort }] });
  const cfg: WanConfigInput = {
    ...base,
    centres: { local: sipEnd('local'), backup: sipEnd('backup'), trunk: { ...sipEnd('trunk'), intervalMs: 200 } },
    // A 1 s TTL honoured as such, quick retries: the outage is seen within a few seconds.
    dns: { minTtlMs: 1000, retryMs: 1000, maxRetryMs: 2000, timeoutMs: 500, tries: 1 },
  };
  const mon = await bed.startMonitor(cfg, { centres: true });

  // The core's view of the same signals.
  const table = new SignalTable();
  const verdicts: { t: number; floor: string[]; centres: string }[] = [];
  const fold = (ts: TimedSignal) => {
    table.apply(ts.signal, ts.t);
    const h = evaluateHealth(table.effective(ts.t), ts.t);
    verdicts.push({ t: ts.t, floor: h.floor.map((r) => r.code), centres: h.subsystems.centres.status });
  };
  for (const s of mon.signals) fold(s);
  mon.proc.on('signal', fold);

  const pathKeys = CENTRES.flatMap((c) => LINKS.map((l) => `centres.${c}.${l}`));
  await mon.waitStatus('centres.dns', 'ok', { timeoutMs: WAIT_MS });
  for (const k of pathKeys) await mon.waitStatus(k, 'ok', { timeoutMs: WAIT_MS });
  t.match(mon.latest('centres.dns')?.detail, /local\.centre\.test → 198\.51\.100\.10 \(DNS, TTL 1 s\)/, 'resolved from DNS with its TTL');
  t.match(mon.latest('centres.local.wan1')?.detail, /\[local\.centre\.test = 198\.51\.100\.10\]/, 'OPTIONS go to the resolved address');

  const silentAt = Date.now();
  const queriesBefore = dns.queries().length;
  await dns.silent();
  const warn = await mon.waitStatus('centres.dns', 'warn', { timeoutMs: WAIT_MS, since: silentAt });
  t.comment(`DNS silent → centres.dns warn after ${warn.t - silentAt} ms: ${warn.signal.detail}`);
  t.match(warn.signal.detail, /not a centre fault/);
  t.match(warn.signal.detail, /still probing the last good address 198\.51\.100\.10/);
  t.equal(warn.signal.subsystem, 'centres');

  // Hold the silence for 60 s (a scenario length, not a budget): wait for the heartbeat
  // that arrives after it, then look back over everything emitted in between.
  await mon.waitFor((s) => s.key === 'centres.dns', {
    timeoutMs: SILENT_MS + WAIT_MS,
    since: silentAt + SILENT_MS,
    what: 'a centres.dns report after 60 s of silence',
  });
  const answerAt = Date.now();
  const during = mon.signals.filter((s) => s.t >= silentAt && s.t < answerAt);
  const unanswered = dns
    .queries()
    .slice(queriesBefore)
    .filter((q) => !q.answered).length;
  t.comment(`${((answerAt - silentAt) / 1000).toFixed(0)} s of silence: ${unanswered} queries went unanswered, ${during.length} signals emitted`);
  t.ok(unanswered > 0, 'the cache kept trying DNS during the silence');
  t.same(
    during.filter((s) => pathKeys.includes(s.signal.key) && s.signal.status !== 'ok').map((s) => `${s.signal.key}=${s.signal.status}`),
    [],
    'no centre path ever left ok: the probes kept reaching the cached addresses',
  );
  for (const k of pathKeys) {
    const fresh = during.filter((s) => s.signal.key === k && s.t >= answerAt - 5000);
    t.ok(
      fresh.length > 0 && /= \d+\.\d+\.\d+\.\d+\]/.test(fresh.at(-1)?.signal.detail ?? ''),
      `${k} still reported ok from answered OPTIONS at the end of the silence`,
    );
  }
  t.same(
    // From the warn on, by arrival order: a report that left before it can carry the same ms.
    mon.signals
      .slice(mon.signals.indexOf(warn))
      .filter((s) => s.signal.key === 'centres.dns' && s.t < answerAt)
      .map((s) => s.signal.status)
      .filter((x, i, a) => a.indexOf(x) === i),
    ['warn'],
    'centres.dns held warn from the first failed resolution on (never fail)',
  );
  const bad = verdicts.filter((v) => v.t >= silentAt && v.t < answerAt && (v.floor.length > 0 || v.centres === 'fail'));
  t.same(bad, [], 'the core never saw a centres failure or a safety floor: no reason to move calls');
  t.ok(
    verdicts.some((v) => v.t >= warn.t && v.centres === 'warn'),
    'the core sees the DNS trouble as a centres warning',
  );

  await dns.answer();
  const back = await mon.waitStatus('centres.dns', 'ok', { timeoutMs: WAIT_MS, since: answerAt });
  t.comment(`DNS answering again → centres.dns ok after ${back.t - answerAt} ms`);
  for (const k of pathKeys) t.equal(mon.latest(k)?.status, 'ok', `${k} ok`);
});

t.test('a name that never resolved is not probed: its paths stay unknown (not fail) while DNS is silent', async (t) => {
  const bed = await Testbed.create();
  t.teardown(() => bed.teardown());
  const dns = await bed.startDns({ ttlS: 1 });
  await dns.silent();
  const base = bed.wanConfig();
  const cfg: WanConfigInput = {
    ...base,
    centres: {
      local: { endpoints: [{ host: DNS.names.local, port: ADDR.sipPort }] },
      backup: { endpoints: [{ host: ADDR.backup.host, port: ADDR.sipPort }] },
    },
    dns: { minTtlMs: 1000, retryMs: 1000, maxRetryMs: 2000, timeoutMs: 500, tries: 1 },
  };
  const since = Date.now();
  const mon = await bed.startMonitor(cfg, { centres: true });
  const warn = await mon.waitStatus('centres.dns', 'warn', { timeoutMs: WAIT_MS, since });
  t.match(warn.signal.detail, /local\.centre\.test: no address yet — the DNS server did not answer/);
  // Long enough for failAfter (6 × 500 ms) misses several times over: wait for the backup to be ok and 5 s more of reports.
  for (const l of LINKS) await mon.waitStatus(`centres.backup.${l}`, 'ok', { timeoutMs: WAIT_MS, since });
  const from = Date.now();
  await mon.waitFor((s) => s.key === 'centres.local.wan1', { timeoutMs: WAIT_MS, since: from + 5000, what: 'later local path reports' });
  for (const l of LINKS) {
    const st = mon.history(`centres.local.${l}`, since).map((s) => s.signal.status);
    t.notOk(st.includes('fail'), `centres.local.${l} never fail`);
    t.equal(st.at(-1), 'unknown', `centres.local.${l} unknown`);
  }
  t.match(mon.latest('centres.local.wan1')?.detail, /not probed: no address for local\.centre\.test/);
  await dns.answer();
  for (const l of LINKS) await mon.waitStatus(`centres.local.${l}`, 'ok', { timeoutMs: WAIT_MS, since: Date.now() });
  t.pass('probed and ok once the name resolves');
});
