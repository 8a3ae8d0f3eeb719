import t from 'tap';
import { InterfaceInventory, interfaceCounters } from '../../../hardware/net/inventory.js';

t.test('counters for a real interface; none for a missing one', async (t) => {
  const lo = await interfaceCounters('lo');
  t.ok(lo, 'lo exists');
  t.equal(lo?.iface, 'lo');
  t.ok((lo?.rxBytes ?? -1) >= 0 && (lo?.txBytes ?? -1) >= 0);
  t.equal(await interfaceCounters('vpnope0'), undefined, 'missing interface: undefined, not zeros');
  t.equal(await interfaceCounters('../etc'), undefined, 'not an interface name');
});

t.test('inventory lists lo and is cached (the blocking call runs once)', async (t) => {
  const inv = new InterfaceInventory(60_000);
  const first = await inv.interfaces();
  t.ok(first.some((i) => i.iface === 'lo'));
  const again = await inv.interfaces();
  t.equal(again, first, 'second call served from cache: the very same array, not a new read');
});
