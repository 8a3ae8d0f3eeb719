/**
 * How `vaktpost apply` makes a daemon load the files it changed. An interface so the
 * apply tests can record what would be reloaded; the real one asks systemd.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface UnitControl {
  /** Why units are not reloaded here (printed instead), or null when they are. */
  readonly unavailable: string | null;
  /** Reload the unit if it can reload, else restart it (starts it when stopped). Rejects with systemctl's words. */
  reloadOrRestart(unit: string): Promise<void>;
}

/**
 * systemd's own test for "booted with systemd" (sd_booted(3)): this directory exists only
 * when systemd is PID 1. In a container or a build chroot there is no one to ask.
 */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

export class SystemctlUnitControl implements UnitControl {
  readonly unavailable: string | null;

  constructor(opts: { systemctl?: string; timeoutMs?: number } = {}) {
    this.systemctl = opts.systemctl ?? 'systemctl';
    this.timeoutMs = opts.timeoutMs ?? 90_000;
    this.unavailable = systemdRunning() ? null : 'systemd is not PID 1 here';
  }

  private readonly systemctl: string;
  private readonly timeoutMs: number;

  reloadOrRestart(unit: string): Promise<void> {
    return new Promise((resolve, reject) => {
      execFile(this.systemctl, ['reload-or-restart', unit], { timeout: this.timeoutMs }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`systemctl reload-or-restart ${unit} failed: ${stderr.trim() || err.message} — see journalctl -u ${unit}`));
        else resolve();
      });
    });
  }
}

/** Never reloads; says why (--no-reload, --root, --dry-run). */
export class NoUnitControl implements UnitControl {
  constructor(readonly unavailable: string) {}
  reloadOrRestart(unit: string): Promise<void> {
    return Promise.reject(new Error(`${unit}: units are not reloaded here (${this.unavailable})`));
  }
}
