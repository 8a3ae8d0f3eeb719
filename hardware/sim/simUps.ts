/**
 * The simulated UPS behind the same `UpsReader` interface as the NUT client:
 * answers with NUT variables, or fails with the NUT error a real upsd would give.
 */
import { NutError } from '../nut/protocol.js';
import type { UpsReader } from '../nut/reader.js';
import type { SimBox } from './simBox.js';

export class SimUpsReader implements UpsReader {
  constructor(private readonly box: SimBox) {}

  async listVars(ups: string): Promise<Map<string, string>> {
    const u = this.box.state.ups[ups];
    if (!u) throw new NutError('UNKNOWN-UPS', `upsd (simulated) does not know UPS "${ups}" — check the UPS name`);
    switch (u.fault) {
      case 'driver-not-connected':
        throw new NutError('DRIVER-NOT-CONNECTED', `upsd (simulated): the driver for ${ups} is not connected — restart the UPS driver`);
      case 'data-stale':
        throw new NutError('DATA-STALE', `upsd (simulated): data for ${ups} is stale — the driver has stopped updating`);
      case 'upsd-down':
        throw new NutError('CONNECT-FAILED', 'upsd (simulated) refused the connection — is upsd running?');
      case 'none':
        break;
    }
    return new Map([
      ['ups.status', u.status],
      ['battery.charge', String(u.charge)],
      ['battery.charge.low', '10'],
      ['battery.runtime', String(u.runtimeS)],
      ['battery.runtime.low', '120'],
      ['input.voltage', String(u.inputVoltage)],
      ['ups.load', String(u.loadPct)],
    ]);
  }
}
