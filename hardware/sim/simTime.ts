/**
 * The simulated clock seen through the same `TimeSource` interface as the real
 * chronyc wrapper, so the time monitor and its health rules run unchanged on the
 * simulated box.
 */
import { ChronydNotRunningError } from '../chrony/errors.js';
import type { NtpSourceInfo, TimeSource, Tracking } from '../chrony/types.js';
import type { SimBox } from './simBox.js';

export class SimTimeSource implements TimeSource {
  /** When the simulated upstream was last heard (epoch s). */
  private lastHeardS = Date.now() / 1000;

  constructor(private readonly box: SimBox) {}

  private heard(): number {
    const now = Date.now() / 1000;
    if (this.box.state.clock.sourceReachable) this.lastHeardS = now;
    return now - this.lastHeardS;
  }

  async tracking(): Promise<Tracking> {
    const c = this.box.state.clock;
    if (!c.chronydRunning) throw new ChronydNotRunningError('chronyd is not running (506 Cannot talk to daemon) — start chronyd (simulated)');
    const sinceS = this.heard();
    return {
      refId: 'C0A80001',
      refName: 'ntp.sim',
      stratum: 2,
      refTime: this.lastHeardS,
      // chronyc's sign: positive = the system clock is slow. The sim's offset is "box ahead".
      systemTimeS: -c.offsetS,
      lastOffsetS: -c.offsetS / 10,
      rmsOffsetS: Math.abs(c.offsetS) / 10,
      freqPpm: 1.2,
      residFreqPpm: 0,
      skewPpm: 0.05,
      rootDelayS: 0.002,
      rootDispersionS: 0.0005 + sinceS * 1e-5,
      updateIntervalS: 1,
      leapStatus: 'Normal',
    };
  }

  async sources(): Promise<NtpSourceInfo[]> {
    const c = this.box.state.clock;
    if (!c.chronydRunning) throw new ChronydNotRunningError('chronyd is not running (506 Cannot talk to daemon) — start chronyd (simulated)');
    const sinceS = this.heard();
    return [
      {
        mode: 'server',
        state: c.sourceReachable ? 'selected' : 'unusable',
        address: '192.0.2.123',
        stratum: 1,
        pollLog2: 0,
        reach: c.sourceReachable ? 0o377 : 0,
        lastRxS: Math.round(sinceS),
        adjustedOffsetS: c.offsetS,
        measuredOffsetS: c.offsetS,
        errorS: 0.0002,
      },
    ];
  }
}
