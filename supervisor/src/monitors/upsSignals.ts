/**
 * Pure mapping from one `LIST VAR <ups>` snapshot to power signals.
 *
 * Only OL/OB say anything about mains. Everything else that stops us from
 * knowing (no answer, DATA-STALE, DRIVER-NOT-CONNECTED, WAIT, no ups.status)
 * is a monitoring fault: every signal of that UPS becomes `unknown` with the
 * cause in `detail` — never "on battery", never "ok".
 */
import { parseUpsStatus } from '../../../hardware/nut/status.js';
import type { Signal, SignalStatus, SignalValue } from '../core/signal.js';

/** The signals every UPS always has (mains state, LB and FSD come from ups.status). */
export const UPS_STATUS_KEYS = ['mains', 'lowBattery', 'fsd'] as const;
/** Measurements a UPS may or may not report; emitted only once seen. */
export const UPS_MEASUREMENT_KEYS = ['charge', 'runtime', 'inputVoltage', 'load'] as const;
export type UpsSignalName = (typeof UPS_STATUS_KEYS)[number] | (typeof UPS_MEASUREMENT_KEYS)[number];

interface Measurement {
  key: (typeof UPS_MEASUREMENT_KEYS)[number];
  variable: string;
  unit: string;
  /** NUT variable holding the UPS's own "low" threshold for this measurement, if any. */
  lowVariable?: string;
  /** At or above this value the status is warn (e.g. overload). */
  highWarn?: number;
}

const MEASUREMENTS: readonly Measurement[] = [
  { key: 'charge', variable: 'battery.charge', unit: '%', lowVariable: 'battery.charge.low' },
  { key: 'runtime', variable: 'battery.runtime', unit: 's', lowVariable: 'battery.runtime.low' },
  { key: 'inputVoltage', variable: 'input.voltage', unit: 'V' },
  { key: 'load', variable: 'ups.load', unit: '%', highWarn: 100 },
];

/** Every NUT variable the mapping reads; a reader may fetch just these. */
export const UPS_MONITOR_VARIABLES: readonly string[] = [
  'ups.status',
  ...MEASUREMENTS.flatMap((m) => (m.lowVariable ? [m.variable, m.lowVariable] : [m.variable])),
];

export interface UpsSignalContext {
  /** Key part: `power.<id>.mains`. */
  id: string;
  source: string;
  observedAt: number;
  ttlMs: number;
}

function make(ctx: UpsSignalContext, name: UpsSignalName, status: SignalStatus, value: SignalValue, unit?: string, detail?: string): Signal {
  const s: Signal = {
    subsystem: 'power',
    source: ctx.source,
    key: `power.${ctx.id}.${name}`,
    status,
    value,
    observedAt: ctx.observedAt,
    ttlMs: ctx.ttlMs,
  };
  if (unit !== undefined) s.unit = unit;
  if (detail !== undefined) s.detail = detail;
  return s;
}

/** Every given signal name of this UPS as `unknown`, the cause in `detail`. */
export function upsFaultSignals(ctx: UpsSignalContext, names: Iterable<UpsSignalName>, cause: string): Signal[] {
  return [...names].map((n) => make(ctx, n, 'unknown', null, undefined, cause));
}

/**
 * Signals for one snapshot. Returns either a full set of readings or, if the
 * snapshot cannot be trusted, a fault set covering `known` (names emitted
 * before) plus the three status signals.
 */
export function upsSignalsFromVars(ctx: UpsSignalContext, vars: ReadonlyMap<string, string>, known: ReadonlySet<UpsSignalName> = new Set()): Signal[] {
  const faultNames = new Set<UpsSignalName>([...UPS_STATUS_KEYS, ...known]);
  const raw = vars.get('ups.status');
  if (raw === undefined || raw.trim() === '') {
    return upsFaultSignals(ctx, faultNames, `upsd reported no ups.status for ${ctx.id} — driver not delivering data`);
  }
  const st = parseUpsStatus(raw);
  if (st.waiting) {
    return upsFaultSignals(ctx, faultNames, `upsd reports ups.status "${raw}" for ${ctx.id}: the driver is (re)starting and has delivered no data yet`);
  }
  const out: Signal[] = [];
  const statusDetail = `ups.status "${raw}"`;
  if (st.onBattery) {
    out.push(make(ctx, 'mains', 'warn', 'battery', undefined, statusDetail));
  } else if (st.online) {
    const bypass = st.flags.has('BYPASS');
    out.push(make(ctx, 'mains', bypass ? 'warn' : 'ok', 'online', undefined, bypass ? `${statusDetail}: on bypass, load not protected` : statusDetail));
  } else {
    out.push(make(ctx, 'mains', 'unknown', null, undefined, `${statusDetail} has neither OL nor OB — mains state not reported`));
  }
  out.push(make(ctx, 'lowBattery', st.lowBattery ? 'fail' : 'ok', st.lowBattery, undefined, statusDetail));
  out.push(make(ctx, 'fsd', st.fsd ? 'fail' : 'ok', st.fsd, undefined, statusDetail));

  for (const m of MEASUREMENTS) {
    const text = vars.get(m.variable);
    if (text === undefined) {
      if (known.has(m.key)) {
        out.push(make(ctx, m.key, 'unknown', null, m.unit, `${m.variable} was reported before and is missing now`));
      }
      continue;
    }
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) {
      out.push(make(ctx, m.key, 'unknown', null, m.unit, `${m.variable} "${text}" is not a number`));
      continue;
    }
    let status: SignalStatus = 'ok';
    let detail: string | undefined;
    const low = m.lowVariable ? Number(vars.get(m.lowVariable)) : Number.NaN;
    if (Number.isFinite(low) && value <= low) {
      status = 'warn';
      detail = `${m.variable} ${value} ≤ ${m.lowVariable} ${low}`;
    }
    if (m.highWarn !== undefined && (value >= m.highWarn || (m.key === 'load' && st.overload))) {
      status = 'warn';
      detail = `${m.variable} ${value}${st.overload ? ' (OVER)' : ''}: overload`;
    }
    out.push(make(ctx, m.key, status, value, m.unit, detail));
  }
  return out;
}
