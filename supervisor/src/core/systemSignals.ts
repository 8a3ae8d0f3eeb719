/**
 * The box's own resources as signals (pure: readings in, signals out). A reading
 * that failed is `unknown` with its cause; a machine without a temperature sensor
 * simply has no `system.cpuTemp` (the monitor decides that once, and says so).
 */
import type { Signal, SignalStatus } from './signal.js';

export interface Thresholds {
  warn: number;
  fail: number;
}

export type Reading<T> = { ok: true; value: T } | { ok: false; error: string };

export interface SystemReadings {
  cpuTempC?: Reading<number>;
  memory?: Reading<{ totalBytes: number; availableBytes: number }>;
  disks: Array<{ name: string; path: string; reading: Reading<{ totalBytes: number; availableBytes: number }> }>;
}

export interface SystemRules {
  cpuTemp: { warnC: number; failC: number };
  memoryPct: Thresholds;
  diskPct: Thresholds;
}

const MB = 1024 * 1024;
const round1 = (x: number) => Math.round(x * 10) / 10;

function level(value: number, th: Thresholds): SignalStatus {
  if (value >= th.fail) return 'fail';
  if (value >= th.warn) return 'warn';
  return 'ok';
}

/** Percent in use from total and available; a zero-sized total is not a reading. */
export function usedPct(totalBytes: number, availableBytes: number): number | null {
  if (!(totalBytes > 0) || availableBytes < 0) return null;
  return round1(((totalBytes - Math.min(availableBytes, totalBytes)) / totalBytes) * 100);
}

export function systemSignals(r: SystemReadings, rules: SystemRules, at: number, ttlMs: { fast: number; cpuTemp: number }, source = 'host'): Signal[] {
  const out: Signal[] = [];
  const base = { subsystem: 'system' as const, source, observedAt: at };
  if (r.cpuTempC) {
    const c = r.cpuTempC;
    out.push(
      c.ok
        ? {
            ...base,
            key: 'system.cpuTemp',
            status: level(c.value, { warn: rules.cpuTemp.warnC, fail: rules.cpuTemp.failC }),
            value: round1(c.value),
            unit: '°C',
            ttlMs: ttlMs.cpuTemp,
            detail: `warn ≥ ${rules.cpuTemp.warnC} °C, fail ≥ ${rules.cpuTemp.failC} °C`,
          }
        : {
            ...base,
            key: 'system.cpuTemp',
            status: 'unknown',
            value: null,
            unit: '°C',
            ttlMs: ttlMs.cpuTemp,
            detail: `reading the CPU temperature failed: ${c.error}`,
          },
    );
  }
  if (r.memory) {
    const m = r.memory;
    const pct = m.ok ? usedPct(m.value.totalBytes, m.value.availableBytes) : null;
    out.push(
      m.ok && pct !== null
        ? {
            ...base,
            key: 'system.memory',
            status: level(pct, rules.memoryPct),
            value: pct,
            unit: '%',
            ttlMs: ttlMs.fast,
            detail: `${Math.round(m.value.availableBytes / MB)} MB available of ${Math.round(m.value.totalBytes / MB)} MB`,
          }
        : {
            ...base,
            key: 'system.memory',
            status: 'unknown',
            value: null,
            unit: '%',
            ttlMs: ttlMs.fast,
            detail: m.ok ? 'the kernel reported a total memory of 0' : `reading memory failed: ${m.error}`,
          },
    );
  }
  for (const d of r.disks) {
    const key = `system.disk.${d.name}`;
    const pct = d.reading.ok ? usedPct(d.reading.value.totalBytes, d.reading.value.availableBytes) : null;
    if (d.reading.ok && pct !== null) {
      const free = Math.round(d.reading.value.availableBytes / MB);
      out.push({
        ...base,
        key,
        status: level(pct, rules.diskPct),
        value: pct,
        unit: '%',
        ttlMs: ttlMs.fast,
        detail: `${d.path}: ${free} MB free of ${Math.round(d.reading.value.totalBytes / MB)} MB`,
      });
    } else {
      out.push({
        ...base,
        key,
        status: 'unknown',
        value: null,
        unit: '%',
        ttlMs: ttlMs.fast,
        detail: d.reading.ok ? `${d.path}: the filesystem reports no size` : `${d.path}: ${d.reading.error} — does the path exist and is it mounted?`,
      });
    }
  }
  return out;
}
