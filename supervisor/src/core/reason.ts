import type { Subsystem } from './signal.js';

/** Why the box is in its current state. Text in Norwegian bokmål and English. */
export interface Reason {
  code: string;
  subsystem: Subsystem | 'policy';
  /** Keys of the signals that caused it. */
  signals: string[];
  nb: string;
  en: string;
}

export function reason(code: string, subsystem: Reason['subsystem'], signals: string[], nb: string, en: string): Reason {
  return { code, subsystem, signals, nb, en };
}

/** A stable identity for a set of reasons (to notice when "why" changes). */
export function reasonsKey(reasons: readonly Reason[]): string {
  return reasons
    .map((r) => `${r.code}:${r.signals.join(',')}`)
    .sort()
    .join('|');
}
