/** Where calls go. `local` = this centre's call-takers; `backup` = the agreed backup sentral. */
export type RouteTarget = 'local' | 'backup';

export interface VerifyResult {
  ok: boolean;
  /** What was checked and what came back, e.g. "OPTIONS sip:backup@… → 200 in 12 ms". */
  detail: string;
  durationMs: number;
}

/**
 * One real (or simulated) thing that must follow the target route:
 * Kamailio's dispatcher, the upstream reroute webhook, the GPIO line relay.
 * Implementations are idempotent: apply(t) twice is the same as once.
 */
export interface RouteActuator {
  readonly name: string;
  /** Make the actuator route calls to `target`. Throws with a clear message on failure. */
  apply(target: RouteTarget): Promise<void>;
  /**
   * What the actuator does right now, read back from the real component
   * (`unknown` if it cannot be read). Used for drift detection: e.g. Kamailio
   * restarted and forgot the state.
   */
  observe(): Promise<RouteTarget | 'unknown'>;
  /**
   * Check that the path for `target` actually answers (SIP OPTIONS, test call). Optional.
   * `signal` is aborted when the verification is no longer wanted (a new target, a stop):
   * stop probing (kill the test call) and settle soon; the reconciler does not wait for it.
   */
  verify?(target: RouteTarget, signal?: AbortSignal): Promise<VerifyResult>;
  /** Release sockets/timers. */
  close?(): Promise<void>;
}
