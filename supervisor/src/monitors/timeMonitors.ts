/**
 * Builds the time subsystem's monitors from the `time:` config section:
 * chronyd (TimeMonitor), the LAN clock audit (TimeAuditMonitor, only when
 * hosts are configured) and the wall-clock step watch (WallClockMonitor).
 * The composition root passes a TimeSource only to replace chronyd (the
 * simulated box); otherwise the real chronyc wrapper is used.
 */
import { ChronycClient, type TimeSource } from '../../../hardware/chrony/index.js';
import type { TimeConfig } from '../config/time.js';
import type { Guard } from '../guard.js';
import type { Clock, Monitor } from './monitor.js';
import { TimeAuditMonitor } from './timeAudit.js';
import { TimeMonitor } from './timeMonitor.js';
import { type WallClockStep, WallClockMonitor } from './timeWallClock.js';

export interface TimeMonitorDeps {
  /** Replaces chronyd (e.g. the simulated box). */
  source?: TimeSource;
  clock?: Clock;
  /** Where a bug in a poll loop is reported (once; the loop goes on with backoff). */
  guard?: Guard;
  /** Record a wall-clock step as an event in the store. */
  onWallClockStep?: (step: WallClockStep) => void;
}

export function chronycFromConfig(cfg: TimeConfig): ChronycClient {
  return new ChronycClient({
    chronycPath: cfg.chronyc.path,
    host: cfg.chronyc.socket,
    ...(cfg.chronyc.port !== undefined ? { port: cfg.chronyc.port } : {}),
    timeoutMs: cfg.chronyc.timeoutMs,
  });
}

export function createTimeMonitors(cfg: TimeConfig, deps: TimeMonitorDeps = {}): Monitor[] {
  const clock = deps.clock ? { clock: deps.clock } : {};
  const guard = deps.guard ? { guard: deps.guard } : {};
  const monitors: Monitor[] = [
    new TimeMonitor({
      source: deps.source ?? chronycFromConfig(cfg),
      sourceName: deps.source ? 'sim' : 'chrony',
      thresholds: {
        warnS: cfg.warnS,
        failS: cfg.failS,
        clearHoldS: cfg.clearHoldS,
        maxSourceLossS: cfg.maxSourceLossS,
        holdoverDriftPpm: cfg.holdoverDriftPpm,
        startupGraceS: cfg.startupGraceS,
      },
      pollMs: cfg.pollMs,
      ...clock,
      ...guard,
    }),
    new WallClockMonitor({
      checkMs: cfg.pollMs,
      thresholdS: cfg.wallClockStepS,
      warnForS: cfg.wallClockStepWarnS,
      ...clock,
      ...guard,
      ...(deps.onWallClockStep ? { onStep: deps.onWallClockStep } : {}),
    }),
  ];
  if (cfg.audit.hosts.length > 0) {
    monitors.push(
      new TimeAuditMonitor({
        hosts: cfg.audit.hosts,
        warnS: cfg.warnS,
        failS: cfg.failS,
        timeoutMs: cfg.audit.timeoutMs,
        attempts: cfg.audit.attempts,
        ...(cfg.audit.sourceAddress ? { sourceAddress: cfg.audit.sourceAddress } : {}),
        ...clock,
        ...guard,
      }),
    );
  }
  return monitors;
}
