/**
 * Entry point of the flows child process: Node-RED 4.1 with the vaktpost bridge.
 *
 * Started by the supervisor with fork() (an IPC channel). It waits for the `init`
 * message, boots Node-RED with the editor and admin API on a unix socket, reports
 * the runtime's state, answers evaluations and pings, and exits when the supervisor
 * goes away — a flows runtime must never outlive the process that supervises it.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type ChildInit, type ChildToHost, FLOWS_PROTOCOL_VERSION, type HostToChild } from '../protocol.js';
import { Bridge, type DeliveryEvent } from './bridge.js';
import { nodeRedSettings } from './settings.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
interface ExpressApp extends Handler {
  use(path: string, handler: Handler): void;
}
interface RuntimeEvent {
  id?: string;
  payload?: { state?: string; error?: string; deploy?: boolean; types?: unknown; modules?: unknown };
}
interface FlowsEvent {
  config?: { flows?: Array<{ id?: unknown; type?: unknown; label?: unknown }>; rev?: string };
  type?: string;
}
/** The part of node-red's embedding API used here (it ships no types). */
interface NodeRed {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly httpAdmin: Handler;
  /** A function in 4.1 (runtime._.version). */
  readonly version: (() => string) | string;
  events: {
    on(ev: 'runtime-event', cb: (e: RuntimeEvent) => void): void;
    on(ev: 'flows:started' | 'flows:stopping', cb: (e: FlowsEvent) => void): void;
  };
  hooks: { add(name: string, fn: (ev: DeliveryEvent) => void): void };
}

const require = createRequire(import.meta.url);

function send(m: ChildToHost): void {
  if (process.connected) process.send?.(m);
}

async function boot(init: ChildInit): Promise<{ red: NodeRed; bridge: Bridge }> {
  if (init.protocol !== FLOWS_PROTOCOL_VERSION) {
    throw new Error(`protocol mismatch: supervisor speaks v${init.protocol}, this child v${FLOWS_PROTOCOL_VERSION} — rebuild (make build)`);
  }
  const red = require('node-red') as NodeRed;
  // node-red's own express (its dependency), so the admin app is mounted exactly as in node-red's red.js.
  const express = require(require.resolve('express', { paths: [require.resolve('node-red')] })) as () => ExpressApp;
  const bridge = new Bridge(send);

  // Created here, by the flows user: the supervisor writes nothing into that user's folder.
  mkdirSync(init.userDir, { recursive: true, mode: 0o700 });
  if (init.flows) writeFileSync(path.join(init.userDir, 'flows.json'), `${JSON.stringify(init.flows, null, 2)}\n`, { mode: 0o600 });
  const creds = path.join(init.userDir, 'flows_cred.json');
  if (init.legacyCredentials && !existsSync(creds)) writeFileSync(creds, init.legacyCredentials, { mode: 0o600 });
  mkdirSync(path.dirname(init.socketPath), { recursive: true, mode: 0o700 });
  rmSync(init.socketPath, { force: true });
  const app = express();
  const server = http.createServer(app);
  red.init(server, nodeRedSettings(init, bridge));
  app.use(init.adminRoot, red.httpAdmin);

  red.hooks.add('preDeliver.vaktpost', (ev) => bridge.onPreDeliver(ev));
  red.hooks.add('postReceive.vaktpost', (ev) => bridge.onPostReceive(ev));
  red.events.on('flows:stopping', () => send({ t: 'state', state: 'deploying' }));
  red.events.on('flows:started', (e) => {
    const tabs = (e.config?.flows ?? [])
      .filter((n) => n.type === 'tab' && typeof n.id === 'string')
      .map((n) => ({ id: n.id as string, ...(typeof n.label === 'string' ? { label: n.label } : {}) }));
    bridge.flowsStarted(tabs);
    send({ t: 'state', state: 'started', ...(e.config?.rev ? { rev: e.config.rev } : {}) });
  });
  red.events.on('runtime-event', (e) => {
    if (e.id !== 'runtime-state' || !e.payload) return;
    const p = e.payload;
    // A deploy stops and restarts the flows; only a stop that stays (an error, e.g.
    // unknown node types) is news. Node-RED answers such a deploy with 200.
    if (p.error) {
      const detail = p.types !== undefined ? JSON.stringify(p.types) : p.modules !== undefined ? JSON.stringify(p.modules) : undefined;
      send({ t: 'state', state: 'stopped', error: p.error, ...(detail ? { detail } : {}) });
    } else if (p.state === 'stop' && !p.deploy) {
      send({ t: 'state', state: 'stopped' });
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(init.socketPath, () => resolve());
  });
  // Only the supervisor's user may talk to the editor socket.
  chmodSync(init.socketPath, 0o600);
  await red.start();
  return { red, bridge };
}

let running: { red: NodeRed; bridge: Bridge } | null = null;
const early: HostToChild[] = [];

process.on('disconnect', () => process.exit(0));
// A supervisor that died while this process was still loading closed the channel before the
// listener above existed: its 'disconnect' is gone, so look once (an orphan was seen running
// for a minute at full CPU after its supervisor was SIGKILLed during start).
if (!process.connected) process.exit(0);
process.on('message', (raw: unknown) => {
  const m = raw as HostToChild;
  if (m.t === 'init') {
    boot(m)
      .then((r) => {
        running = r;
        send({ t: 'ready', nodeRed: typeof r.red.version === 'function' ? r.red.version() : String(r.red.version), pid: process.pid });
        for (const e of early.splice(0)) if (e.t === 'eval') r.bridge.evaluate(e.input);
      })
      .catch((err: Error) => {
        send({ t: 'fatal', error: err.message });
        setTimeout(() => process.exit(1), 50);
      });
  } else if (m.t === 'eval') {
    if (running) running.bridge.evaluate(m.input);
    else early.push(m);
  } else if (m.t === 'ping') {
    send({ t: 'pong', n: m.n, rssBytes: process.memoryUsage.rss() });
  } else if (m.t === 'shutdown') {
    const done = () => process.exit(0);
    if (running) running.red.stop().then(done, done);
    else done();
    setTimeout(done, 3000).unref();
  }
});
