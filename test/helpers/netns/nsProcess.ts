/**
 * A long-running process inside a network namespace (`ip netns exec` execs in place,
 * so the pid we hold is the service's own). Waits for a ready line, keeps the
 * stdout lines, and is killed by pid on stop (SIGTERM, then SIGKILL).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

export interface NsProcessOptions {
  ns: string;
  cmd: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolve start() when a stdout or stderr line matches. */
  ready: RegExp;
  readyTimeoutMs?: number;
  label: string;
}

export class NsProcess extends EventEmitter {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  private stderrTail = '';
  private exited = false;
  private readonly exitPromise: Promise<void>;

  private constructor(readonly opts: NsProcessOptions) {
    super();
    // stdin is a pipe we never write: our helpers (responder, monitor child, delay shim)
    // exit when it closes, so they die with a crashed test process instead of lingering.
    this.child = spawn('ip', ['netns', 'exec', opts.ns, opts.cmd, ...opts.args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...(opts.env ?? process.env), VAKTPOST_EXIT_ON_STDIN_EOF: '1' },
      ...(opts.cwd !== undefined ? { cwd: opts.cwd } : {}),
    });
    this.exitPromise = new Promise((r) => {
      this.child.once('exit', () => {
        this.exited = true;
        this.emit('exit');
        r();
      });
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      this.lines.push(l);
      this.emit('line', l);
    });
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
      this.stderrTail = `${this.stderrTail}${l}\n`.slice(-4000);
      this.emit('stderr', l);
    });
  }

  static async start(opts: NsProcessOptions): Promise<NsProcess> {
    const p = new NsProcess(opts);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${opts.label} in ${opts.ns} not ready within ${opts.readyTimeoutMs ?? 30_000} ms; stderr: ${p.stderrTail.trim()}`));
      }, opts.readyTimeoutMs ?? 30_000);
      const onLine = (l: string) => {
        if (opts.ready.test(l)) {
          cleanup();
          resolve();
        }
      };
      const onExit = () => {
        cleanup();
        reject(new Error(`${opts.label} in ${opts.ns} exited before it was ready (code ${p.child.exitCode}); stderr: ${p.stderrTail.trim()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        p.off('line', onLine);
        p.off('stderr', onLine);
        p.off('exit', onExit);
      };
      p.on('line', onLine);
      p.on('stderr', onLine);
      p.on('exit', onExit);
    }).catch(async (e: unknown) => {
      await p.stop();
      throw e;
    });
    return p;
  }

  get alive(): boolean {
    return !this.exited;
  }

  get stderr(): string {
    return this.stderrTail;
  }

  async stop(graceMs = 2000): Promise<void> {
    if (this.exited || this.child.pid === undefined) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, graceMs);
    await this.exitPromise;
    clearTimeout(t);
  }
}
