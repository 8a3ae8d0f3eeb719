/**
 * Mains-present sense and the UPS's dry contacts on GPIO → power signals:
 * `power.gpio.mains` ('online' | 'battery'), `power.gpio.onBattery`,
 * `power.gpio.lowBattery`. These are independent of NUT on purpose: a UPS
 * whose USB link or driver died still closes its relay contacts.
 * A line that cannot be opened or read is a sensor fault (`unknown` with the
 * cause); opening is retried, so a freed or re-plugged line comes back.
 */
import { SenseInput } from '../../../hardware/gpio/input.js';
import type { GpioBackend, Level } from '../../../hardware/gpio/types.js';
import type { GpioConfig, GpioInputConfig } from '../config/power.js';
import type { Signal, SignalStatus, SignalValue } from '../core/signal.js';
import { lineSpecFor } from './gpioLines.js';
import { type Clock, type Monitor, type SignalSink, systemClock, systemTimers, type TimerHandle, type Timers, timersOf } from './monitor.js';

export type GpioSenseName = 'mains' | 'onBattery' | 'lowBattery';

export interface GpioMonitorOptions {
  gpio: GpioConfig;
  backend: GpioBackend;
  clock?: Clock;
  /** Signal source; default `gpio:<backend kind>`. */
  source?: string;
}

/** What a logical level means for each input. */
const MEANING: Record<GpioSenseName, (level: Level) => { status: SignalStatus; value: SignalValue; detail: string }> = {
  mains: (l) =>
    l === 1 ? { status: 'ok', value: 'online', detail: 'mains sense: present' } : { status: 'warn', value: 'battery', detail: 'mains sense: absent' },
  onBattery: (l) =>
    l === 1 ? { status: 'warn', value: true, detail: 'UPS contact: on battery' } : { status: 'ok', value: false, detail: 'UPS contact: on line' },
  lowBattery: (l) =>
    l === 1 ? { status: 'fail', value: true, detail: 'UPS contact: low battery' } : { status: 'ok', value: false, detail: 'UPS contact: battery ok' },
};

interface Sense {
  name: GpioSenseName;
  pin: GpioInputConfig;
  input: SenseInput | null;
  retry: TimerHandle | null;
}

export class GpioMonitor implements Monitor {
  readonly name = 'gpio';
  private readonly clock: Clock;
  private readonly source: string;
  private senses: Sense[] = [];
  private emit: SignalSink = () => undefined;
  private running = false;
  private readonly timers: Timers;

  constructor(private readonly opts: GpioMonitorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.timers = timersOf(opts.clock) ?? systemTimers;
    this.source = opts.source ?? `gpio:${opts.backend.kind}`;
  }

  async start(emit: SignalSink): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.emit = emit;
    const { gpio } = this.opts;
    if (!gpio.enabled) return;
    this.senses = (['mains', 'onBattery', 'lowBattery'] as const).flatMap((name) => {
      const pin = gpio.inputs[name];
      return pin ? [{ name, pin, input: null, retry: null }] : [];
    });
    await Promise.all(this.senses.map((s) => this.open(s)));
  }

  async stop(): Promise<void> {
    this.running = false;
    const senses = this.senses;
    this.senses = [];
    for (const s of senses) if (s.retry) this.timers.clearTimeout(s.retry);
    await Promise.all(senses.map((s) => s.input?.close()));
  }

  private async open(s: Sense): Promise<void> {
    s.retry = null;
    const spec = lineSpecFor(s.name, s.pin, this.opts.gpio);
    try {
      const input = await SenseInput.open(this.opts.backend, spec, { debounceMs: s.pin.debounceMs, rereadMs: s.pin.rereadMs });
      if (!this.running) {
        await input.close();
        return;
      }
      s.input = input;
      const report = () => this.report(s);
      input.on('change', report);
      input.on('fault', report);
      input.on('recovered', report);
      // Each periodic re-read refreshes the signal's ttl.
      input.on('sample', report);
      report();
    } catch (e) {
      this.emitSignal(s, 'unknown', null, `sensor fault: ${(e as Error).message}`);
      // Retry opening at the re-read pace (at least 1 s: opening touches sysfs exports).
      if (this.running) s.retry = this.timers.setTimeout(() => void this.open(s), Math.max(1000, s.pin.rereadMs));
    }
  }

  private report(s: Sense): void {
    const st = s.input?.state;
    if (!st) return;
    if (st.fault !== null) {
      this.emitSignal(s, 'unknown', null, `sensor fault: ${st.fault}`);
    } else if (st.level === null) {
      this.emitSignal(s, 'unknown', null, 'sensor fault: no reading yet');
    } else {
      const m = MEANING[s.name](st.level);
      this.emitSignal(s, m.status, m.value, m.detail);
    }
  }

  private emitSignal(s: Sense, status: SignalStatus, value: SignalValue, detail: string): void {
    const signal: Signal = {
      subsystem: 'power',
      source: this.source,
      key: `power.gpio.${s.name}`,
      status,
      value,
      observedAt: this.clock.now(),
      // Refreshed on every re-read; three missed re-reads and the fact is stale.
      ttlMs: 3 * s.pin.rereadMs,
      detail,
    };
    try {
      this.emit(signal);
    } catch {
      // The sink must not throw (monitor.ts); keep sensing regardless.
    }
  }
}
