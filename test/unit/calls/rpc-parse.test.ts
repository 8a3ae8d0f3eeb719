/** Parsing Kamailio's dispatcher.list answer (shape measured from Kamailio 5.6.3). */
import t from 'tap';
import { KamailioRpcError, parseDispatcherList, parseMainPid } from '../../../hardware/kamailio/rpc.js';

const sample = {
  NRSETS: 2,
  RECORDS: [
    { SET: { ID: 2, TARGETS: [{ DEST: { URI: 'sip:announce@127.0.0.1:15063', FLAGS: 'IP', PRIORITY: 100, ATTRS: { BODY: 'route=announcement' } } }] } },
    {
      SET: {
        ID: 1,
        TARGETS: [
          { DEST: { URI: 'sip:local@127.0.0.1:15061', FLAGS: 'DX', PRIORITY: 200, ATTRS: { BODY: 'route=local' } } },
          { DEST: { URI: 'sip:backup@127.0.0.1:15062', FLAGS: 'AP', PRIORITY: 100 } },
        ],
      },
    },
  ],
};

t.test('dispatcher.list → destinations', async (t) => {
  const d = parseDispatcherList(sample);
  t.equal(d.length, 3);
  t.same(d[1], { set: 1, uri: 'sip:local@127.0.0.1:15061', flags: 'DX', state: 'disabled', probing: false, priority: 200, attrs: { route: 'local' } });
  t.equal(d[0]?.state, 'inactive');
  t.equal(d[0]?.probing, true);
  t.same(d[2]?.attrs, {});
  t.same(parseDispatcherList({ NRSETS: 0 }), [], 'no RECORDS = no destinations');
});

t.test('unexpected shapes are protocol errors, not silent empties', async (t) => {
  t.throws(() => parseDispatcherList(null), KamailioRpcError);
  t.throws(() => parseDispatcherList({ RECORDS: 'x' }), /RECORDS/);
  t.throws(() => parseDispatcherList({ RECORDS: [{ SET: { ID: 1, TARGETS: [{ DEST: { URI: 'sip:x', FLAGS: 'ZP' } }] } }] }), /state letter/);
});

t.test('core.ps → main PID', async (t) => {
  t.equal(parseMainPid([15683, 'main process - attendant', 15685, 'udp receiver child=0 sock=127.0.0.1:15060']), 15683);
  t.throws(() => parseMainPid([1, 'timer']), /no "main process"/);
  t.throws(() => parseMainPid({}), KamailioRpcError);
});
