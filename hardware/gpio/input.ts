/**
 * A sense input (mains present, UPS "on battery", UPS "low battery") on top
 * of a raw GPIO line:
 *
 * - active-low: the logical level is inverted from the electrical one;
 * - debounce: a new level counts only after no edge for `debounceMs` and a
 *   confirming read still shows it (a bouncing relay contact yields one change);
 * - re-read every `rereadMs`: an edge the kernel lost is still caught, and a
 *   line that stops answering becomes a fault;
 * - faults (open or read errors) are reported as such, never as a level.
 */
import { EventEmitter } from 'node:events';
import { describeLine, type GpioBackend, type Level, type LineSpec, type RawInput } from './types.js';

export interface SenseInputOptions {
  debounceMs: number;
  rereadMs: number;
}

export interface SenseInputState {
  /** Debounced logical level; null before the first good read. */
  level: Level | null;
  /** Why the line cannot be trusted right now, or null. */
  fault: string | null;
}

export interface SenseInputEvents {
  change: [level: Level];
  fault: [detail: string];
  recovered: [];
  /** Every completed periodic re-read (a heartbeat for monitors). */
  sample: [];
}

export class SenseInput extends EventEmitter<SenseInputEvents> {
  private stable: Level | null = null;
  private candidate: Level | null = null;
  private debounceTimer: NodeJS.Timeout | null = null;
  private rereadTimer: NodeJS.Timeout | null = null;
  private faultDetail: string | null = null;
  private closed = false;

  private constructor(
    readonly spec: LineSpec,
    private readonly raw: RawInput,
    private readonly opts: SenseInputOptions,
  ) {
    super();
  }

  /** Open, read the initial level, start watching. Rejects (GpioError) if the line cannot be opened or read. */
  static async open(backend: GpioBackend, spec: LineSpec, opts: SenseInputOptions): Promise<SenseInput> {
    const raw = await backend.openInput(spec);
    const input = new SenseInput(spec, raw, opts);
    try {
      input.stable = input.logical(await raw.read());
    } catch (e) {
      await raw.close().catch(() => undefined);
      throw e;
    }
    raw.watch((level) => input.onSample(input.logical(level), true));
    input.rereadTimer = setInterval(() => void input.reread(), opts.rereadMs);
    return input;
  }

  get state(): SenseInputState {
    return { level: this.stable, fault: this.faultDetail };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    if (this.rereadTimer) clearInterval(this.rereadTimer);
    await this.raw.close();
  }

  private logical(electrical: Level): Level {
    return this.spec.activeLow ? ((1 - electrical) as Level) : electrical;
  }

  /** A level seen by an edge (`fromEdge`) or by a periodic re-read. */
  private onSample(level: Level, fromEdge: boolean): void {
    if (this.closed) return;
    if (level === this.stable) {
      // Bounced back (or never left): whatever was pending is cancelled.
      this.cancelCandidate();
      return;
    }
    // Every edge restarts the quiet period; a re-read only starts one if none is pending.
    if (!fromEdge && this.candidate === level) return;
    this.cancelCandidate();
    this.candidate = level;
    this.debounceTimer = setTimeout(() => void this.confirm(), this.opts.debounceMs);
  }

  private cancelCandidate(): void {
    if (this.debounceTimer) clearTimeout(this.debounceTimer);
    this.debounceTimer = null;
    this.candidate = null;
  }

  /** The quiet period is over: commit only if a fresh read still shows the new level. */
  private async confirm(): Promise<void> {
    this.debounceTimer = null;
    const want = this.candidate;
    if (want === null || this.closed) return;
    const now = await this.readLevel();
    if (now === null || this.closed || this.candidate !== want) return;
    this.candidate = null;
    if (now === want) {
      this.stable = want;
      this.emit('change', want);
    }
  }

  private async reread(): Promise<void> {
    const level = await this.readLevel();
    if (level !== null) this.onSample(level, false);
    if (!this.closed) this.emit('sample');
  }

  /** Read and track fault/recovery; null on failure. */
  private async readLevel(): Promise<Level | null> {
    try {
      const level = this.logical(await this.raw.read());
      if (this.faultDetail !== null) {
        this.faultDetail = null;
        this.emit('recovered');
      }
      return level;
    } catch (e) {
      const detail = e instanceof Error && e.message.includes('GPIO') ? e.message : `${describeLine(this.spec)}: read failed: ${String(e)}`;
      if (this.faultDetail !== detail) {
        this.faultDetail = detail;
        this.emit('fault', detail);
      }
      return null;
    }
  }
}
