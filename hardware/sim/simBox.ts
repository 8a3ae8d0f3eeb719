/**
 * The simulated box for `make run` and demos: UPS, mains sense, clock offset,
 * WAN links, both centres, the recorder and the call router, as plain state
 * that drivers read and an API or scenario file changes. No policy in here.
 */
import { EventEmitter } from 'node:events';
import { z } from 'zod';

const upsState = z.strictObject({
  /** NUT ups.status words, e.g. "OL", "OB", "OB LB", "OL CHRG", "FSD OB LB". */
  status: z.string().min(1),
  charge: z.number().min(0).max(100),
  runtimeS: z.number().min(0),
  inputVoltage: z.number().min(0),
  loadPct: z.number().min(0).max(200),
  /** A monitoring fault the real NUT would report instead of data. */
  fault: z.enum(['none', 'driver-not-connected', 'data-stale', 'upsd-down']),
});

const linkState = z.strictObject({
  carrier: z.boolean(),
  /** Probes through this link get answers. */
  reachable: z.boolean(),
  rttMs: z.number().min(0),
  lossPct: z.number().min(0).max(100),
});

export const simStateSchema = z.strictObject({
  ups: z.record(z.string(), upsState),
  mainsPresent: z.boolean(),
  clock: z.strictObject({ offsetS: z.number(), sourceReachable: z.boolean(), chronydRunning: z.boolean() }),
  links: z.record(z.string(), linkState),
  centres: z.strictObject({ local: z.boolean(), backup: z.boolean(), trunk: z.boolean() }),
  recorder: z.strictObject({ running: z.boolean(), diskFreePct: z.number().min(0).max(100) }),
  router: z.strictObject({ running: z.boolean() }),
  /** The box's own resources (the system monitor reads them through SimSystemProbe). */
  system: z.strictObject({
    cpuTempC: z.number().min(-40).max(150).nullable(),
    memoryUsedPct: z.number().min(0).max(100),
    diskUsedPct: z.number().min(0).max(100),
  }),
  shuttingDown: z.boolean(),
});
export type SimState = z.infer<typeof simStateSchema>;

/** A partial state: what a fault injection or scenario step changes. */
export const simPatchSchema = z.strictObject({
  ups: z.record(z.string(), upsState.partial()).optional(),
  mainsPresent: z.boolean().optional(),
  clock: simStateSchema.shape.clock.partial().optional(),
  links: z.record(z.string(), linkState.partial()).optional(),
  centres: simStateSchema.shape.centres.partial().optional(),
  recorder: simStateSchema.shape.recorder.partial().optional(),
  router: simStateSchema.shape.router.partial().optional(),
  system: simStateSchema.shape.system.partial().optional(),
  shuttingDown: z.boolean().optional(),
});
export type SimPatch = z.infer<typeof simPatchSchema>;

/** Named faults for quick demos and tests: each is just a patch. */
export const SIM_FAULTS = {
  'power-out': { mainsPresent: false, ups: { '*': { status: 'OB DISCHRG' } } },
  'power-low-battery': { mainsPresent: false, ups: { '*': { status: 'OB LB', charge: 8, runtimeS: 60 } } },
  'power-restored': { mainsPresent: true, ups: { '*': { status: 'OL', charge: 100, runtimeS: 1800 } } },
  'ups-monitoring-fault': { ups: { '*': { fault: 'driver-not-connected' } } },
  'wan-down': { links: { '*': { reachable: false } } },
  'wan1-down': { links: { wan1: { carrier: false, reachable: false } } },
  'wan-restored': { links: { '*': { carrier: true, reachable: true } } },
  'local-centre-down': { centres: { local: false } },
  'backup-centre-down': { centres: { backup: false } },
  'centres-restored': { centres: { local: true, backup: true, trunk: true } },
  'clock-offset-2s': { clock: { offsetS: 2 } },
  'clock-ok': { clock: { offsetS: 0.002, sourceReachable: true, chronydRunning: true } },
  'recorder-down': { recorder: { running: false } },
  'recorder-up': { recorder: { running: true } },
  'router-restart': { router: { running: true } },
  'disk-full': { system: { diskUsedPct: 97 } },
  'disk-ok': { system: { diskUsedPct: 41 } },
} as const satisfies Record<string, unknown>;
export type SimFault = keyof typeof SIM_FAULTS;

