/**
 * One Node-RED child process: fork, hand it its settings, wait until it is up.
 * No restart policy here (that is FlowsRuntime's job); the dry-run uses this directly
 * for its short-lived replay child.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../log.js';
import { childEnvironment, type FlowsIdentity, withoutCapabilities } from './identity.js';
import { type ChildInit, type ChildToHost, FLOWS_PROTOCOL_VERSION, type HostToChild, parseChildMessage } from './protocol.js';

export interface FlowsProcessOptions {
  /** Who the child runs as (identity.ts); isolated = its own uid/gid. */
  runAs: FlowsIdentity;
  /** The flows user's home (cwd and HOME of the child). */
  home: string;
  userDir: string;
  /** Written by the child to <userDir>/flows.json before Node-RED starts (the store is the source of truth). */
  initialFlows?: unknown[];
  /** Node-RED's file nodes (flows.fileNodes). */
  fileNodes: boolean;
  /** Credentials from the old userDir (<dataDir>/flows/node-red), carried over once. */
  legacyCredentials?: string;
  nodesDir: string;
  socketPath: string;
  adminRoot: string;
  credentialSecret: string;
  functionTimeoutS: number;
  editorScripts: string[];
  log: Logger;
  /** Node-RED's own log level (its lines go to our log at debug/info). */
  logLevel?: ChildInit['logLevel'];
  /** How long Node-RED may take to come up before we give up on this child. */
  startTimeoutMs?: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Under tsx (tests, `make run` from source) this file is .ts and so is the child's entry. */
const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');

export function childEntry(): { file: string; execArgv: string[] } {
  const file = path.join(here, 'child', fromSource ? 'main.ts' : 'main.js');
  return { file, execArgv: fromSource ? ['--import', import.meta.resolve('tsx')] : [] };
}

/** The repo's flows/ folder (the vaktpost node package), from source or from dist/. */
export function defaultNodesDir(): string {
  let dir = here;
  for (let i = 0; i < 6; i++) {
    const cand = path.join(dir, 'flows', 'package.json');
    if (existsSync(cand)) return path.dirname(cand);
    dir = path.dirname(dir);
  }
  return path.resolve(here, '../../../flows');
}

export class FlowsProcess extends EventEmitter<{ message: [ChildToHost]; exit: [{ code: number | null; signal: NodeJS.Signals | null }] }> {
  private child: ChildProcess | null = null;
  private exited = false;
  private output = '';
  nodeRedVersion = '';

  constructor(private readonly o: FlowsProcessOptions) {
    super();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get alive(): boolean {
    return this.child !== null && !this.exited;
  }

  /** The last lines the child printed (for error messages). */
  tail(): string {
    return this.output.split('\n').slice(-15).join('\n');
  }

  /** Resolves when Node-RED is up (flows may still be starting: watch `state` messages). */
  start(): Promise<void> {
    const { file, execArgv } = childEntry();
    if (!existsSync(file)) throw new Error(`flows child entry ${file} is missing — run \`make build\``);
    const { runAs } = this.o;
    // Through setpriv when the supervisor switches user by capability: the child holds none (identity.ts).
    const [execPath, wrappedArgv] = withoutCapabilities(runAs, process.execPath, execArgv);
    const child = fork(file, [], {
      execPath,
      execArgv: wrappedArgv,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
      // A flow is code: as its own user it reaches nothing of the supervisor's (identity.ts).
      ...(runAs.isolated ? { uid: runAs.uid, gid: runAs.gid } : {}),
      cwd: this.o.home,
      env: childEnvironment(this.o.home, runAs.user),
    });
    this.child = child;
    const onLine = (buf: Buffer) => {
      const text = buf.toString();
      this.output = (this.output + text).slice(-8192);
      for (const line of text.split('\n')) {
        if (!line.trim()) continue;
        // Node-RED's own errors are worth seeing; the rest is detail.
        if (/\[(error|fatal)\]/.test(line)) this.o.log.warn({ flows: child.pid }, line.trim());
        else this.o.log.debug({ flows: child.pid }, line.trim());
      }
    };
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    child.on('message', (raw: unknown) => {
      const m = parseChildMessage(raw);
      if (!m) {
        this.o.log.warn({ flows: child.pid }, 'malformed message from the flows child dropped');
        return;
      }
      if (m.t === 'ready') this.nodeRedVersion = m.nodeRed;
      this.emit('message', m);
    });
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.exited) return;
      this.exited = true;
      this.emit('exit', { code, signal });
    };
    child.once('exit', ended);
    // A fork that cannot start (e.g. the flows user cannot enter its home) is an 'error', not an exit.
    child.on('error', (err: NodeJS.ErrnoException) => {
      this.output += `\nthe flows child could not be started as ${this.o.runAs.user} in ${this.o.home}: ${err.message}`;
      ended(null, null);
    });

    const init: ChildInit = {
      t: 'init',
      protocol: FLOWS_PROTOCOL_VERSION,
      userDir: this.o.userDir,
      ...(this.o.initialFlows ? { flows: this.o.initialFlows } : {}),
      fileNodes: this.o.fileNodes,
      ...(this.o.legacyCredentials ? { legacyCredentials: this.o.legacyCredentials } : {}),
      nodesDir: this.o.nodesDir,
      socketPath: this.o.socketPath,
      adminRoot: this.o.adminRoot,
      credentialSecret: this.o.credentialSecret,
      functionTimeoutS: this.o.functionTimeoutS,
      editorScripts: this.o.editorScripts,
      logLevel: this.o.logLevel ?? 'warn',
    };
    child.send(init);

    const timeoutMs = this.o.startTimeoutMs ?? 30_000;
    return new Promise<void>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.off('message', onMsg);
        this.off('exit', onExit);
      };
      const onMsg = (m: ChildToHost) => {
        if (m.t === 'ready') {
          cleanup();
          resolve();
        } else if (m.t === 'fatal') {
          cleanup();
          this.kill('SIGKILL');
          reject(new Error(`Node-RED did not start: ${m.error}`));
        }
      };
      const onExit = ({ code, signal }: { code: number | null; signal: NodeJS.Signals | null }) => {
        cleanup();
        reject(new Error(`the flows child exited during start (${signal ?? `code ${code}`}): ${this.tail()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        this.kill('SIGKILL');
        reject(new Error(`Node-RED did not start within ${timeoutMs} ms: ${this.tail()}`));
      }, timeoutMs);
      this.on('message', onMsg);
      this.on('exit', onExit);
    });
  }

  send(m: HostToChild): boolean {
    const c = this.child;
    if (!c || this.exited || !c.connected) return false;
    try {
      c.send(m);
      return true;
    } catch {
      return false;
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.child && !this.exited) this.child.kill(signal);
  }

  /** Asks Node-RED to stop its flows (closing nodes), then makes sure the process is gone. */
  async stop(graceMs = 3000): Promise<void> {
    const c = this.child;
    if (!c || this.exited) return;
    const gone = new Promise<void>((resolve) => this.once('exit', () => resolve()));
    if (!this.send({ t: 'shutdown' })) this.kill('SIGTERM');
    const t = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(t);
  }
}
