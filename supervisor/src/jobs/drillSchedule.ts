/**
 * The daily drill on a schedule (node-cron), only inside the agreed quiet window.
 * Outside the window the scheduled run is skipped and the reason recorded, so a
 * missing drill is always explained.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Supervisor } from '../supervisor.js';
import type { Drill } from './drill.js';

export interface DrillScheduleConfig {
  enabled: boolean;
  schedule: string;
  quietTime: { start: string; end: string };
}

const minutes = (hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Is local time `d` inside [start, end)? `start` > `end` wraps past midnight. */
export function inQuietWindow(d: Date, window: { start: string; end: string }): boolean {
  const now = d.getHours() * 60 + d.getMinutes();
  const s = minutes(window.start);
  const e = minutes(window.end);
  return s <= e ? now >= s && now < e : now >= s || now < e;
}

export function scheduleDrill(cfg: DrillScheduleConfig, drill: Drill, sup: Supervisor, now: () => number): ScheduledTask | null {
  if (!cfg.enabled) return null;
  if (!cron.validate(cfg.schedule)) throw new Error(`calls.drill.schedule "${cfg.schedule}" is not a valid cron expression`);
  return cron.schedule(cfg.schedule, async () => {
    const at = new Date(now());
    if (!inQuietWindow(at, cfg.quietTime)) {
      sup.event({
        kind: 'drill.skipped',
        severity: 'warn',
        subsystem: 'telephony',
        actor: 'schedule',
        en: `Scheduled drill skipped: ${at.toTimeString().slice(0, 5)} is outside the quiet window ${cfg.quietTime.start}–${cfg.quietTime.end}`,
        nb: `Planlagt øvelse hoppet over: ${at.toTimeString().slice(0, 5)} er utenfor rolig periode ${cfg.quietTime.start}–${cfg.quietTime.end}`,
      });
      return;
    }
    await drill.run('schedule');
  });
}
