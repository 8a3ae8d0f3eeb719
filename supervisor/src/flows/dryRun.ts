/**
 * Dry-run: before a flow configuration takes effect, replay the recorded signals of the
 * last day through it and through what runs now, and list where the routes differ.
 *
 * The replay runs in a separate, short-lived Node-RED child (never the live one), at full
 * speed: flows see the replayed time in msg.vaktpost.at. Deviation nodes are counted, not
 * recorded. Both configurations see exactly the same inputs (replay.ts).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { HealthRules } from '../core/health.js';
import type { PolicyConfig } from '../core/policy.js';
import type { Logger } from '../log.js';
import type { FlowsStore } from '../store/flowsStore.js';
import { adminRequest } from './adminClient.js';
import { type FlowNode, flowsSha256 } from './diff.js';
import { type FlowsIdentity, removeAsFlowsUser } from './identity.js';
import { FlowsProcess } from './process.js';
import type { ChildToHost, EvalInput, TabProposal } from './protocol.js';
import { diffTimelines, type FlowsAnswerer, replay, SampleCompressor, type TimelineDifference, type TimelinePoint } from './replay.js';

export interface DryRunSettings {
  windowMs: number;
  tickMs: number;
  sampleTtlMs: number;
  proposalTimeoutMs: number;
  maxDurationMs: number;
  functionTimeoutS: number;
}

export interface DryRunSide {
  kind: 'flows' | 'builtin';
  /** Stored version (for the current side), when known. */
  version: number | null;
  sha256: string | null;
  /** False when Node-RED would not run the configuration (e.g. unknown node types) — then the built-in policy decides. */
  runs: boolean;
  problem: string | null;
  routeChanges: number;
  missedAnswers: number;
  gaveUpAt: number | null;
  deviations: number;
  evaluations: number;
  timeline: TimelinePoint[];
}

export interface DryRunReport {
  window: { from: number; to: number };
  samples: number;
  signalChanges: number;
  evaluations: number;
  candidate: DryRunSide;
  current: DryRunSide;
  differences: TimelineDifference[];
  differingMs: number;
  durationMs: number;
  warnings: string[];
}

export interface DryRunDeps {
  store: FlowsStore;
  policy: PolicyConfig;
  rules: HealthRules;
  log: Logger;
  nodesDir: string;
  /** Scratch space for the replay child (the flows user's home; its folder is removed afterwards). */
  workDir: string;
  /** Who the replay child runs as, and whether it loads the file nodes: as the live one. */
  runAs: FlowsIdentity;
  fileNodes: boolean;
  credentialSecret: string;
  settings: DryRunSettings;
  now: () => number;
}

/** A throwaway Node-RED child that loads one configuration after another. */
class ReplayChild implements FlowsAnswerer {
  private proc: FlowsProcess | null = null;
  private dir = '';
  private socketPath = '';
  private readonly waiters = new Map<number, (p: TabProposal[]) => void>();
  private stateWaiter: ((m: Extract<ChildToHost, { t: 'state' }>) => void) | null = null;
  deviations = 0;

  constructor(
    private readonly d: DryRunDeps,
    private readonly adminRoot = '/flows',
  ) {}

  async start(): Promise<void> {
    // The child creates its folders itself, as the flows user: root writes nothing into that user's home.
    this.dir = path.join(this.d.workDir, `dryrun-${randomBytes(8).toString('hex')}`);
    this.socketPath = path.join(this.dir, 'run', 'editor.sock');
    const proc = new FlowsProcess({
      runAs: this.d.runAs,
      home: this.d.workDir,
      userDir: path.join(this.dir, 'node-red'),
      initialFlows: [],
      fileNodes: this.d.fileNodes,
      nodesDir: this.d.nodesDir,
      socketPath: this.socketPath,
      adminRoot: this.adminRoot,
      credentialSecret: this.d.credentialSecret,
      functionTimeoutS: this.d.settings.functionTimeoutS,
      editorScripts: [],
      log: this.d.log,
      logLevel: 'warn',
    });
    this.proc = proc;
    proc.on('message', (m) => {
      if (m.t === 'settled') {
        const w = this.waiters.get(m.seq);
        if (w) {
          this.waiters.delete(m.seq);
          w(m.proposals);
        }
      } else if (m.t === 'deviation') {
        this.deviations++;
      } else if (m.t === 'state' && m.state !== 'deploying') {
        this.stateWaiter?.(m);
      }
    });
    const started = this.nextState(15_000);
    await proc.start();
    await started;
  }

