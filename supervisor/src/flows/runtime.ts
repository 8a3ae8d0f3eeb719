/**
 * Keeps the live Node-RED child running: starts it with the current flows, watches
 * it (exit, heartbeat), restarts it with exponential backoff, and says so — every
 * lifecycle fault is an alarm event. Whether its answers are used is the advisor's
 * business (advisor.ts); this class only knows whether the child is there.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { Clock } from '../monitors/monitor.js';
import type { EventInput } from '../store/store.js';
import type { FlowsIdentity } from './identity.js';
import { FlowsProcess } from './process.js';
import type { ChildToHost, EvalInput } from './protocol.js';

export type RuntimeState = 'off' | 'starting' | 'running' | 'deploying' | 'stopped' | 'crashed' | 'hung' | 'stopping';

export interface RuntimeStatus {
  state: RuntimeState;
  /** Epoch ms when this state began. */
  since: number;
  detail: string;
  pid: number | null;
  restarts: number;
  nextRestartAt: number | null;
  rssBytes: number | null;
  nodeRed: string | null;
  rev: string | null;
}

export type FlowsEventSink = (e: Omit<EventInput, 'at'>) => void;

export interface FlowsRuntimeOptions {
  /** Who the child runs as (identity.ts). */
  runAs: FlowsIdentity;
  /** The flows user's home (prepared by FlowsService). */
  home: string;
  userDir: string;
  fileNodes: boolean;
  /** Node-RED credentials from the old userDir inside the data dir (read by root, handed over once). */
  legacyCredentials?: string;
  socketPath: string;
  adminRoot: string;
  nodesDir: string;
  editorScripts: string[];
  credentialSecret: string;
  functionTimeoutS: number;
  heartbeatMs: number;
  hungAfterMs: number;
  restartInitialMs: number;
  restartMaxMs: number;
  /** Running this long without a fault resets the backoff. */
  stableAfterMs: number;
  startTimeoutMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
}

export interface FlowsRuntimeDeps {
  log: Logger;
  clock: Clock;
  event: FlowsEventSink;
  /** The flows to run (the store's current version), written to flows.json before every start. */
  currentFlows: () => unknown[];
}

export class FlowsRuntime extends EventEmitter<{ status: [RuntimeStatus]; message: [ChildToHost] }> {
  private proc: FlowsProcess | null = null;
  private st: RuntimeStatus;
  private wanted = false;
  private failures = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private heartbeat: NodeJS.Timeout | null = null;
  private pingN = 0;
  private lastPongMono = 0;
  private runningSinceMono = 0;
  /** Set when we kill the child on purpose to restart it (not a fault). */
  private restartReason: string | null = null;

  constructor(
    readonly o: FlowsRuntimeOptions,
    private readonly d: FlowsRuntimeDeps,
  ) {
    super();
    this.st = {
      state: 'off',
      since: d.clock.now(),
      detail: 'not started',
      pid: null,
      restarts: 0,
      nextRestartAt: null,
      rssBytes: null,
      nodeRed: null,
      rev: null,
    };
  }

  status(): RuntimeStatus {
    return { ...this.st };
  }

  /** Starts the first child. Never throws for a child that fails: that is retried with backoff. */
  async start(): Promise<void> {
    this.wanted = true;
    await this.spawn();
  }

  async stop(): Promise<void> {
    this.wanted = false;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.stopHeartbeat();
    const p = this.proc;
    if (p?.alive) {
      this.set('stopping', 'supervisor is stopping');
      await p.stop();
    }
    this.proc = null;
    this.set('off', 'stopped by the supervisor');
  }

  /** Restarts the child now (e.g. to load a version recorded while it was starting). Not a fault. */
  restartNow(reason: string): void {
    if (!this.proc?.alive) return;
    this.restartReason = reason;
    this.proc.kill('SIGKILL');
  }

  sendEval(input: EvalInput): boolean {
    if (this.st.state !== 'running' && this.st.state !== 'deploying' && this.st.state !== 'stopped') return false;
    return this.proc?.send({ t: 'eval', input }) ?? false;
  }

  /** For tests and the API: the child's pid. */
  get pid(): number | null {
    return this.st.pid;
  }

  private set(state: RuntimeState, detail: string, extra: Partial<RuntimeStatus> = {}): void {
    const changed = state !== this.st.state || detail !== this.st.detail;
    this.st = { ...this.st, ...extra, state, detail, since: state !== this.st.state ? this.d.clock.now() : this.st.since };
    if (changed) this.emit('status', this.status());
  }

  private async spawn(): Promise<void> {
    if (!this.wanted) return;
    const proc = new FlowsProcess({
      runAs: this.o.runAs,
      home: this.o.home,
      userDir: this.o.userDir,
      // The store is the source of truth; Node-RED's flows.json is derived from it on every start.
      initialFlows: this.d.currentFlows(),
      fileNodes: this.o.fileNodes,
      ...(this.o.legacyCredentials ? { legacyCredentials: this.o.legacyCredentials } : {}),
      nodesDir: this.o.nodesDir,
      socketPath: this.o.socketPath,
      adminRoot: this.o.adminRoot,
      credentialSecret: this.o.credentialSecret,
      functionTimeoutS: this.o.functionTimeoutS,
      editorScripts: this.o.editorScripts,
      log: this.d.log,
      logLevel: this.o.logLevel,
      startTimeoutMs: this.o.startTimeoutMs,
    });
    this.proc = proc;
    proc.on('message', (m) => this.onMessage(proc, m));
    proc.on('exit', (e) => this.onExit(proc, e));
    this.set('starting', 'Node-RED is starting', { pid: null, nextRestartAt: null });
    try {
      await proc.start();
    } catch (err) {
      // onExit schedules the restart; a child that is still there (timeout) was killed.
      this.d.log.error({ err: (err as Error).message }, 'flows child failed to start');
      if (proc.alive) proc.kill('SIGKILL');
      return;
    }
    if (this.proc !== proc) return;
    this.st.pid = proc.pid ?? null;
    this.st.nodeRed = proc.nodeRedVersion;
    this.lastPongMono = this.d.clock.monotonic();
    this.startHeartbeat(proc);
  }