export function defaultSimState(upsNames: readonly string[], linkNames: readonly string[]): SimState {
  return {
    ups: Object.fromEntries(upsNames.map((n) => [n, { status: 'OL', charge: 100, runtimeS: 1800, inputVoltage: 230, loadPct: 22, fault: 'none' as const }])),
    mainsPresent: true,
    clock: { offsetS: 0.002, sourceReachable: true, chronydRunning: true },
    links: Object.fromEntries(linkNames.map((n) => [n, { carrier: true, reachable: true, rttMs: 18, lossPct: 0 }])),
    centres: { local: true, backup: true, trunk: true },
    recorder: { running: true, diskFreePct: 71 },
    router: { running: true },
    system: { cpuTempC: 47, memoryUsedPct: 38, diskUsedPct: 41 },
    shuttingDown: false,
  };
}

export class SimBox extends EventEmitter<{ change: [SimState] }> {
  private current: SimState;
  /** What the simulated call router (Kamailio stand-in) routes to; forgotten on restart. */
  private routerRoute: 'local' | 'backup' | 'unknown' = 'local';

  constructor(initial: SimState) {
    super();
    this.current = structuredClone(initial);
  }

  get state(): Readonly<SimState> {
    return this.current;
  }

  /** Apply a validated patch. `'*'` as a UPS or link name means every one. */
  apply(patch: SimPatch): void {
    const next = structuredClone(this.current);
    for (const [name, p] of Object.entries(patch.ups ?? {})) {
      for (const n of name === '*' ? Object.keys(next.ups) : [name]) {
        const cur = next.ups[n];
        if (!cur) throw new Error(`unknown simulated UPS "${n}" (known: ${Object.keys(next.ups).join(', ')})`);
        next.ups[n] = { ...cur, ...p };
      }
    }
    for (const [name, p] of Object.entries(patch.links ?? {})) {
      for (const n of name === '*' ? Object.keys(next.links) : [name]) {
        const cur = next.links[n];
        if (!cur) throw new Error(`unknown simulated link "${n}" (known: ${Object.keys(next.links).join(', ')})`);
        next.links[n] = { ...cur, ...p };
      }
    }
    if (patch.mainsPresent !== undefined) next.mainsPresent = patch.mainsPresent;
    if (patch.clock) next.clock = { ...next.clock, ...patch.clock };
    if (patch.centres) next.centres = { ...next.centres, ...patch.centres };
    if (patch.recorder) next.recorder = { ...next.recorder, ...patch.recorder };
    if (patch.system) next.system = { ...next.system, ...patch.system };
    if (patch.shuttingDown !== undefined) next.shuttingDown = patch.shuttingDown;
    if (patch.router) {
      // A router (re)start forgets its runtime state, like Kamailio resetting dispatcher states.
      if (patch.router.running === true) this.routerRoute = 'local';
      next.router = { ...next.router, ...patch.router };
    }
    this.current = next;
    this.emit('change', this.current);
  }

  injectFault(fault: SimFault): void {
    this.apply(simPatchSchema.parse(SIM_FAULTS[fault]));
  }

  // --- the simulated call router, driven by a RouteActuator adapter -------------
  setRouterRoute(route: 'local' | 'backup'): void {
    if (!this.current.router.running) throw new Error('simulated call router is not running (connection refused)');
    this.routerRoute = route;
  }

  getRouterRoute(): 'local' | 'backup' | 'unknown' {
    return this.current.router.running ? this.routerRoute : 'unknown';
  }

  /** Does a call on `route` get answered right now? */
  pathAnswers(route: 'local' | 'backup'): boolean {
    const anyLink = Object.values(this.current.links).some((l) => l.carrier && l.reachable);
    return this.current.router.running && anyLink && this.current.centres[route];
  }
}
