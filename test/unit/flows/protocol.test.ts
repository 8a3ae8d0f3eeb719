import t from 'tap';
import { FLOWS_SESSION_COOKIE } from '../../../supervisor/src/api/flowsRoutes.js';
import { SESSION_COOKIE } from '../../../supervisor/src/api/server.js';
import { parseChildMessage } from '../../../supervisor/src/flows/protocol.js';

t.test('messages from the child are validated', async (t) => {
  const prop = { tab: 't', node: 'n', route: 'backup', en: 'x', nb: 'y', seq: 3, at: 1 };
  t.same(parseChildMessage({ t: 'settled', seq: 3, emitted: 1, proposals: [prop] }), { t: 'settled', seq: 3, emitted: 1, proposals: [prop] });
  t.equal(parseChildMessage({ t: 'settled', seq: 3, emitted: 1, proposals: [{ ...prop, route: 'sideways' }] }), null, 'unknown route');
  t.equal(parseChildMessage({ t: 'settled', seq: '3', emitted: 1, proposals: [] }), null);
  t.equal(parseChildMessage({ t: 'nope' }), null);
  t.equal(parseChildMessage(null), null);
  t.equal(parseChildMessage({ t: 'state', state: 'exploded' }), null);
  t.same(parseChildMessage({ t: 'state', state: 'stopped', error: 'missing-types', detail: '["x"]' }), {
    t: 'state',
    state: 'stopped',
    error: 'missing-types',
    detail: '["x"]',
  });
  const dev = parseChildMessage({ t: 'deviation', deviation: { severity: 'alarm', en: 'e'.repeat(900), nb: 'n', tab: 't', node: 'n', data: { a: 1 } } });
  t.equal(dev?.t === 'deviation' && dev.deviation.en.length, 500, 'long texts are cut');
  t.equal(parseChildMessage({ t: 'deviation', deviation: { severity: 'panic', en: 'e', nb: 'n', tab: 't', node: 'n' } }), null);
  t.same(parseChildMessage({ t: 'pong', n: 1, rssBytes: 5 }), { t: 'pong', n: 1, rssBytes: 5 });
});

t.test('the flows proxy reads the same session cookie as the API', async (t) => {
  t.equal(FLOWS_SESSION_COOKIE, SESSION_COOKIE);
});
