/**
 * Chaos (acceptance 4): the supervisor's wall clock stepped back and forward by an hour
 * (libfaketime, only in the supervisor process; its monotonic clock is untouched):
 *  - no dead monitor is hidden: a monitor that hangs goes stale within its ttl, whichever
 *    way the wall clock jumped;
 *  - no hold time is cut short or stretched: the failback hold runs its length on the
 *    monotonic clock across a step forward and a step back.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { liveClient, startSupervisor, writeSimConfig } from '../../helpers/supervisorProcess.js';
import { scratchDir } from '../../helpers/util.js';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1';
const HOLD_S = 3;
type Live = { type: string; [k: string]: unknown };

async function lab(t: Test, name: string) {
  t.ok(existsSync(LIBFAKETIME), `libfaketime is installed (${LIBFAKETIME}; ops/install/debian-deps.sh installs faketime)`);
  const { dir, cleanup } = await scratchDir(name);
  t.teardown(cleanup);
  const offsetFile = path.join(dir, 'faketime');
  writeFileSync(offsetFile, '+0\n');
  const { file, port } = await writeSimConfig(dir, '', { failbackHoldS: HOLD_S, holdDownS: 1 });
  const sup = await startSupervisor(file, port, {
    VAKTPOST_TEST_HOOKS: '1',
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: '1',
    FAKETIME_DONT_FAKE_MONOTONIC: '1',
  });
  t.teardown(() => sup.kill('SIGKILL'));
  const live = await liveClient(sup.url, sup.token());
  t.teardown(() => live.close());
  await live.next((m) => m.type === 'snapshot', 15_000);
  const step = (seconds: number) => writeFileSync(offsetFile, `${seconds >= 0 ? '+' : ''}${seconds}\n`);
  const after = (i: number, pred: (m: Live) => boolean) => (m: Live) => live.messages.indexOf(m) >= i && pred(m);
  return { sup, live, step, after };
}

for (const stepS of [-3600, 3600]) {
  const dirn = stepS < 0 ? 'back' : 'forward';

  t.test(`wall clock stepped ${dirn} an hour: live monitors stay fresh, a hung one still goes stale`, async (t) => {
    const { sup, live, step, after } = await lab(t, `chaos-clock-stale-${dirn}`);
    const i0 = live.messages.length;
    step(stepS);
    // The box's own wall-clock watch reports the step: the clock really moved.
    await live.next(
      after(i0, (m) => m.type === 'event' && (m.event as { kind: string }).kind === 'time.wallClockStep'),
      30_000,
    );
    const expired = live.messages.slice(i0).filter((m) => m.type === 'signal' && (m.signal as { stale: boolean }).stale);
    t.same(
      expired.map((m) => (m.signal as { key: string }).key),
      [],
      "no live monitor's signal expired because of the step",
    );
    // Hang the simulated box's monitor (a hung driver), then step again the same way:
    // its last report was stamped before the step, and must still expire by its ttl.
    const i1 = live.messages.length;
    t.equal((await sup.api('POST', '/api/test/fault', { place: 'monitorHang' })).status, 200, 'monitor hung');
    step(2 * stepS);
    const t0 = performance.now();
    const stale = await live.next(
      after(i1, (m) => m.type === 'signal' && (m.signal as { key: string }).key === 'wan.wan1.state' && (m.signal as { stale: boolean }).stale),
      60_000,
    );
    t.equal((stale.signal as { status: string }).status, 'unknown', "the hung monitor's wan.wan1.state is unknown once its ttl has passed");
    t.comment(`stale ${Math.round(performance.now() - t0)} ms after the second step (ttl 600 ms), wall clock ${dirn} 2 h`);
  });

  t.test(`wall clock stepped ${dirn} an hour during the failback hold: the hold is neither cut short nor stretched`, async (t) => {
    const { sup, live, step, after } = await lab(t, `chaos-clock-hold-${dirn}`);
    const i0 = live.messages.length;
    await sup.api('POST', '/api/sim/fault', { fault: 'wan-down' });
    const routeTo = (route: string, i: number) =>
      live.next(
        after(
          i,
          (m) =>
            m.type === 'decision' && (m.decision as { routeChanged: boolean; route: string }).routeChanged && (m.decision as { route: string }).route === route,
        ),
        60_000,
      );
    await routeTo('backup', i0);
    t.pass('failed over to backup');
    // Healthy again: the policy holds (mode recovering); step the clock inside the hold.
    const i1 = live.messages.length;
    await sup.api('POST', '/api/sim/fault', { fault: 'wan-restored' });
    const restoredAt = performance.now();
    await live.next(
      after(i1, (m) => m.type === 'decision' && (m.decision as { mode: string }).mode === 'recovering'),
      30_000,
    );
    step(stepS);
    await routeTo('local', i1);
    const heldMs = performance.now() - restoredAt;
    t.ok(heldMs >= HOLD_S * 1000 - 250, `failed back after ${Math.round(heldMs)} ms: not before the ${HOLD_S} s hold (not cut short)`);
    t.comment(`failback ${Math.round(heldMs)} ms after health returned (hold ${HOLD_S} s; a wall-clock hold would have been ${stepS > 0 ? '0 s' : '1 h'})`);
  });
}
