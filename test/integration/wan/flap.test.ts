/**
 * A link flapping every 3 s for 1 minute in `make test`, 2 minutes in `make chaos`
 * (VAKTPOST_CHAOS=long) (carrier down 1 s, up 2 s, on the ISP side of the netns
 * test-bed). Before flap damping, 2 minutes gave 40 state transitions and 160 warning
 * events. Now the link is reported as one `flapping` state after its second quick
 * outage, and normally again once its penalty decays (core/linkState.ts).
 * The bound is on the number of state changes; timings are printed, not asserted.
 */
import t from 'tap';
import type { TimedSignal } from '../../helpers/netns/monitorProcess.js';
import { Testbed } from '../../helpers/netns/testbed.js';

const LONG = process.env.VAKTPOST_CHAOS === 'long';
const FLAP_MS = LONG ? 120_000 : 60_000;
const FLAP_TEXT = LONG ? '2 minutes' : '1 minute';
const DOWN_MS = 1000;
const UP_MS = 2000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The values a key went through (consecutive duplicates removed). */
function changes(list: TimedSignal[], pick: (s: TimedSignal) => string): string[] {
  const out: string[] = [];
  for (const s of list) if (out.at(-1) !== pick(s)) out.push(pick(s));
  return out;
}

t.test(`a link flapping every 3 s for ${FLAP_TEXT}: a bounded number of state changes, then trusted again`, async (t) => {
  const bed = await Testbed.create({ sip: false });
  t.teardown(() => bed.teardown());
  const mon = await bed.startMonitor(bed.wanConfig());
  await mon.waitStatus('wan.wan1.state', 'ok', { timeoutMs: 60_000 });
  await mon.waitStatus('wan.wan2.state', 'ok', { timeoutMs: 60_000 });

  const start = Date.now();
  let edges = 0;
  while (Date.now() - start < FLAP_MS) {
    await bed.carrierLoss('wan1');
    edges++;
    await sleep(DOWN_MS);
    await bed.restore('wan1');
    await sleep(UP_MS);
  }
  const end = Date.now();
  // From the last report before the first flap (the baseline) to the end of the flapping.
  const during = (key: string) => [
    ...mon
      .history(key)
      .filter((s) => s.t < start)
      .slice(-1),
    ...mon.history(key, start).filter((s) => s.t <= end),
  ];

  const state = changes(during('wan.wan1.state'), (s) => String(s.signal.value));
  const stateStatus = changes(during('wan.wan1.state'), (s) => s.signal.status);
  const link = changes(during('wan.wan1.link'), (s) => s.signal.status);
  const loss = changes(during('wan.wan1.loss'), (s) => s.signal.status);
  const site = changes(during('wan.site.state'), (s) => s.signal.status);
  t.comment(`${edges} carrier drops in ${((end - start) / 1000).toFixed(0)} s`);
  t.comment(`wan.wan1.state: ${state.join(' → ')} (${state.length - 1} changes)`);
  t.comment(`wan.wan1.link status: ${link.join(' → ')}; loss status: ${loss.join(' → ')}; site: ${site.join(' → ')}`);

  t.ok(edges >= Math.floor((FLAP_MS / (DOWN_MS + UP_MS)) * 0.75), `the link really flapped (${edges} drops)`);
  t.ok(state.includes('flapping'), 'reported as flapping');
  t.ok(state.length - 1 <= 4, `≤ 4 state changes over the flap period (${state.length - 1})`);
  t.ok(stateStatus.length - 1 <= 4, `≤ 4 state status changes (${stateStatus.length - 1})`);
  t.ok(link.length - 1 <= 4, `≤ 4 link status changes (${link.length - 1})`);
  t.ok(loss.length - 1 <= 6, `loss status changes bounded too (${loss.length - 1})`);
  t.same(site, ['ok'], 'the site never lost its WAN (wan2 was fine)');
  t.equal(state[0], 'ok', 'the baseline before the flapping');
  t.equal(during('wan.wan1.state').at(-1)?.signal.status, 'fail', 'a flapping link is not trusted (fail) even in its up moments');

  const ok = await mon.waitStatus('wan.wan1.state', 'ok', { timeoutMs: 180_000, since: end });
  t.comment(`trusted again ${((ok.t - end) / 1000).toFixed(1)} s after the last flap (max-suppress 60 s after the last outage)`);
  const all = changes(
    mon.history('wan.wan1.state').filter((s) => s.t <= ok.t && s.t >= (during('wan.wan1.state')[0]?.t ?? start)),
    (s) => String(s.signal.value),
  );
  t.ok(all.length - 1 <= 4, `≤ 4 state changes from the first flap until trusted again: ${all.join(' → ')}`);
});
