/**
 * An in-process Vaktpost for the flows tests: the real Supervisor, store, accounts and
 * API (with the flows routes), a real Node-RED child supervised by FlowsService, and a
 * test monitor whose signals the test sets. Time can be shifted (office hours) through
 * the injected clock; intervals stay monotonic.
 */
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { WebSocket } from 'ws';
import { Accounts, LoginThrottle } from '../../../supervisor/src/api/auth.js';
import { registerFlowsRoutes } from '../../../supervisor/src/api/flowsRoutes.js';
import { buildApi } from '../../../supervisor/src/api/server.js';
import { type FlowsConfig, FlowsConfigSchema } from '../../../supervisor/src/config/flows.js';
import { defaultHealthRules } from '../../../supervisor/src/core/health.js';
import type { PolicyConfig } from '../../../supervisor/src/core/policy.js';
import type { Signal, SignalStatus, Subsystem } from '../../../supervisor/src/core/signal.js';
import { FlowsService } from '../../../supervisor/src/flows/service.js';
import { Drill } from '../../../supervisor/src/jobs/drill.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import type { Clock, Monitor, SignalSink } from '../../../supervisor/src/monitors/monitor.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { type EventRow, Store } from '../../../supervisor/src/store/store.js';
import { type LiveMessage, Supervisor } from '../../../supervisor/src/supervisor.js';
import { scratchDir, waitFor } from '../../helpers/util.js';
import { ensureFlowsBuilt, repoRoot } from './build.js';

export class TestClock implements Clock {
  offsetMs = 0;
  now = () => Date.now() + this.offsetMs;
  monotonic = () => performance.now();
}

/** Signals the test sets by hand; each set is re-reported so nothing goes stale. */
export class TestMonitor implements Monitor {
  readonly name = 'test';
  private emit: SignalSink | null = null;
  private readonly current = new Map<string, Signal>();
  private timer: NodeJS.Timeout | null = null;
  constructor(private readonly clock: Clock) {}
  async start(emit: SignalSink): Promise<void> {
    this.emit = emit;
    for (const s of this.current.values()) emit({ ...s, observedAt: this.clock.now() });
    this.timer = setInterval(() => {
      for (const s of this.current.values()) this.emit?.({ ...s, observedAt: this.clock.now() });
    }, 1000);
  }
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.emit = null;
  }
  /** Re-reports every signal now (after the test moved the clock). */
  refresh(): void {
    for (const s of this.current.values()) this.emit?.({ ...s, observedAt: this.clock.now() });
  }
  set(key: string, status: SignalStatus, value: Signal['value'] = status === 'ok'): void {
    const s: Signal = { subsystem: key.split('.')[0] as Subsystem, source: 'test', key, status, value, observedAt: this.clock.now(), ttlMs: 60_000 };
    this.current.set(key, s);
    this.emit?.(s);
  }
}

/** A healthy box: two WAN links, the local centre reachable over LAN and both links, recording on. */
export function healthyBox(m: TestMonitor): void {
  m.set('power.ups1.mains', 'ok', 'line');
  m.set('wan.wan1.state', 'ok', 'up');
  m.set('wan.wan2.state', 'ok', 'up');
  m.set('centres.local.lan', 'ok', true);
  m.set('centres.local.wan1', 'ok', true);
  m.set('centres.backup.wan1', 'ok', true);
  m.set('recording.rtpengine', 'ok', true);
  m.set('system.shutdown', 'ok', false);
}

export interface Harness {
  url: string;
  dir: string;
  clock: TestClock;
  monitor: TestMonitor;
  supervisor: Supervisor;
  flows: FlowsService;
  store: Store;
  api: FastifyInstance;
  tokens: { tech: string; operator: string };
  live: LiveMessage[];
  /** fetch against the API; `token` defaults to the technician's. */
  http(
    method: string,
    p: string,
    opts?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; json: unknown; text: string }>;
  /** Deploys through Node-RED's admin API (the editor's path), as the technician. */
  deployViaEditor(flows: unknown[], token?: string): Promise<{ status: number; text: string }>;
  template(name: string): Array<Record<string, unknown>>;
  /** Deploys through the editor's path and waits until the new flows run and have answered. */
  deployAndWait(flows: unknown[]): Promise<{ status: number; text: string }>;
  waitForRoute(
    route: 'local' | 'backup',
    opts?: { decidedBy?: RegExp; timeoutMs?: number; what?: string },
  ): Promise<{ route: string; decidedBy: string; mode: string }>;
  events(kind: string): EventRow[];
  /** Opens a WebSocket; messages are buffered from the first one, `next` takes them in order. */
  wsConnect(
    p: string,
    headers: Record<string, string>,
  ): Promise<{ ok: boolean; status?: number; ws?: WebSocket; next: (timeoutMs: number) => Promise<string> }>;
  close(): Promise<void>;
}

export const testPolicy: PolicyConfig = {
  monitored: ['power', 'wan', 'centres', 'recording', 'system', 'flows'],
  failoverOn: ['power', 'wan', 'centres'],
  failbackHoldMs: 300,
  holdDownMs: 0,
};

