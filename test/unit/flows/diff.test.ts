import t from 'tap';
import { diffFlows, flowsSha256, normalizeFlows } from '../../../supervisor/src/flows/diff.js';

t.test('normalizeFlows accepts v1 and v2 bodies and drops credentials', async (t) => {
  const nodes = [
    { id: 't1', type: 'tab', label: 'A' },
    { id: 'n1', type: 'mqtt-broker', z: 't1', credentials: { user: 'u', password: 'secret' } },
  ];
  const v1 = normalizeFlows(nodes);
  const v2 = normalizeFlows({ flows: nodes, rev: 'abc' });
  t.same(v1, v2);
  t.notOk('credentials' in (v1[1] as object), 'credentials never reach the store');
  t.throws(() => normalizeFlows({ nodes: [] }), /expected a flow configuration/);
  t.throws(() => normalizeFlows([{ type: 'x' }]), /node 0 has no string "id"/);
  t.throws(
    () =>
      normalizeFlows([
        { id: 'a', type: 'x' },
        { id: 'a', type: 'y' },
      ]),
    /appears twice/,
  );
  t.throws(() => normalizeFlows([{ id: 'a' }]), /no string "type"/);
});

t.test('the hash ignores the order of nodes and keys', async (t) => {
  const a = normalizeFlows([
    { id: 'a', type: 'x', p: 1, q: [1, 2] },
    { id: 'b', type: 'y' },
  ]);
  const b = normalizeFlows([
    { type: 'y', id: 'b' },
    { q: [1, 2], type: 'x', id: 'a', p: 1 },
  ]);
  t.equal(flowsSha256(a), flowsSha256(b));
  t.not(
    flowsSha256(a),
    flowsSha256(
      normalizeFlows([
        { id: 'a', type: 'x', p: 2, q: [1, 2] },
        { id: 'b', type: 'y' },
      ]),
    ),
  );
});

t.test('diff: added, removed, changed with properties and tab names', async (t) => {
  const before = normalizeFlows([
    { id: 't1', type: 'tab', label: 'Analog' },
    { id: 'f', type: 'function', z: 't1', name: 'rule', func: 'return msg;', x: 10 },
    { id: 'old', type: 'debug', z: 't1' },
  ]);
  const after = normalizeFlows([
    { id: 't1', type: 'tab', label: 'Analog' },
    { id: 'f', type: 'function', z: 't1', name: 'rule', func: 'return null;', x: 20 },
    { id: 'new', type: 'vaktpost route', z: 't1', name: 'lokal' },
  ]);
  const d = diffFlows(before, after);
  t.same(d.added, [{ id: 'new', type: 'vaktpost route', name: 'lokal', tab: 'Analog' }]);
  t.same(d.removed, [{ id: 'old', type: 'debug', tab: 'Analog' }]);
  t.same(d.changed, [{ id: 'f', type: 'function', name: 'rule', tab: 'Analog', properties: ['func', 'x'] }]);
  t.equal(d.summary, '+1 −1 ~1 nodes');
  t.equal(diffFlows(after, after).summary, '+0 −0 ~0 nodes');
});
