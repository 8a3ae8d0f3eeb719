/**
 * The child's settle logic without Node-RED: hooks are called the way Node-RED 4.1
 * calls them (preDeliver when a message is routed, postReceive when the handler
 * returned; Function-node results sent from a promise callback).
 */
import t from 'tap';
import { Bridge } from '../../../supervisor/src/flows/child/bridge.js';
import type { ChildToHost, EvalInput, SignalSubscriber } from '../../../supervisor/src/flows/protocol.js';

const input = (seq: number): EvalInput => ({
  seq,
  at: 1000 + seq,
  changed: ['wan.wan1.state'],
  statusChanged: ['wan.wan1.state'],
  initial: false,
  signals: {},
  health: {},
  floor: [],
  builtin: { route: 'local', mode: 'normal', reasons: [] },
  applied: { route: 'local', mode: 'normal', since: null },
});

const tick = () => new Promise((r) => setImmediate(r));

t.test('settles after the whole flow, including sends from a promise callback', async (t) => {
  const out: ChildToHost[] = [];
  const b = new Bridge((m) => out.push(m));
  b.flowsStarted([{ id: 'tab1', label: 'Tab' }]);
  // signal → function (async results) → route
  const sub: SignalSubscriber = {
    id: 'sig',
    z: 'tab1',
    deliver(inp) {
      const msg = { _msgid: `m${inp.seq}` };
      b.track(msg._msgid, inp.seq);
      b.onPreDeliver({ msg }); // to the function node
      setImmediate(() => {
        // function node handler runs, returns; its results go out in a microtask
        Promise.resolve().then(() => {
          b.onPreDeliver({ msg }); // same object on to the route node
          setImmediate(() => {
            b.propose({ tab: 'tab1', node: 'route', route: 'local', en: 'x', nb: 'x', seq: inp.seq, at: inp.at });
            b.onPostReceive({ msg });
          });
        });
        b.onPostReceive({ msg });
      });
      return true;
    },
  };
  b.subscribe(sub);
  b.evaluate(input(1));
  t.same(out, [], 'nothing before the flow ran');
  for (let i = 0; i < 6; i++) await tick();
  t.equal(out.length, 1);
  const m = out[0];
  t.equal(m?.t, 'settled');
  if (m?.t === 'settled') {
    t.equal(m.seq, 1);
    t.equal(m.emitted, 1);
    t.same(
      m.proposals.map((p) => [p.route, p.tabLabel]),
      [['local', 'Tab']],
      'the proposal of this evaluation is in the answer',
    );
  }
});

t.test('no subscriber interested: settles at once with the standing proposals', async (t) => {
  const out: ChildToHost[] = [];
  const b = new Bridge((m) => out.push(m));
  b.flowsStarted([]);
  b.propose({ tab: 'x', node: 'n', route: 'backup', en: 'e', nb: 'n', seq: null, at: 1 });
  t.equal(out[0]?.t, 'proposal', 'a proposal outside an evaluation goes out on its own');
  b.subscribe({ id: 's', z: 'x', deliver: () => false });
  b.evaluate(input(7));
  await tick();
  t.same(out[1], { t: 'settled', seq: 7, emitted: 0, proposals: [{ tab: 'x', node: 'n', route: 'backup', en: 'e', nb: 'n', seq: null, at: 1 }] });
  b.flowsStarted([]);
  b.evaluate(input(8));
  await tick();
  t.same(out[2], { t: 'settled', seq: 8, emitted: 0, proposals: [] }, 'a redeploy voids old proposals');
});

t.test('the first evaluation after a deploy reaches every signal node', async (t) => {
  const b = new Bridge(() => {});
  const firsts: boolean[] = [];
  b.subscribe({
    id: 's',
    z: 'x',
    deliver: (_i, first) => {
      firsts.push(first);
      return false;
    },
  });
  b.evaluate(input(1));
  b.evaluate(input(2));
  b.flowsStarted([]);
  b.evaluate(input(3));
  t.same(firsts, [true, false, true]);
  t.equal(b.current()?.initial, true, 'the input says so too');
});