export async function startHarness(opts: { flows?: Partial<FlowsConfig>; policy?: Partial<PolicyConfig> } = {}): Promise<Harness> {
  await ensureFlowsBuilt();
  const { dir, cleanup } = await scratchDir('flows');
  // The flows child runs as the flows user (when the tests run as root, as `make test` does):
  // it must reach its home (<dir>/data-flows) through the scratch dir, never the data dir.
  chmodSync(dir, 0o711);
  const clock = new TestClock();
  const log = silentLogger();
  const db = openDb(path.join(dir, 'data', 'vaktpost.db'));
  const store = new Store(db);
  // Sessions live in real time: the tests move the supervisor's clock by days.
  const accounts = new Accounts(db, Date.now);
  const tech = accounts.createSession(await accounts.createUser('tekniker', 'tekniker-passord-123', 'technician'), 1);
  const operator = accounts.createSession(await accounts.createUser('operator', 'operator-passord-123', 'operator'), 1);
  const monitor = new TestMonitor(clock);
  healthyBox(monitor);
  const policy = { ...testPolicy, ...opts.policy };
  const ref: { sup: Supervisor | null } = { sup: null };
  const cfg = FlowsConfigSchema.parse({
    enabled: true,
    proposalTimeoutMs: 500,
    evalEveryMs: 200,
    recoverAfterMs: 1000,
    startGraceMs: 0,
    heartbeatMs: 250,
    // Only safety.test.ts tests the hung child, with its own value; elsewhere a child starved
    // on a busy machine must not be killed mid-test (a restart loop is not what they test).
    hungAfterMs: 30_000,
    restartInitialMs: 200,
    restartMaxMs: 2000,
    logLevel: 'warn',
    ...opts.flows,
  });
  const flows = new FlowsService({ cfg, dataDir: path.join(dir, 'data'), db, clock, log, policy, rules: defaultHealthRules, event: (e) => ref.sup?.event(e) });
  const supervisor = new Supervisor({
    box: 'test-box',
    store,
    clock,
    log,
    monitors: [monitor, flows.advisor],
    reconcilers: [],
    policy,
    rules: defaultHealthRules,
    tickMs: 100,
    decisionAdvisor: flows.advisor,
  });
  ref.sup = supervisor;
  const live: LiveMessage[] = [];
  supervisor.on('live', (m) => live.push(m));
  const api = await buildApi({
    supervisor,
    store,
    accounts,
    throttle: new LoginThrottle(Date.now),
    sessionHours: 1,
    sim: null,
    drill: new Drill(supervisor, [], { now: clock.now, stepTimeoutMs: 1000 }),
    now: clock.now,
    webDir: null,
  });
  registerFlowsRoutes(api, { flows, accounts });
  await flows.start();
  await supervisor.start();
  await api.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.server.address();
  const url = `http://127.0.0.1:${addr && typeof addr === 'object' ? addr.port : 0}`;

  const h: Harness = {
    url,
    dir,
    clock,
    monitor,
    supervisor,
    flows,
    store,
    api,
    tokens: { tech, operator },
    live,
    async http(method, p, o = {}) {
      const token = o.token === undefined ? tech : o.token;
      const res = await fetch(url + p, {
        method,
        redirect: 'manual',
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...o.headers,
        },
        body: o.body !== undefined ? JSON.stringify(o.body) : undefined,
      });
      const text = await res.text();
      let json: unknown = null;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: res.status, json, text };
    },
    async deployViaEditor(flowsJson, token = tech) {
      const r = await h.http('POST', '/flows/flows', {
        token,
        body: { flows: flowsJson },
        headers: { 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      });
      return { status: r.status, text: r.text };
    },
    async deployAndWait(flowsJson) {
      const r = await h.deployViaEditor(flowsJson);
      if (r.status !== 200) return r;
      const rev = (JSON.parse(r.text) as { rev: string }).rev;
      await waitFor(
        () => {
          const s = flows.status();
          return s.runtime.state === 'running' && s.runtime.rev === rev && s.verdict === 'proposals' && s.proposals.length > 0;
        },
        { timeoutMs: 30_000, what: `flows rev ${rev.slice(0, 8)} to run and answer` },
      );
      return r;
    },
    template(name) {
      return JSON.parse(readFileSync(path.join(repoRoot, 'flows/templates', name, 'flows.json'), 'utf8')) as Array<Record<string, unknown>>;
    },
    async waitForRoute(route, o = {}) {
      return waitFor(
        () => {
          const s = supervisor.snapshot();
          return s.route === route && (!o.decidedBy || o.decidedBy.test(s.decidedBy)) ? { route: s.route, decidedBy: s.decidedBy, mode: s.mode } : null;
        },
        { timeoutMs: o.timeoutMs ?? 30_000, what: o.what ?? `route ${route}${o.decidedBy ? ` decided by ${o.decidedBy}` : ''}` },
      );
    },
    events(kind) {
      return store.events({ limit: 500, kind });
    },
    wsConnect(p, headers) {
      return new Promise((resolve) => {
        const ws = new WebSocket(url.replace('http', 'ws') + p, { headers });
        const buffered: string[] = [];
        let wake: (() => void) | null = null;
        ws.on('message', (d) => {
          buffered.push(String(d));
          wake?.();
        });
        const next = async (timeoutMs: number): Promise<string> => {
          const deadline = performance.now() + timeoutMs;
          while (buffered.length === 0) {
            if (performance.now() > deadline) throw new Error(`no WebSocket message on ${p} within ${timeoutMs} ms`);
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 50);
            });
          }
          return buffered.shift() as string;
        };
        const none = () => Promise.reject(new Error('not connected'));
        ws.once('open', () => resolve({ ok: true, ws, next }));
        ws.once('unexpected-response', (_req, res) => {
          resolve({ ok: false, status: res.statusCode, next: none });
          ws.terminate();
        });
        ws.once('error', () => resolve({ ok: false, next: none }));
      });
    },
    async close() {
      await api.close();
      await supervisor.stop();
      await flows.stop();
      store.close();
      await cleanup();
    },
  };
  return h;
}
