/**
 * Process-level last resorts, installed once by `vaktpost run`.
 *
 * The rule (why exit on one and not the other):
 *  - `unhandledRejection`: a promise nobody awaited has failed. Its code has already
 *    unwound; the process state is as it was. Log it structurally, raise the internal
 *    alarm, keep deciding. (Every known background promise goes through guard.ts; one
 *    that lands here is a bug to fix, not a reason to drop the box's supervision.)
 *  - `uncaughtException`: a throw unwound through frames we cannot name; objects may be
 *    half-updated, so the state is truly unknown. Log it, try to write what waits in the
 *    journal, and exit 70 (EX_SOFTWARE): systemd restarts the service, which resumes from
 *    the stored target. Calls flow meanwhile (Kamailio and the relay keep their state).
 *  - SIGHUP is not "reload": it is logged and ignored so a closed terminal or a stray
 *    `kill -HUP` does not stop supervision.
 */
import type { Logger } from '../log.js';

export interface ProcessGuardHooks {
  /** Raise the internal alarm (Supervisor.internalFault via the guard). */
  fault(where: string, err: unknown): void;
  /** Best effort before exiting: write what the journal holds. */
  beforeExit(): void;
}

export const EXIT_INTERNAL_ERROR = 70;

export function installProcessGuards(log: Logger, hooks: () => ProcessGuardHooks | null): void {
  process.on('unhandledRejection', (reason) => {
    const err = reason instanceof Error ? reason : new Error(String(reason));
    log.error({ where: 'unhandledRejection', err: { message: err.message, stack: err.stack } }, `unhandled promise rejection: ${err.message}`);
    try {
      hooks()?.fault('an unawaited promise', err);
    } catch {
      // The log line above is the record; nothing more to do here.
    }
  });
  process.on('uncaughtException', (err, origin) => {
    log.fatal(
      { where: origin, err: { message: err.message, stack: err.stack } },
      `uncaught exception — state unknown, exiting for a clean restart: ${err.message}`,
    );
    try {
      hooks()?.beforeExit();
    } finally {
      process.exit(EXIT_INTERNAL_ERROR);
    }
  });
  process.on('SIGHUP', () => log.warn('SIGHUP ignored: Vaktpost does not reload its config; restart the service to apply changes'));
  process.on('warning', (w) => log.warn({ warning: w.name, detail: w.message }, 'node warning'));
}
