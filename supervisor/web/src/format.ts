/** Times, durations and values as people in the centre read them (24-hour clock, local time). */
import { getLang, t } from './i18n.js';
import type { EffectiveSignal } from './wire.js';

const locale = () => (getLang() === 'nb' ? 'nb-NO' : 'en-GB');

export function fmtTime(ms: number): string {
  return new Date(ms).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

/** Time of day, with the date when it is not today. */
export function fmtWhen(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const sameDay = d.toDateString() === new Date(now).toDateString();
  if (sameDay) return fmtTime(ms);
  return `${d.toLocaleDateString(locale(), { day: '2-digit', month: '2-digit', year: 'numeric' })} ${fmtTime(ms)}`;
}

export function fmtDateTime(ms: number): string {
  const d = new Date(ms);
  return `${d.toLocaleDateString(locale(), { day: '2-digit', month: '2-digit', year: 'numeric' })} ${fmtTime(ms)}`;
}

/** ISO 8601 with offset, for exports (unambiguous across time zones and DST). */
export function isoLocal(ms: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const pad = (n: number, w = 2) => String(Math.trunc(Math.abs(n))).padStart(w, '0');
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}` +
    `${off >= 0 ? '+' : '-'}${pad(off / 60)}:${pad(off % 60)}`
  );
}

export function fmtDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return t('dur.s', { n: s });
  const m = Math.floor(s / 60);
  if (m < 60) return t('dur.m', { n: m });
  const h = Math.floor(m / 60);
  if (h < 24) return t('dur.h', { h, m: m % 60 });
  return t('dur.d', { d: Math.floor(h / 24), h: h % 24 });
}

export function fmtNumber(v: number, digits?: number): string {
  const abs = Math.abs(v);
  const d = digits ?? (abs === 0 || abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 4);
  return v.toLocaleString(locale(), { maximumFractionDigits: d, minimumFractionDigits: 0 });
}

export function fmtValue(s: Pick<EffectiveSignal, 'value' | 'unit'>): string {
  if (s.value === null) return '—';
  if (typeof s.value === 'number') return `${fmtNumber(s.value)}${s.unit ? ` ${s.unit}` : ''}`;
  if (typeof s.value === 'boolean') return s.value ? t('yes') : t('no');
  return s.value;
}
