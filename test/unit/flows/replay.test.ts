import t from 'tap';
import { defaultHealthRules } from '../../../supervisor/src/core/health.js';
import type { PolicyConfig } from '../../../supervisor/src/core/policy.js';
import type { EvalInput, TabProposal } from '../../../supervisor/src/flows/protocol.js';
import { diffTimelines, replay, SampleCompressor, type TimelinePoint } from '../../../supervisor/src/flows/replay.js';
import type { SampleRow } from '../../../supervisor/src/store/flowsStore.js';

const MIN = 60_000;
const T0 = 1_700_000_000_000;
let id = 0;
const row = (key: string, at: number, status: string, value: unknown): SampleRow => ({
  id: ++id,
  key,
  subsystem: key.split('.')[0] as string,
  source: 'rec',
  status,
  value,
  unit: null,
  at,
  detail: null,
});

t.test('SampleCompressor keeps changes and stretches ttl over unchanged re-samples', async (t) => {
  const c = new SampleCompressor(35_000);
  for (let k = 0; k < 6; k++) c.push(row('wan.wan1.state', T0 + k * 10_000, 'ok', 'up'));
  c.push(row('wan.wan1.state', T0 + 60_000, 'fail', 'down'));
  // A 2-minute gap in the recording: the signal must go stale, then come back.
  c.push(row('wan.wan1.state', T0 + 180_000, 'fail', 'down'));
  c.push(row('bogus.key', T0, 'ok', 1));
  c.push(row('wan.wan2.state', T0, 'weird', 1));
  t.equal(c.samples, 10);
  t.equal(c.skipped, 2, 'unknown subsystem and unknown status skipped');
  t.same(
    c.events.map((e) => [e.observedAt - T0, e.status, e.ttlMs]),
    [
      [0, 'ok', 50_000 + 35_000],
      [60_000, 'fail', 35_000],
      [180_000, 'fail', 35_000],
    ],
  );
});

t.test('diffTimelines lists the intervals with different routes, merged', async (t) => {
  const p = (at: number, route: 'local' | 'backup', by = 'x'): TimelinePoint => ({
    at,
    route,
    mode: route === 'local' ? 'normal' : 'failover',
    decidedBy: by,
    reason: null,
  });
  const cand = [p(0, 'local'), p(10, 'backup'), p(20, 'backup', 'y'), p(30, 'local'), p(50, 'backup')];
  const cur = [p(0, 'local'), p(25, 'backup'), p(30, 'local')];
  const d = diffTimelines(cand, cur, 0, 60);
  t.same(
    d.map((x) => [x.from, x.to, x.candidate.route, x.current.route]),
    [
      [10, 25, 'backup', 'local'],
      [50, 60, 'backup', 'local'],
    ],
  );
  t.same(diffTimelines(cur, cur, 0, 60), []);
});

/** The route changes of a timeline (mode-only changes dropped). */
const routes = (tl: readonly TimelinePoint[]) => tl.filter((x, i) => i === 0 || x.route !== (tl[i - 1] as TimelinePoint).route);

const policy: PolicyConfig = { monitored: ['wan', 'centres'], failoverOn: ['wan', 'centres'], failbackHoldMs: 2 * MIN, holdDownMs: 0 };

function day(): SampleRow[] {
  const rows: SampleRow[] = [];
  for (let at = T0; at < T0 + 60 * MIN; at += MIN) {
    const down = at >= T0 + 10 * MIN && at < T0 + 20 * MIN;
    rows.push(row('wan.wan1.state', at, down ? 'fail' : 'ok', down ? 'down' : 'up'));
    rows.push(row('wan.wan2.state', at, 'ok', 'up'));
    rows.push(row('centres.local.lan', at, 'ok', true));
  }
  return rows;
}

t.test('replay with the built-in policy alone and with a flow answering in-process', async (t) => {
  const c = new SampleCompressor(90_000);
  for (const r of day()) c.push(r);
  const common = { events: c.events, from: T0, to: T0 + 60 * MIN, tickMs: MIN, policy, rules: defaultHealthRules };
  const builtin = await replay({ ...common, flows: null, label: 'builtin' });
  t.same(
    routes(builtin.timeline).map((x) => x.route),
    ['local'],
    'one WAN link down is not a reason for the built-in policy',
  );
  const seen: EvalInput[] = [];
  const anyWan = {
    async answer(input: EvalInput): Promise<TabProposal[]> {
      seen.push(input);
      const down = input.signals['wan.wan1.state']?.status === 'fail';
      return [{ tab: 't', node: 'n', route: down ? 'backup' : 'builtin', en: 'x', nb: 'x', seq: input.seq, at: input.at }];
    },
  };
  const flow = await replay({ ...common, flows: anyWan, label: 'flows:candidate' });
  t.same(
    routes(flow.timeline).map((x) => [x.at - T0, x.route, x.decidedBy]),
    [
      [0, 'local', 'builtin'],
      [10 * MIN, 'backup', 'flows:candidate'],
      [20 * MIN, 'local', 'builtin'],
    ],
  );
  t.ok(
    seen.every((s, i) => i === 0 || s.at > (seen[i - 1] as EvalInput).at),
    'replayed time moves forward',
  );
  const d = diffTimelines(flow.timeline, builtin.timeline, T0, T0 + 60 * MIN);
  t.equal(d.length, 1);
  t.equal(d[0]?.durationMs, 10 * MIN);

  const silent = { answer: async () => null };
  const stuck = await replay({ ...common, flows: silent, label: 'flows:x', maxConsecutiveMisses: 3 });
  t.equal(stuck.missedAnswers, 3, 'stops asking a flow that does not answer');
  t.equal(stuck.gaveUpAt, T0 + 2 * MIN);
  t.same(
    routes(stuck.timeline).map((x) => x.route),
    ['local'],
    'the built-in policy decided instead',
  );
  await t.rejects(
    replay({
      ...common,
      flows: null,
      label: 'b',
      checkDeadline: () => {
        throw new Error('too slow');
      },
    }),
    /too slow/,
  );
});
