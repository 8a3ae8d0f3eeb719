import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { LiveMessage, Supervisor } from '../supervisor.js';
import { VERSION } from '../version.js';
import type { LiveDropReason } from './live.js';

const STATUS_VALUE = { ok: 0, warn: 1, unknown: 2, fail: 3 } as const;
const MODES = ['normal', 'degraded', 'failover', 'recovering', 'maintenance'] as const;

export interface ApiMetrics {
  registry: Registry;
  /** Count a live client the server dropped (too slow, unresponsive, protocol error). */
  liveDropped(reason: LiveDropReason): void;
}

/**
 * Prometheus metrics at /metrics. Gauges are read from the snapshot at scrape
 * time; `liveClients` is read then too (the live channel may be attached later).
 */
export function createMetrics(sup: Supervisor, liveClients: () => number = () => 0): ApiMetrics {
  const registry = new Registry();
  // Registered first so its collect() refreshes every gauge before any is serialised.
  const route: Gauge = new Gauge({
    name: 'vaktpost_route_backup',
    help: '1 when calls go to the backup centre, 0 when local',
    registers: [registry],
    collect() {
      const s = sup.snapshot();
      route.set(s.route === 'backup' ? 1 : 0);
      for (const m of MODES) mode.set({ mode: m }, m === s.mode ? 1 : 0);
      for (const [name, h] of Object.entries(s.health)) subsystem.set({ subsystem: name }, STATUS_VALUE[h.status]);
      for (const a of s.actuators) actuator.set({ actuator: a.actuator }, a.converged ? 1 : 0);
    },
  });
  const mode = new Gauge({ name: 'vaktpost_mode', help: 'Policy mode (1 for the current one)', labelNames: ['mode'], registers: [registry] });
  const subsystem = new Gauge({
    name: 'vaktpost_subsystem_status',
    help: 'Subsystem health: 0 ok, 1 warn, 2 unknown, 3 fail',
    labelNames: ['subsystem'],
    registers: [registry],
  });
  const actuator = new Gauge({
    name: 'vaktpost_actuator_converged',
    help: '1 when the actuator follows the target route',
    labelNames: ['actuator'],
    registers: [registry],
  });
  new Gauge({
    name: 'vaktpost_live_clients',
    help: 'Clients connected to the live WebSocket',
    registers: [registry],
    collect() {
      this.set(liveClients());
    },
  });
  const dropped = new Counter({
    name: 'vaktpost_live_dropped_total',
    help: 'Live clients closed by the server: slow (send buffer over the limit), unresponsive (no pong), error (protocol error)',
    labelNames: ['reason'],
    registers: [registry],
  });
  const decisions = new Counter({ name: 'vaktpost_decisions_total', help: 'Policy decisions recorded', registers: [registry] });
  const routeChanges = new Counter({ name: 'vaktpost_route_changes_total', help: 'Route changes', labelNames: ['to'], registers: [registry] });
  // The usual *_build_info shape: always 1, the version in a label.
  new Gauge({
    name: 'vaktpost_build_info',
    help: 'Always 1; the version label says which Vaktpost build runs',
    labelNames: ['version'],
    registers: [registry],
  }).set({ version: VERSION }, 1);
  collectDefaultMetrics({ register: registry, prefix: 'vaktpost_process_' });
  sup.on('live', (m: LiveMessage) => {
    if (m.type === 'decision') {
      decisions.inc();
      if (m.decision.routeChanged) routeChanges.inc({ to: m.decision.route });
    }
  });
  return { registry, liveDropped: (reason) => dropped.inc({ reason }) };
}
