import type { SimBox } from '../../../hardware/sim/simBox.js';
import type { RouteActuator, RouteTarget, VerifyResult } from './actuator.js';

/** Drives the simulated call router; verification asks whether that path answers. */
export class SimRouteActuator implements RouteActuator {
  readonly name = 'sim-router';
  constructor(private readonly box: SimBox) {}

  async apply(target: RouteTarget): Promise<void> {
    this.box.setRouterRoute(target);
  }

  async observe(): Promise<RouteTarget | 'unknown'> {
    return this.box.getRouterRoute();
  }

  async verify(target: RouteTarget): Promise<VerifyResult> {
    const t0 = performance.now();
    const ok = this.box.pathAnswers(target);
    return {
      ok,
      detail: ok ? `simulated OPTIONS to the ${target} centre → 200 OK` : `simulated OPTIONS to the ${target} centre → no answer`,
      durationMs: performance.now() - t0,
    };
  }
}
