/**
 * KamailioActuator's logic against an in-memory dispatcher (the real Kamailio
 * is exercised in test/integration/calls): what it sends, what it reads back,
 * drift, restarts, and what verify() demands.
 */
import t from 'tap';
import type { DispatcherDestination, DispatcherSetStateFlags } from '../../../hardware/kamailio/rpc.js';
import { commandedRoute, firstChoice, KamailioActuator, type KamailioControl } from '../../../supervisor/src/reconcilers/kamailio/kamailioActuator.js';

const LOCAL = 'sip:local@10.0.0.10:5060';
const BACKUP = 'sip:backup@10.1.0.10:5060';
const ANN = 'sip:announcement@127.0.0.1:5090';
const centres = { local: [LOCAL], backup: [BACKUP] };

function dest(set: number, uri: string, flags: string, priority: number): DispatcherDestination {
  const state = ({ A: 'active', I: 'inactive', T: 'trying', D: 'disabled' } as const)[flags[0] as 'A'];
  return { set, uri, flags, state, probing: flags.includes('P'), priority, attrs: {} };
}

/** A dispatcher that behaves like Kamailio's for set_state/list/uptime. */
class FakeKamailio implements KamailioControl {
  dests = [dest(1, LOCAL, 'AP', 200), dest(1, BACKUP, 'AP', 100), dest(2, ANN, 'AP', 100)];
  calls: string[] = [];
  upSince = 'Sun Nov 22 01:00:00 2026';
  uptimeS = 100;
  mainPid = 4242;
  failSetState = false;
  async coreMainPid() {
    return this.mainPid;
  }
  async coreUptime() {
    return { uptimeS: this.uptimeS, upSince: this.upSince, now: '' };
  }
  async dispatcherList() {
    return this.dests.map((d) => ({ ...d }));
  }
  async dispatcherSetState(flags: DispatcherSetStateFlags, set: number, uri: string) {
    this.calls.push(`${flags} ${set} ${uri}`);
    if (this.failSetState) return; // answers ok but changes nothing (the read-back must catch it)
    const d = this.dests.find((x) => x.set === set && x.uri === uri);
    if (!d) throw new Error('State Update Failed');
    const letter = flags[0]?.toUpperCase() as string;
    const next = dest(set, uri, `${letter}${flags.includes('p') ? 'P' : 'X'}`, d.priority);
    Object.assign(d, next);
  }
  restart() {
    this.dests = [dest(1, LOCAL, 'AP', 200), dest(1, BACKUP, 'AP', 100), dest(2, ANN, 'AP', 100)];
    this.upSince = 'Sun Nov 22 02:00:00 2026';
    this.uptimeS = 0;
    this.mainPid = 5151;
  }
}

t.test('commandedRoute and firstChoice read the dispatcher like Kamailio would route', async (t) => {
  const all = (l: string, b: string) => [dest(1, LOCAL, l, 200), dest(1, BACKUP, b, 100), dest(2, ANN, 'AP', 100)];
  t.equal(commandedRoute(all('AP', 'AP'), centres), 'local');
  t.equal(commandedRoute(all('IP', 'AP'), centres), 'local', 'down per keepalives is still the local route (Kamailio fails over per call)');
  t.equal(commandedRoute(all('DX', 'AP'), centres), 'backup');
  t.equal(commandedRoute(all('DX', 'DX'), centres), 'unknown', 'a disabled backup is not a backup route');
  t.equal(commandedRoute([dest(1, BACKUP, 'AP', 100)], centres), 'unknown', 'missing local URI');
  t.equal(firstChoice(all('AP', 'AP'), centres), 'local');
  t.equal(firstChoice(all('IP', 'AP'), centres), 'backup');
  t.equal(firstChoice(all('TP', 'AP'), centres), 'local', 'trying is still selected');
  t.equal(firstChoice(all('DX', 'IP'), centres), 'announcement');
  t.equal(firstChoice([dest(1, LOCAL, 'IP', 200)], centres), 'none');
});

t.test('apply: d for backup, ap for local, confirmed by read-back, idempotent', async (t) => {
  const k = new FakeKamailio();
  const a = new KamailioActuator({ rpc: k, centres });
  t.equal(await a.observe(), 'local');
  await a.apply('backup');
  t.same(k.calls, [`d 1 ${LOCAL}`], 'one set_state d for the local destination');
  t.equal(await a.observe(), 'backup');
  await a.apply('backup');
  t.equal(k.calls.length, 1, 'no RPC when already there');
  t.equal(a.lastApply?.changes, 0);
  await a.apply('local');
  t.same(k.calls.slice(1), [`ap 1 ${LOCAL}`], 'back to active + probing');
  t.equal(await a.observe(), 'local');
});