  private nextState(timeoutMs: number): Promise<Extract<ChildToHost, { t: 'state' }>> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.stateWaiter = null;
        reject(new Error(`the dry-run's Node-RED did not report its flow state within ${timeoutMs} ms`));
      }, timeoutMs);
      this.stateWaiter = (m) => {
        clearTimeout(t);
        this.stateWaiter = null;
        resolve(m);
      };
    });
  }

  /** Deploys a configuration; resolves whether Node-RED runs it (and why not). */
  async load(flows: FlowNode[]): Promise<{ runs: boolean; problem: string | null }> {
    this.deviations = 0;
    const state = this.nextState(15_000);
    const res = await adminRequest(this.socketPath, 'POST', `${this.adminRoot}/flows`, JSON.stringify({ flows }), {
      'Node-RED-API-Version': 'v2',
      'Node-RED-Deployment-Type': 'full',
    });
    if (res.status < 200 || res.status >= 300) {
      state.catch(() => {});
      return { runs: false, problem: `Node-RED refused the configuration (HTTP ${res.status}): ${res.body.slice(0, 200)}` };
    }
    const m = await state;
    if (m.state === 'started') return { runs: true, problem: null };
    const why = m.error === 'missing-types' ? `unknown node types ${m.detail ?? ''}` : (m.error ?? 'stopped');
    return { runs: false, problem: `Node-RED would stop every flow: ${why.trim()}` };
  }

  answer(input: EvalInput): Promise<TabProposal[] | null> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.waiters.delete(input.seq);
        resolve(null);
      }, this.d.settings.proposalTimeoutMs);
      this.waiters.set(input.seq, (p) => {
        clearTimeout(t);
        resolve(p);
      });
      if (!this.proc?.send({ t: 'eval', input })) {
        clearTimeout(t);
        this.waiters.delete(input.seq);
        resolve(null);
      }
    });
  }

  async stop(): Promise<void> {
    await this.proc?.stop(2000);
    this.proc = null;
    if (this.dir) await removeAsFlowsUser(this.dir, this.d.runAs);
  }
}

/**
 * Replays [now - window, now) through `candidate` and through `current` (the running
 * configuration; null = the built-in policy alone) and compares the routes.
 */
export async function runDryRun(d: DryRunDeps, candidate: FlowNode[], current: { flows: FlowNode[]; version: number | null } | null): Promise<DryRunReport> {
  const started = performance.now();
  const deadline = started + d.settings.maxDurationMs;
  const checkDeadline = () => {
    if (performance.now() > deadline) {
      throw new Error(
        `the dry-run took longer than ${Math.round(d.settings.maxDurationMs / 1000)} s and was stopped — shorten flows.dryRun.windowHours or raise maxDurationS`,
      );
    }
  };
  const to = d.now();
  const from = to - d.settings.windowMs;
  const warnings: string[] = [];

  // Samples from a little before the window, so signals fresh at its start are known.
  const comp = new SampleCompressor(d.settings.sampleTtlMs);
  for await (const page of d.store.samples(from - d.settings.sampleTtlMs, to)) {
    for (const r of page) comp.push(r);
    checkDeadline();
  }
  if (comp.samples === 0) warnings.push('no recorded signals in the window: both sides see an empty box (ingen registrerte signaler i perioden)');
  if (comp.skipped > 0) warnings.push(`${comp.skipped} samples with an unknown subsystem or status were ignored`);

  const common = { events: comp.events, from, to, tickMs: d.settings.tickMs, policy: d.policy, rules: d.rules, checkDeadline };
  const child = new ReplayChild(d);
  try {
    await child.start();
    const side = async (flows: FlowNode[] | null, label: string, version: number | null): Promise<DryRunSide> => {
      if (!flows) {
        const r = await replay({ ...common, flows: null, label: 'builtin' });
        return {
          kind: 'builtin',
          version: null,
          sha256: null,
          runs: true,
          problem: null,
          routeChanges: changes(r.timeline),
          missedAnswers: 0,
          gaveUpAt: null,
          deviations: 0,
          evaluations: r.evaluations,
          timeline: r.timeline,
        };
      }
      const loaded = await child.load(flows);
      // Flows that Node-RED will not run leave the built-in policy in charge — replay exactly that.
      const r = await replay({ ...common, flows: loaded.runs ? child : null, label });
      return {
        kind: 'flows',
        version,
        sha256: flowsSha256(flows),
        runs: loaded.runs,
        problem: loaded.problem,
        routeChanges: changes(r.timeline),
        missedAnswers: r.missedAnswers,
        gaveUpAt: r.gaveUpAt,
        deviations: child.deviations,
        evaluations: r.evaluations,
        timeline: r.timeline,
      };
    };
    const cur = await side(current?.flows ?? null, current?.version ? `flows:v${current.version}` : 'flows:current', current?.version ?? null);
    const cand = await side(candidate, 'flows:candidate', null);
    for (const [name, s] of [
      ['candidate', cand],
      ['current', cur],
    ] as const) {
      if (s.problem) warnings.push(`${name}: ${s.problem}`);
      if (s.gaveUpAt !== null)
        warnings.push(`${name}: the flow stopped answering at ${new Date(s.gaveUpAt).toISOString()}; the built-in policy decided from there`);
      else if (s.missedAnswers > 0) warnings.push(`${name}: ${s.missedAnswers} evaluations got no answer within ${d.settings.proposalTimeoutMs} ms`);
    }
    const differences = diffTimelines(cand.timeline, cur.timeline, from, to);
    return {
      window: { from, to },
      samples: comp.samples,
      signalChanges: comp.events.length,
      evaluations: cand.evaluations,
      candidate: cand,
      current: cur,
      differences,
      differingMs: differences.reduce((s, x) => s + x.durationMs, 0),
      durationMs: Math.round(performance.now() - started),
      warnings,
    };
  } finally {
    await child.stop();
  }
}

function changes(tl: readonly TimelinePoint[]): number {
  let n = 0;
  for (let k = 1; k < tl.length; k++) if ((tl[k] as TimelinePoint).route !== (tl[k - 1] as TimelinePoint).route) n++;
  return n;
}
