/**
 * Tells systemd how the supervisor is (sd_notify): READY=1 once started, WATCHDOG=1 after
 * decision ticks, STATUS= with where calls go, STOPPING=1 on the way down.
 *
 * Node has no unix datagram sockets, so each message is sent by running `systemd-notify`
 * (a child of this process, hence `NotifyAccess=all` in ops/systemd/vaktpost.service).
 * systemd-notify waits until systemd has processed the message (its barrier), so the
 * message is never lost to "sender already gone".
 *
 * Guarantees:
 *  - Without NOTIFY_SOCKET (make run, tests, the CLI) nothing is created and nothing runs.
 *  - WATCHDOG=1 is sent only from `tick()`, i.e. after a decision tick that ran to the end,
 *    never from a timer of its own: a frozen, stopped or starved event loop sends nothing
 *    and systemd's watchdog (WatchdogSec=) kills and restarts the process.
 *  - At most one WATCHDOG=1 per interval: a third of WATCHDOG_USEC (systemd's advice),
 *    or `watchdogEveryMs`. Without WATCHDOG_USEC, or when WATCHDOG_PID names another
 *    process, no WATCHDOG=1 is sent at all.
 *  - STATUS= is one line, sent when it changes (with the next message, never on its own
 *    more than once per interval).
 *  - At most one systemd-notify runs at a time; what arrives meanwhile is merged into the
 *    next one. A failing systemd-notify never throws: it is logged, once per kind of failure.
 */
import { spawn } from 'node:child_process';

export interface NotifyLog {
  warn(obj: object, msg: string): void;
}

export interface SystemdNotifier {
  /** READY=1 (and the first STATUS=): every component has started. */
  ready(status: string): void;
  /** A decision tick ran to the end: WATCHDOG=1 if the interval is due, STATUS= if changed. */
  tick(status: string): void;
  /** STOPPING=1: systemd then expects no more pings. */
  stopping(status: string): void;
  /** Resolves when no systemd-notify is running or waiting (for an orderly exit and tests). */
  idle(): Promise<void>;
}

export interface SystemdNotifyOptions {
  env: NodeJS.ProcessEnv;
  log: NotifyLog;
  /** Monotonic milliseconds (tests give their own). */
  now?: () => number;
  /** Overrides WATCHDOG_USEC / 3. */
  watchdogEveryMs?: number;
  /** The systemd-notify binary (default: found on PATH). */
  binary?: string;
}

interface Pending {
  ready: boolean;
  watchdog: boolean;
  stopping: boolean;
  status: string | null;
}

/** null unless this process was started by systemd with a notify socket. */
export function systemdNotifier(o: SystemdNotifyOptions): SystemdNotifier | null {
  if (!o.env.NOTIFY_SOCKET) return null;
  const now = o.now ?? (() => performance.now());
  const watchdogPid = o.env.WATCHDOG_PID ? Number(o.env.WATCHDOG_PID) : process.pid;
  const usec = Number(o.env.WATCHDOG_USEC);
  const everyMs = o.watchdogEveryMs ?? (Number.isFinite(usec) && usec > 0 && watchdogPid === process.pid ? usec / 1000 / 3 : null);
  const binary = o.binary ?? 'systemd-notify';
  let lastPingAt = Number.NEGATIVE_INFINITY;
  let lastStatus: string | null = null;
  let stopped = false;
  let pending: Pending | null = null;
  let running: Promise<void> | null = null;
  const failuresLogged = new Set<string>();

  const fail = (kind: string, detail: string) => {
    if (failuresLogged.has(kind)) return;
    failuresLogged.add(kind);
    o.log.warn({ detail }, `systemd-notify failed (${kind}): systemd may not see that Vaktpost is ready or alive — ${detail}`);
  };

  const runOne = (p: Pending): Promise<void> =>
    new Promise<void>((resolve) => {
      const args = [
        ...(p.ready ? ['READY=1'] : []),
        ...(p.stopping ? ['STOPPING=1'] : []),
        ...(p.watchdog ? ['WATCHDOG=1'] : []),
        ...(p.status !== null ? [`STATUS=${p.status}`] : []),
      ];
      const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'], env: o.env });
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        if (err.length < 2000) err += d.toString();
      });
      child.once('error', (e) => {
        fail('spawn', `${binary}: ${e.message} (Debian package systemd)`);
        resolve();
      });
      child.once('close', (code) => {
        if (code !== 0 && code !== null) fail(`exit ${code}`, err.trim() || `${binary} exited ${code}`);
        resolve();
      });
    });

  const pump = () => {
    if (running || !pending) return;
    const p = pending;
    pending = null;
    running = runOne(p).then(() => {
      running = null;
      pump();
    });
  };

  const queue = (add: Partial<Pending>) => {
    const p: Pending = pending ?? { ready: false, watchdog: false, stopping: false, status: null };
    pending = {
      ready: p.ready || add.ready === true,
      watchdog: p.watchdog || add.watchdog === true,
      stopping: p.stopping || add.stopping === true,
      status: add.status ?? p.status,
    };
    pump();
  };

  const statusIfChanged = (status: string): string | undefined => {
    const line = status.replace(/[\r\n]+/g, ' ');
    if (line === lastStatus) return undefined;
    lastStatus = line;
    return line;
  };

  return {
    ready(status) {
      if (stopped) return;
      const s = statusIfChanged(status);
      queue({ ready: true, ...(s !== undefined ? { status: s } : {}) });
    },
    tick(status) {
      if (stopped) return;
      const t = now();
      const due = everyMs !== null && t - lastPingAt >= everyMs;
      // A changed status waits for the next due ping: a flapping line must not spawn a process per tick.
      const dueStatus = everyMs === null ? t - lastPingAt >= 1000 : due;
      if (!due && !dueStatus) return;
      lastPingAt = t;
      const s = statusIfChanged(status);
      if (!due && s === undefined) return;
      queue({ watchdog: due, ...(s !== undefined ? { status: s } : {}) });
    },
    stopping(status) {
      if (stopped) return;
      stopped = true;
      queue({ stopping: true, status: status.replace(/[\r\n]+/g, ' ') });
    },
    async idle() {
      while (running || pending) {
        pump();
        await running;
      }
    },
  };
}

/** The one-line STATUS= shown by `systemctl status vaktpost`: where calls go and why not elsewhere. */
export function serviceStatusLine(s: { route: string; mode: string; callPath: string }): string {
  return `route ${s.route}, mode ${s.mode}, call path ${s.callPath} (rute ${s.route === 'local' ? 'lokal' : s.route === 'backup' ? 'reserve' : s.route}, modus ${s.mode})`;
}