t.test('apply re-enables a disabled backup and refuses an unknown list', async (t) => {
  const k = new FakeKamailio();
  k.dests[1] = dest(1, BACKUP, 'DX', 100);
  const a = new KamailioActuator({ rpc: k, centres });
  t.equal(await a.observe(), 'unknown');
  await a.apply('backup');
  t.same(k.calls.sort(), [`ap 1 ${BACKUP}`, `d 1 ${LOCAL}`].sort());
  const other = new KamailioActuator({ rpc: k, centres: { local: ['sip:other@10.9.9.9'], backup: [BACKUP] } });
  await t.rejects(other.apply('backup'), /lacks sip:other@10\.9\.9\.9.*re-render/);
});

t.test('a set_state that does not take is an error naming what was read back', async (t) => {
  const k = new FakeKamailio();
  k.failSetState = true;
  const a = new KamailioActuator({ rpc: k, centres });
  await t.rejects(a.apply('backup'), /asked Kamailio to route to backup but dispatcher.list reads local \(.*=AP/);
});

t.test('restart: state reset shows as drift, core.uptime as a restart', async (t) => {
  const k = new FakeKamailio();
  const seen: number[] = [];
  const a = new KamailioActuator({ rpc: k, centres, onRestart: (i) => seen.push(i.restarts) });
  await a.apply('backup');
  k.restart();
  t.equal(await a.observe(), 'local', 'drift: Kamailio forgot the failover');
  t.equal(a.snapshot?.restarted, true);
  t.same(seen, [1]);
  await a.apply('backup');
  t.equal(await a.observe(), 'backup');
  t.equal(a.snapshot?.restarted, false);
  k.uptimeS = 5; // same up_since, uptime grew: no restart
  await a.observe();
  t.equal(a.snapshot?.restarts, 1);
  k.mainPid = 6000; // restarted within the same second: only the PID tells
  await a.observe();
  t.equal(a.snapshot?.restarts, 2, 'a new main PID is a restart even with the same up_since');
});

t.test('observe() is unknown, not an exception, when Kamailio cannot be asked', async (t) => {
  const k = new FakeKamailio();
  k.coreUptime = async () => {
    throw new Error('ECONNREFUSED');
  };
  t.equal(await new KamailioActuator({ rpc: k, centres }).observe(), 'unknown');
});

t.test('verify: Kamailio must route there and the centre must answer OPTIONS (and the test call)', async (t) => {
  const k = new FakeKamailio();
  const probes: string[] = [];
  const a = new KamailioActuator({
    rpc: k,
    centres,
    verify: { optionsTimeoutMs: 500, acceptCodes: [404], testCall: { kamailioHost: '127.0.0.1', kamailioPort: 5060, number: 't', timeoutMs: 1000 } },
    sipOptions: async (p) => {
      probes.push(`${p.host}:${p.port}`);
      return p.host === '10.1.0.10'
        ? { ok: true, status: 404, rttMs: 3, detail: '404 Not Found in 3 ms' }
        : { ok: true, status: 503, detail: '503 Service Unavailable' };
    },
    testCall: async () => ({ ok: true, answeredBy: 'backup', unexpectedCodes: {}, durationMs: 50, detail: 'answered by backup' }),
  });
  await a.apply('backup');
  const vb = await a.verify('backup');
  t.ok(vb.ok, vb.detail);
  t.same(probes, ['10.1.0.10:5060']);
  await a.apply('local');
  const vl = await a.verify('local');
  t.notOk(vl.ok, `503 is not an accepted answer: ${vl.detail}`);
  t.match(vl.detail, /not an accepted answer/);
  t.match(vl.detail, /reached backup, not local/, 'the test call landing at the wrong centre fails verification');
  k.dests[1] = dest(1, BACKUP, 'IP', 100);
  await a.apply('backup');
  const down = await a.verify('backup');
  t.notOk(down.ok, `Kamailio itself sees the backup down: ${down.detail}`);
  t.match(down.detail, /next call would go to announcement/);
});
