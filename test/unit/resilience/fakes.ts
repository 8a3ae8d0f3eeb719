/** Small fakes shared by the resilience unit tests (not a test file itself). */
import type { Logger } from '../../../supervisor/src/log.js';

export interface LogLine {
  level: 'error' | 'warn' | 'info' | 'debug';
  obj: Record<string, unknown>;
  msg: string;
}

/** A synchronous logger that keeps every line, so a test can count them. */
export function recordingLog(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLine['level']) =>
    (obj: unknown, msg?: string): void => {
      if (typeof obj === 'string') lines.push({ level, obj: {}, msg: obj });
      else lines.push({ level, obj: (obj ?? {}) as Record<string, unknown>, msg: msg ?? '' });
    };
  const log = { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), trace: () => {}, fatal: at('error') };
  return { log: log as unknown as Logger, lines };
}

/** An error as better-sqlite3 throws it when the disk is full. */
export function sqliteError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

export const sqliteFull = (): Error => sqliteError('SQLITE_FULL', 'database or disk is full');

/** Resolves after the event loop has turned a few times (lets settled promises run their handlers). */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
}

/** A promise with its resolve function, for gates a test opens. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => {
    open = r;
  });
  return { promise, open };
}

/** Collects unhandled rejections while a test runs. */
export function watchUnhandled(t: { teardown: (fn: () => void) => void }): unknown[] {
  const seen: unknown[] = [];
  const on = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', on);
  t.teardown(() => {
    process.off('unhandledRejection', on);
  });
  return seen;
}
