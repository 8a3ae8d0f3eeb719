/**
 * Reads the simulated box and reports the same signal keys the real monitors
 * use, so the core, UI and tests cannot tell them apart by shape.
 * Used only with `box.hardware: simulated` (make run, demos, logic tests).
 */
import type { SimBox, SimState } from '../../../hardware/sim/simBox.js';
import type { Signal, SignalStatus, Subsystem } from '../core/signal.js';
import type { Guard } from '../guard.js';
import type { Logger } from '../log.js';
import type { TestHooks } from '../testHooks.js';
import type { Clock, SignalSink } from './monitor.js';
import { PollingMonitor } from './pollingMonitor.js';

export class SimMonitor extends PollingMonitor {
  readonly name = 'sim';
  private readonly onChange = () => this.report();
  private emit: SignalSink = () => {};

  constructor(
    private readonly box: SimBox,
    private readonly clock: Clock,
    private readonly reportMs: number,
    /** A real Kamailio is configured: it reports telephony.kamailio itself. */
    private readonly realKamailio = false,
    opts: { guard?: Guard; log?: Logger; hooks?: TestHooks | null } = {},
  ) {
    super({ pollMs: reportMs, ...(opts.guard ? { guard: opts.guard } : {}), ...(opts.log ? { log: opts.log } : {}) });
    this.hooks = opts.hooks ?? null;
  }

  private readonly hooks: TestHooks | null;

  protected override onStart(emit: SignalSink): void {
    this.emit = emit;
    this.box.on('change', this.onChange);
  }

  protected override onStop(): void {
    this.box.off('change', this.onChange);
  }

  private releaseHang: (() => void) | null = null;

  protected async poll(): Promise<void> {
    this.hooks?.trip('monitor');
    if (this.hooks?.take('monitorHang')) await new Promise<void>((resolve) => (this.releaseHang = resolve));
    this.report();
  }

  override async stop(): Promise<void> {
    this.releaseHang?.();
    await super.stop();
  }

  private report(): void {
    for (const s of simSignals(this.box.state, this.clock.now(), this.reportMs * 3)) {
      if (this.realKamailio && s.key === 'telephony.kamailio') continue;
      this.emit(s);
    }
  }
}

export function simSignals(st: SimState, now: number, ttlMs: number): Signal[] {
  const out: Signal[] = [];
  const sig = (subsystem: Subsystem, key: string, status: SignalStatus, value: Signal['value'], unit?: string, detail?: string) =>
    out.push({ subsystem, source: 'sim', key, status, value, observedAt: now, ttlMs, ...(unit ? { unit } : {}), ...(detail ? { detail } : {}) });

  // Power comes from the real UPS and GPIO monitors reading SimUpsReader / SimGpioBackend.
  // Time comes from the real time monitor reading SimTimeSource (hardware/sim/simTime.ts).

  for (const [name, l] of Object.entries(st.links)) {
    const up = l.carrier && l.reachable;
    sig('wan', `wan.${name}.link`, l.carrier ? 'ok' : 'fail', l.carrier ? 'up' : 'no-carrier');
    sig('wan', `wan.${name}.state`, up ? (l.lossPct > 10 ? 'warn' : 'ok') : 'fail', up ? 'up' : 'down');
    sig('wan', `wan.${name}.rtt`, 'ok', up ? l.rttMs : null, 'ms');
    sig('wan', `wan.${name}.loss`, l.lossPct > 10 ? 'warn' : 'ok', up ? l.lossPct : 100, '%');
    for (const c of ['local', 'backup', 'trunk'] as const) {
      const reach = up && st.centres[c];
      sig('centres', `centres.${c}.${name}`, reach ? 'ok' : 'fail', reach, undefined, reach ? undefined : `SIP OPTIONS via ${name}: no answer`);
    }
  }

  sig(
    'recording',
    'recording.rtpengine',
    st.recorder.running ? 'ok' : 'fail',
    st.recorder.running,
    undefined,
    st.recorder.running ? undefined : 'rtpengine does not answer ping',
  );
  sig('recording', 'recording.diskFree', st.recorder.diskFreePct < 10 ? 'fail' : st.recorder.diskFreePct < 20 ? 'warn' : 'ok', st.recorder.diskFreePct, '%');
  sig(
    'telephony',
    'telephony.kamailio',
    st.router.running ? 'ok' : 'fail',
    st.router.running,
    undefined,
    st.router.running ? undefined : 'Kamailio JSON-RPC: connection refused',
  );
  sig('system', 'system.shutdown', st.shuttingDown ? 'warn' : 'ok', st.shuttingDown);
  return out;
}
