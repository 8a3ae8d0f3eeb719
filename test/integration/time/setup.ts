/** Shared rig for the time integration tests: test NTP server → real chronyd (-x) → chronyc wrapper → TimeMonitor. */
import type { Test } from 'tap';
import { ChronycClient } from '../../../hardware/chrony/index.js';
import type { LeapIndicator } from '../../../hardware/ntp/index.js';
import type { TimeThresholds } from '../../../supervisor/src/core/timeHealth.js';
import { TimeMonitor } from '../../../supervisor/src/monitors/timeMonitor.js';
import { CHRONYC, type ChronydHandle, startChronyd } from '../../helpers/chronyd.js';
import { type TestNtpServer, startNtpServer } from '../../helpers/ntpServer.js';
import { SignalLog } from './signals.js';

/** Test thresholds: the spec's 0.5 / 1.0 s and holdover drift; short hold, loss and grace times so the suite stays quick. */
export const TEST_THRESHOLDS: TimeThresholds = { warnS: 0.5, failS: 1.0, clearHoldS: 4, maxSourceLossS: 30, holdoverDriftPpm: 50, startupGraceS: 20 };
export const POLL_MS = 250;

export interface TimeRig {
  server: TestNtpServer;
  chronyd: ChronydHandle;
  client: ChronycClient;
  monitor: TimeMonitor;
  log: SignalLog;
}

export async function startTimeRig(
  t: Test,
  opts: { leap?: LeapIndicator; stratum?: number; thresholds?: Partial<TimeThresholds>; waitForSync?: boolean } = {},
): Promise<TimeRig> {
  const server = await startNtpServer({ leap: opts.leap ?? 0, ...(opts.stratum !== undefined ? { stratum: opts.stratum } : {}) });
  t.teardown(() => server.close());
  const chronyd = await startChronyd({ serverPort: server.port, waitForSync: opts.waitForSync ?? true });
  t.teardown(() => chronyd.stop());
  const client = new ChronycClient({ chronycPath: CHRONYC, host: chronyd.socketPath, timeoutMs: 2000 });
  const log = new SignalLog();
  const monitor = new TimeMonitor({ source: client, thresholds: { ...TEST_THRESHOLDS, ...opts.thresholds }, pollMs: POLL_MS });
  t.teardown(() => monitor.stop());
  await monitor.start(log.sink);
  return { server, chronyd, client, monitor, log };
}

/** Waits until every time signal is ok (after chronyd's start-up dispersion has decayed and the hold served). */
export async function waitAllOk(rig: TimeRig, timeoutMs = 30_000): Promise<void> {
  for (const key of ['time.errorBound', 'time.offset', 'time.leap', 'time.source', 'time.refAge']) {
    await rig.log.next(key, (s) => s.status === 'ok', timeoutMs, `${key} ok`);
  }
}
