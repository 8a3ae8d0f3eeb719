/**
 * KamailioActuator (in-memory dispatcher): `persist` keeps the list file Kamailio
 * restarts from on the target route — written atomically, even while Kamailio is
 * down — and `verify()` gives up its test call when its AbortSignal is aborted.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { DispatcherDestination, DispatcherSetStateFlags } from '../../../hardware/kamailio/rpc.js';
import type { TestCallOptions, TestCallResult } from '../../../hardware/sip/testCall.js';
import { KamailioActuator, type KamailioControl } from '../../../supervisor/src/reconcilers/kamailio/kamailioActuator.js';
import { scratchDir } from '../../helpers/util.js';

const LOCAL = 'sip:local@10.0.0.10:5060';
const BACKUP = 'sip:backup@10.1.0.10:5060';
const ANN = 'sip:announcement@127.0.0.1:5090';
const centres = { local: [LOCAL], backup: [BACKUP] };
const renderInput = { centres, announcement: { uris: [ANN], answerTimeoutMs: 3000 } };

function dest(set: number, uri: string, flags: string, priority: number): DispatcherDestination {
  const state = ({ A: 'active', D: 'disabled' } as const)[flags[0] as 'A'];
  return { set, uri, flags, state, probing: flags.includes('P'), priority, attrs: {} };
}

class FakeKamailio implements KamailioControl {
  dests = [dest(1, LOCAL, 'AP', 200), dest(1, BACKUP, 'AP', 100), dest(2, ANN, 'AP', 100)];
  down = false;
  private check() {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:5071');
  }
  async coreMainPid() {
    this.check();
    return 4242;
  }
  async coreUptime() {
    this.check();
    return { uptimeS: 100, upSince: 'Sun Nov 22 01:00:00 2026', now: '' };
  }
  async dispatcherList() {
    this.check();
    return this.dests.map((d) => ({ ...d }));
  }
  async dispatcherSetState(flags: DispatcherSetStateFlags, set: number, uri: string) {
    this.check();
    const d = this.dests.find((x) => x.set === set && x.uri === uri);
    if (!d) throw new Error('State Update Failed');
    Object.assign(d, dest(set, uri, flags === 'd' ? 'DX' : 'AP', d.priority));
  }
}

/** The local destination's flags column in a rendered list file. */
const localFlags = (text: string) =>
  text
    .split('\n')
    .find((l) => l.startsWith(`1 ${LOCAL} `))
    ?.split(' ')[2];

t.test('persist: the list file follows the target, atomically, even while Kamailio is down', async (t) => {
  const { dir, cleanup } = await scratchDir('persist');
  t.teardown(cleanup);
  const listPath = path.join(dir, 'kamailio', 'dispatcher.list');
  const rpc = new FakeKamailio();
  const a = new KamailioActuator({ rpc, centres, persist: { dispatcherListPath: listPath, renderInput } });

  await a.apply('backup');
  t.equal(localFlags(await readFile(listPath, 'utf8')), '4', 'backup: local written disabled (flag 4); the directory was created');
  t.same(await readdir(path.dirname(listPath)), ['dispatcher.list'], 'no temp file left behind');

  await a.apply('local');
  t.equal(localFlags(await readFile(listPath, 'utf8')), '0', 'local: every destination active again');

  rpc.down = true;
  await t.rejects(a.apply('backup'), /ECONNREFUSED/, 'the apply fails while Kamailio is down …');
  t.equal(localFlags(await readFile(listPath, 'utf8')), '4', '… but the list file already says backup: Kamailio comes back on it');
});

t.test('persist: a list file that cannot be written fails the apply loudly (the route itself still moved)', async (t) => {
  const { dir, cleanup } = await scratchDir('persist-ro');
  t.teardown(cleanup);
  const blocker = path.join(dir, 'not-a-dir');
  await writeFile(blocker, 'x');
  const rpc = new FakeKamailio();
  const a = new KamailioActuator({ rpc, centres, persist: { dispatcherListPath: path.join(blocker, 'dispatcher.list'), renderInput } });
  await t.rejects(a.apply('backup'), /a Kamailio restart would fall back to the old list/);
  t.equal(await a.observe(), 'backup', 'Kamailio was switched all the same');
});

t.test('verify: an aborted signal kills the test call and ends the verification at once', async (t) => {
  const rpc = new FakeKamailio();
  const calls: TestCallOptions[] = [];
  const a = new KamailioActuator({
    rpc,
    centres,
    verify: {
      optionsTimeoutMs: 500,
      acceptCodes: [],
      testCall: { kamailioHost: '127.0.0.1', kamailioPort: 5060, number: 'vaktpost-test', timeoutMs: 8000 },
    },
    sipOptions: async () => ({ ok: true, status: 200, detail: '200 OK in 1 ms', rttMs: 1 }) as never,
    // Rings until the signal is aborted: like SIPp killed mid-call.
    testCall: (o) => {
      calls.push(o);
      return new Promise<TestCallResult>((resolve) => {
        o.signal?.addEventListener('abort', () => resolve({ ok: false, unexpectedCodes: {}, durationMs: 5, detail: 'test call aborted' }));
      });
    },
  });
  const ctrl = new AbortController();
  const v = a.verify('local', ctrl.signal);
  await new Promise((r) => setImmediate(r));
  t.equal(calls.length, 1, 'the test call is under way');
  t.ok(calls[0]?.signal, 'and was given the signal');
  ctrl.abort(new Error('superseded: the target is now backup'));
  const r = await v;
  t.equal(r.ok, false);
  t.match(r.detail, /verification aborted \(superseded: the target is now backup\)/);

  const pre = new AbortController();
  pre.abort(new Error('stop'));
  const r2 = await a.verify('local', pre.signal);
  t.match(r2.detail, /aborted/, 'already aborted: no probe at all');
  t.equal(calls.length, 1, 'no second test call');
});
