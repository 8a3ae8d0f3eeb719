/**
 * An in-memory GPIO backend for tests and the simulated box. It models the
 * electrical level of each line and what the kernel would report: edges
 * (which a test can make the "kernel" lose), reads, and lines that cannot be
 * opened or read.
 */
import { describeLine, type GpioBackend, GpioError, type Level, type LineSpec, type RawInput, type RawOutput } from './types.js';

interface FakeLine {
  level: Level;
  watchers: Set<(level: Level) => void>;
  direction: 'in' | 'out' | null;
  /** Every level written to an output, in order. */
  writes: Level[];
}

const keyOf = (chipLabel: string, line: number) => `${chipLabel}/${line}`;

export class FakeGpioBackend implements GpioBackend {
  readonly kind = 'fake';
  private readonly lines = new Map<string, FakeLine>();
  private readonly unopenable = new Map<string, string>();
  private readonly unreadable = new Map<string, string>();
  /** How many reads each line has seen (tests check re-reading). */
  readonly readCount = new Map<string, number>();

  private get(chipLabel: string, line: number): FakeLine {
    const k = keyOf(chipLabel, line);
    let l = this.lines.get(k);
    if (!l) {
      l = { level: 0, watchers: new Set(), direction: null, writes: [] };
      this.lines.set(k, l);
    }
    return l;
  }

  /** Set the electrical level at the pin. `edge: false` models an edge the kernel lost. */
  setLevel(chipLabel: string, line: number, level: Level, opts: { edge?: boolean } = {}): void {
    const l = this.get(chipLabel, line);
    if (l.level === level) return;
    l.level = level;
    if (opts.edge === false) return;
    for (const w of [...l.watchers]) w(level);
  }

  level(chipLabel: string, line: number): Level {
    return this.get(chipLabel, line).level;
  }

  writes(chipLabel: string, line: number): readonly Level[] {
    return this.get(chipLabel, line).writes;
  }

  /** Opening this line fails (no such line, busy, permission) with `reason`. */
  failOpen(chipLabel: string, line: number, reason: string): void {
    this.unopenable.set(keyOf(chipLabel, line), reason);
  }

  /** Reads of this line fail from now on (`reason`), or work again (`null`). */
  failReads(chipLabel: string, line: number, reason: string | null): void {
    if (reason === null) this.unreadable.delete(keyOf(chipLabel, line));
    else this.unreadable.set(keyOf(chipLabel, line), reason);
  }

  private check(spec: LineSpec): FakeLine {
    const why = this.unopenable.get(keyOf(spec.chipLabel, spec.line));
    if (why !== undefined) throw new GpioError(spec, `${describeLine(spec)}: cannot open: ${why}`);
    return this.get(spec.chipLabel, spec.line);
  }

  private read(spec: LineSpec, l: FakeLine): Promise<Level> {
    const k = keyOf(spec.chipLabel, spec.line);
    this.readCount.set(k, (this.readCount.get(k) ?? 0) + 1);
    const why = this.unreadable.get(k);
    if (why !== undefined) return Promise.reject(new GpioError(spec, `${describeLine(spec)}: read failed: ${why}`));
    return Promise.resolve(l.level);
  }

  async openInput(spec: LineSpec): Promise<RawInput> {
    const l = this.check(spec);
    l.direction = 'in';
    const mine = new Set<(level: Level) => void>();
    return {
      read: () => this.read(spec, l),
      watch: (onEdge) => {
        mine.add(onEdge);
        l.watchers.add(onEdge);
      },
      close: async () => {
        for (const w of mine) l.watchers.delete(w);
      },
    };
  }

  async openOutput(spec: LineSpec, initial: Level): Promise<RawOutput> {
    const l = this.check(spec);
    l.direction = 'out';
    l.level = initial;
    l.writes.push(initial);
    return {
      write: async (level) => {
        const why = this.unreadable.get(keyOf(spec.chipLabel, spec.line));
        if (why !== undefined) throw new GpioError(spec, `${describeLine(spec)}: write failed: ${why}`);
        l.writes.push(level);
        this.setLevel(spec.chipLabel, spec.line, level);
      },
      read: () => this.read(spec, l),
      close: async () => undefined,
    };
  }
}
