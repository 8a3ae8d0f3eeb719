/** Collects monitor signals for the time tests: latest per key, full history, and awaiting a condition. */
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { waitFor } from '../../helpers/util.js';

export class SignalLog {
  readonly history: Array<Signal & { mono: number }> = [];
  private readonly latest = new Map<string, Signal>();

  readonly sink = (s: Signal): void => {
    this.history.push({ ...s, mono: performance.now() });
    this.latest.set(s.key, s);
  };

  get(key: string): Signal | undefined {
    return this.latest.get(key);
  }

  status(key: string): string | undefined {
    return this.latest.get(key)?.status;
  }

  /** Resolves with the first signal (from now on) for `key` matching `pred`. */
  async next(key: string, pred: (s: Signal) => boolean, timeoutMs: number, what: string): Promise<Signal & { mono: number }> {
    const from = this.history.length;
    return waitFor(
      () => {
        for (let i = from; i < this.history.length; i++) {
          const s = this.history[i];
          if (s && s.key === key && pred(s)) return s;
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 25, what },
    );
  }

  /** Statuses of `key` observed after monotonic time `sinceMono`, with consecutive repeats folded. */
  transitions(key: string, sinceMono: number): string[] {
    const out: string[] = [];
    for (const s of this.history) {
      if (s.key !== key || s.mono < sinceMono) continue;
      if (out.at(-1) !== s.status) out.push(s.status);
    }
    return out;
  }
}
