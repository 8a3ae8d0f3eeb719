import t from 'tap';
// flows/ is CommonJS (Node-RED requires node files): import its module object.
import match from '../../../flows/src/match.js';

const { compileFilter } = match;

t.test('signal filters', async (t) => {
  const all = compileFilter('');
  t.ok(all('anything.at.all'));
  const f = compileFilter('wan.*.state, health.recording  floor');
  t.ok(f('wan.wan1.state'));
  t.ok(f('wan.site.state'));
  t.notOk(f('wan.wan1.rtt'));
  t.ok(f('health.recording'));
  t.notOk(f('health.recordings'), 'anchored at both ends');
  t.ok(f('floor'));
  t.notOk(compileFilter('a.b')('aXb'), 'dots are literal');
  t.ok(compileFilter('power.*')('power.ups1.mains'));
});
