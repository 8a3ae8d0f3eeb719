import { type Logger, pino } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout (journald picks them up on the box). */
export function createLogger(level: string = process.env.VAKTPOST_LOG_LEVEL ?? 'info'): Logger {
  return pino({ level, base: { app: 'vaktpost' }, timestamp: pino.stdTimeFunctions.isoTime });
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