  private onMessage(proc: FlowsProcess, m: ChildToHost): void {
    if (this.proc !== proc) return;
    if (m.t === 'pong') {
      this.lastPongMono = this.d.clock.monotonic();
      this.st.rssBytes = m.rssBytes;
      return;
    }
    if (m.t === 'state') {
      // Our own shutdown stops the flows too: not news.
      if (this.st.state === 'stopping') return;
      if (m.state === 'started') {
        const wasRestart = this.st.restarts > 0 && this.runningSinceMono === 0;
        const wasStopped = this.st.state === 'stopped';
        this.runningSinceMono = this.d.clock.monotonic();
        this.set('running', 'flows are running', { pid: proc.pid ?? null, rev: m.rev ?? this.st.rev });
        if (wasRestart) {
          this.d.event({
            kind: 'flows.restarted',
            severity: 'info',
            subsystem: 'flows',
            en: `Flows runtime restarted (restart ${this.st.restarts}, pid ${proc.pid})`,
            nb: `Flytmotoren startet på nytt (omstart ${this.st.restarts}, pid ${proc.pid})`,
          });
        } else if (wasStopped) {
          this.d.event({ kind: 'flows.running', severity: 'info', subsystem: 'flows', en: 'Flows are running again', nb: 'Flytene kjører igjen' });
        }
      } else if (m.state === 'deploying') {
        this.set('deploying', 'a deploy is restarting the flows');
      } else {
        const why = m.error === 'missing-types' ? `unknown node types ${m.detail ?? ''}`.trim() : (m.error ?? 'stopped');
        this.set('stopped', `flows stopped: ${why}`);
        this.d.event({
          kind: 'flows.stopped',
          severity: 'alarm',
          subsystem: 'flows',
          en: `Node-RED stopped every flow (${why}); the built-in policy decides until a working flow is deployed or rolled back`,
          nb: `Node-RED stoppet alle flyter (${why}); den innebygde policyen bestemmer til en fungerende flyt er lagt ut eller rullet tilbake`,
          data: { error: m.error, detail: m.detail },
        });
      }
      this.emit('message', m);
      return;
    }
    this.emit('message', m);
  }

  private onExit(proc: FlowsProcess, e: { code: number | null; signal: NodeJS.Signals | null }): void {
    if (this.proc !== proc) return;
    this.stopHeartbeat();
    this.proc = null;
    if (!this.wanted) return;
    if (this.restartReason) {
      const why = this.restartReason;
      this.restartReason = null;
      this.runningSinceMono = 0;
      this.st.restarts++;
      this.set('starting', `restarting: ${why}`, { pid: null });
      this.d.event({
        kind: 'flows.restarting',
        severity: 'info',
        subsystem: 'flows',
        en: `Flows runtime restarted: ${why}`,
        nb: `Flytmotoren startes på nytt: ${why}`,
      });
      void this.spawn();
      return;
    }
    const wasHung = this.st.state === 'hung';
    // Backoff grows with consecutive failures; a long healthy run forgets them.
    const mono = this.d.clock.monotonic();
    if (this.runningSinceMono > 0 && mono - this.runningSinceMono >= this.o.stableAfterMs) this.failures = 0;
    this.runningSinceMono = 0;
    const delay = Math.min(this.o.restartMaxMs, this.o.restartInitialMs * 2 ** this.failures);
    this.failures++;
    const how = e.signal ?? `exit code ${e.code}`;
    const at = this.d.clock.now() + delay;
    this.st.restarts++;
    if (!wasHung) {
      this.set('crashed', `the flows child ended (${how}); restart in ${Math.round(delay / 100) / 10} s`, { pid: null, nextRestartAt: at });
      this.d.event({
        kind: 'flows.crashed',
        severity: 'alarm',
        subsystem: 'flows',
        en: `The flows runtime ended (${how}); the built-in policy decides; restart in ${Math.round(delay / 100) / 10} s`,
        nb: `Flytmotoren stoppet (${how}); den innebygde policyen bestemmer; ny start om ${Math.round(delay / 100) / 10} s`,
        data: { code: e.code, signal: e.signal, tail: proc.tail().slice(-1000) },
      });
    } else {
      this.st = { ...this.st, pid: null, nextRestartAt: at };
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      void this.spawn();
    }, delay);
  }

  private startHeartbeat(proc: FlowsProcess): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      const silentFor = this.d.clock.monotonic() - this.lastPongMono;
      if (silentFor > this.o.hungAfterMs) {
        this.set('hung', `no heartbeat for ${Math.round(silentFor)} ms — killed`);
        this.d.event({
          kind: 'flows.hung',
          severity: 'alarm',
          subsystem: 'flows',
          en: `The flows runtime stopped answering for ${Math.round(silentFor / 1000)} s (endless loop?); killed and restarting; the built-in policy decides`,
          nb: `Flytmotoren svarte ikke på ${Math.round(silentFor / 1000)} s (evig løkke?); avsluttet og startes på nytt; den innebygde policyen bestemmer`,
        });
        this.stopHeartbeat();
        proc.kill('SIGKILL');
        return;
      }
      proc.send({ t: 'ping', n: ++this.pingN });
    }, this.o.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
