/**
 * Parent side of monitorChild.ts: starts the real monitors in the box namespace and
 * lets a test await signals (event-driven, with a deadline — no fixed sleeps).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WanConfigInput } from '../../../supervisor/src/config/wan.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { NsProcess } from './nsProcess.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '../../..');

export interface TimedSignal {
  /** Epoch ms when the child emitted it. */
  t: number;
  signal: Signal;
}

export class MonitorProcess {
  readonly signals: TimedSignal[] = [];
  private readonly latestByKey = new Map<string, TimedSignal>();

  private constructor(readonly proc: NsProcess) {
    for (const l of proc.lines) this.take(l);
    proc.on('line', (l: string) => this.take(l));
  }

  static async start(ns: string, config: WanConfigInput, opts: { centres?: boolean; label?: string } = {}): Promise<MonitorProcess> {
    const proc = await NsProcess.start({
      ns,
      cmd: process.execPath,
      args: ['--import', 'tsx', path.join(HERE, 'monitorChild.ts')],
      cwd: REPO_ROOT,
      env: { ...process.env, VAKTPOST_WAN_CONFIG: JSON.stringify(config), VAKTPOST_CENTRES: opts.centres ? '1' : '0' },
      ready: /"ready":true/,
      readyTimeoutMs: 30_000,
      label: opts.label ?? 'WAN monitor',
    });
    return new MonitorProcess(proc);
  }

  private take(line: string): void {
    if (!line.startsWith('{"t"')) return;
    const ts = JSON.parse(line) as TimedSignal;
    this.signals.push(ts);
    this.latestByKey.set(ts.signal.key, ts);
    this.proc.emit('signal', ts);
  }

  latest(key: string): Signal | undefined {
    return this.latestByKey.get(key)?.signal;
  }

  /** Signals for `key` emitted at or after `since` (epoch ms). */
  history(key: string, since = 0): TimedSignal[] {
    return this.signals.filter((s) => s.signal.key === key && s.t >= since);
  }

  /** Wait for a signal (already seen since `since`, or arriving) that matches. */
  waitFor(match: (s: Signal) => boolean, opts: { timeoutMs: number; what: string; since?: number }): Promise<TimedSignal> {
    const since = opts.since ?? 0;
    const seen = this.signals.find((s) => s.t >= since && match(s.signal));
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        const now = [...this.latestByKey.values()].map((s) => `${s.signal.key}=${s.signal.status}`).join(' ');
        reject(new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}; latest: ${now}; monitor stderr: ${this.proc.stderr.trim()}`));
      }, opts.timeoutMs);
      const onSignal = (s: TimedSignal) => {
        if (s.t >= since && match(s.signal)) {
          cleanup();
          resolve(s);
        }
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`the monitor process exited while waiting for ${opts.what}: ${this.proc.stderr.trim()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.proc.off('signal', onSignal);
        this.proc.off('exit', onExit);
      };
      this.proc.on('signal', onSignal);
      this.proc.on('exit', onExit);
    });
  }

  /** Wait until `key` has status `status` (since `since`). */
  waitStatus(key: string, status: Signal['status'], opts: { timeoutMs: number; since?: number }): Promise<TimedSignal> {
    return this.waitFor((s) => s.key === key && s.status === status, {
      ...opts,
      what: `${key} to be ${status}`,
    });
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}
