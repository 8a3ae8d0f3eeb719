/**
 * The flows capability in one place, for the composition root: the Node-RED child
 * (runtime.ts), the advisor in the decision loop (advisor.ts), versioned deploys with
 * who/when/diff, rollback, templates and the dry-run. The store's current version is
 * what runs: it is written to Node-RED's flows.json before every (re)start.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FlowsConfig } from '../config/flows.js';
import type { HealthRules } from '../core/health.js';
import type { PolicyConfig } from '../core/policy.js';
import type { Logger } from '../log.js';
import type { Clock } from '../monitors/monitor.js';
import type { Db } from '../store/db.js';
import { type FlowVersion, type FlowVersionKind, type FlowVersionRow, FlowsStore } from '../store/flowsStore.js';
import { type AdvisorStatus, FlowsAdvisor } from './advisor.js';
import { type AdminResponse, adminRequest, deployFlows } from './adminClient.js';
import { diffFlows, type FlowNode, flowsSha256, normalizeFlows } from './diff.js';
import { type DryRunReport, runDryRun } from './dryRun.js';
import { closeDataDirToOthers, type FlowsIdentity, FlowsIsolationError, prepareFlowsHome, resolveFlowsIdentity } from './identity.js';
import { defaultNodesDir } from './process.js';
import { type FlowsEventSink, FlowsRuntime } from './runtime.js';
import { type FlowTemplate, listTemplates, loadTemplate } from './templates.js';

export const FLOWS_ADMIN_ROOT = '/flows';

export interface FlowsServiceDeps {
  cfg: FlowsConfig;
  /** box.dataDir; the flows live in <dataDir>/flows. */
  dataDir: string;
  db: Db;
  clock: Clock;
  log: Logger;
  policy: PolicyConfig;
  rules: HealthRules;
  event: FlowsEventSink;
  env?: NodeJS.ProcessEnv;
}

export interface FlowsStatus extends AdvisorStatus {
  /** Who the Node-RED child runs as; isolated = its own user, not the supervisor's. */
  runsAs: { user: string; uid: number; isolated: boolean };
  /** The version that runs (or should run). */
  version: FlowVersionRow | null;
}

/** Thrown for input the caller got wrong (answered 400/404 by the API). */
export class FlowsInputError extends Error {
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
  }
}

function resolveEnv(s: string, env: NodeJS.ProcessEnv): string {
  return s.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
    const v = env[name];
    if (!v) throw new Error(`flows.credentialSecret refers to \${env:${name}}, which is not set — set it in the service environment`);
    return v;
  });
}

export class FlowsService {
  readonly store: FlowsStore;
  readonly runtime: FlowsRuntime;
  readonly advisor: FlowsAdvisor;
  readonly nodesDir: string;
  readonly adminRoot = FLOWS_ADMIN_ROOT;
  /** Who the Node-RED child runs as (identity.ts). */
  readonly runAs: FlowsIdentity;
  /** The flows user's home: Node-RED's userDir, the editor socket, dry-run scratch. */
  readonly home: string;
  /** Why the child may not start at all (no flows user): the flows stay off, with an alarm. */
  private readonly setupProblem: string | null;
  /** Root-only: <dataDir>/flows (the credential secret). */
  private readonly dir: string;
  private readonly secret: string;
  private currentId: number | null = null;
  private deploying: Promise<unknown> = Promise.resolve();
  private dryRunning: Promise<unknown> = Promise.resolve();

  constructor(private readonly d: FlowsServiceDeps) {
    this.dir = path.join(d.dataDir, 'flows');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.home = d.cfg.homeDir ?? `${d.dataDir.replace(/\/+$/, '')}-flows`;
    const setup = this.isolate();
    this.runAs = setup.id;
    this.setupProblem = setup.problem;
    this.nodesDir = d.cfg.nodesDir ?? defaultNodesDir();
    this.store = new FlowsStore(d.db);
    this.secret = this.credentialSecret();
    const editorScript = path.join(this.nodesDir, 'editor', 'vaktpost-editor.js');
    this.runtime = new FlowsRuntime(
      {
        runAs: this.runAs,
        home: this.home,
        fileNodes: d.cfg.fileNodes,
        ...this.legacyCredentials(),
        userDir: path.join(this.home, 'node-red'),
        socketPath: path.join(this.home, 'run', 'editor.sock'),
        adminRoot: this.adminRoot,
        nodesDir: this.nodesDir,
        editorScripts: existsSync(editorScript) ? [editorScript] : [],
        credentialSecret: this.secret,
        functionTimeoutS: d.cfg.functionTimeoutS,
        heartbeatMs: d.cfg.heartbeatMs,
        hungAfterMs: d.cfg.hungAfterMs,
        restartInitialMs: d.cfg.restartInitialMs,
        restartMaxMs: d.cfg.restartMaxMs,
        stableAfterMs: 60_000,
        startTimeoutMs: 30_000,
        logLevel: d.cfg.logLevel,
      },
      { log: d.log, clock: d.clock, event: d.event, currentFlows: () => this.store.current()?.flows ?? [] },
    );
    this.advisor = new FlowsAdvisor(
      {
        proposalTimeoutMs: d.cfg.proposalTimeoutMs,
        evalEveryMs: d.cfg.evalEveryMs,
        recoverAfterMs: d.cfg.recoverAfterMs,
        startGraceMs: d.cfg.startGraceMs,
        deployGraceMs: d.cfg.deployGraceMs,
        reportMs: d.cfg.heartbeatMs,
        deviationsPerMinute: d.cfg.deviationsPerMinute,
      },
      { runtime: this.runtime, clock: d.clock, log: d.log, event: d.event, versionLabel: () => `flows:v${this.currentId ?? 0}` },
    );
  }

  get socketPath(): string {
    return this.runtime.o.socketPath;
  }

  /** First start: the initial template becomes version 1. Then the child is started. */
  async start(): Promise<void> {
    let cur = this.store.current();
    if (!cur) {
      const t = loadTemplate(this.nodesDir, this.d.cfg.initialTemplate);
      this.record({ flows: t.flows, actor: 'system', kind: 'initial', deployType: null, rev: null, restoredFrom: null, comment: `template ${t.name}` });
      cur = this.store.current();
    }
    this.currentId = cur?.id ?? null;
    if (this.setupProblem) {
      this.d.event({
        kind: 'flows.notIsolated',
        severity: 'alarm',
        subsystem: 'flows',
        en: `The flows do not run: ${this.setupProblem}; the built-in policy decides`,
        nb: `Flytene kjører ikke: flytbrukeren «${this.d.cfg.user}» mangler eller er root (flytene kjører aldri som root); den innebygde policyen bestemmer — opprett brukeren: useradd --system --no-create-home --shell /usr/sbin/nologin ${this.d.cfg.user}`,
      });
      return;
    }
    const built = path.join(this.nodesDir, 'dist', 'flows', 'src', 'nodes', 'index.js');
    if (!existsSync(built)) {
      // Node-RED would report the vaktpost nodes as unknown types and stop every flow: say why.
      this.d.event({
        kind: 'flows.notBuilt',
        severity: 'alarm',
        subsystem: 'flows',
        en: `The vaktpost nodes are not built (${built} missing); the flows cannot run — run \`make build\` (npx tsc -p flows/tsconfig.json)`,
        nb: `Vaktpost-nodene er ikke bygget (${built} mangler); flytene kan ikke kjøre — kjør \`make build\``,
      });
    }
    await this.runtime.start();
  }

  async stop(): Promise<void> {
    await this.runtime.stop();
    this.advisor.dispose();
  }

  status(): FlowsStatus {
    const r = this.runAs;
    return { ...this.advisor.status(), runsAs: { user: r.user, uid: r.uid, isolated: r.isolated }, version: this.store.versions({ limit: 1 })[0] ?? null };
  }

  versions(limit: number, beforeId?: number): FlowVersionRow[] {
    return this.store.versions({ limit, beforeId });
  }

  version(id: number): FlowVersion | null {
    return this.store.version(id);
  }

  templates(): FlowTemplate[] {
    return listTemplates(this.nodesDir);
  }

  template(name: string): FlowTemplate {
    try {
      return loadTemplate(this.nodesDir, name);
    } catch (err) {
      throw new FlowsInputError((err as Error).message, 404);
    }
  }

  /**
   * A deploy from the editor (POST /flows/flows through the proxy): forwarded to
   * Node-RED unchanged, and recorded as a new version when Node-RED accepts it.
   */
  async deployFromEditor(raw: Buffer, headers: Record<string, string>, actor: string): Promise<AdminResponse> {
    const type = (headers['node-red-deployment-type'] ?? 'full').toLowerCase();
    const forward = (): Promise<AdminResponse> =>
      adminRequest(this.socketPath, 'POST', `${this.adminRoot}/flows`, raw, {
        ...(headers['node-red-api-version'] ? { 'Node-RED-API-Version': headers['node-red-api-version'] } : {}),
        'Node-RED-Deployment-Type': type,
        'content-type': headers['content-type'] ?? 'application/json',
      });
    if (type === 'reload') {
      // Restarts the same flows: nothing new to version.
      return this.serial(async () => {
        const res = await forward();
        if (ok(res))
          this.d.event({
            kind: 'flows.reloaded',
            severity: 'info',
            subsystem: 'flows',
            actor,
            en: `Flows restarted by ${actor}`,
            nb: `Flytene startet på nytt av ${actor}`,
          });
        return res;
      });
    }
    let flows: FlowNode[];
    try {
      flows = normalizeFlows(JSON.parse(raw.toString('utf8')) as unknown);
    } catch (err) {
      throw new FlowsInputError(`not a flow configuration: ${(err as Error).message}`);
    }
    return this.serial(async () => {
      const res = await forward();
      if (ok(res)) {
        let rev: string | null = null;
        try {
          const j = JSON.parse(res.body) as { rev?: unknown };
          rev = typeof j.rev === 'string' ? j.rev : null;
        } catch {}
        this.record({ flows, actor, kind: 'deploy', deployType: type, rev, restoredFrom: null, comment: null });
      }
      return res;
    });
  }

  /** A deploy Vaktpost makes itself (API/CLI: a template, a stored configuration). */
  async deploy(body: unknown, actor: string, comment: string | null = null): Promise<FlowVersionRow> {
    let flows: FlowNode[];
    try {
      flows = normalizeFlows(body);
    } catch (err) {
      throw new FlowsInputError((err as Error).message);
    }
    return this.serial(async () => {
      const rev = await this.apply(flows);
      return this.record({ flows, actor, kind: 'deploy', deployType: 'full', rev, restoredFrom: null, comment });
    });
  }

  async rollback(versionId: number, actor: string, comment: string | null = null): Promise<FlowVersionRow> {
    const v = this.store.version(versionId);
    if (!v) throw new FlowsInputError(`no flow version ${versionId}`, 404);
    return this.serial(async () => {
      const rev = await this.apply(v.flows);
      return this.record({ flows: v.flows, actor, kind: 'rollback', deployType: 'full', rev, restoredFrom: versionId, comment });
    });
  }

  /** Replays the recorded window through `body` and through the running version. One at a time. */
  async dryRun(body: unknown, actor: string): Promise<{ id: number; report: DryRunReport }> {
    let flows: FlowNode[];
    try {
      flows = normalizeFlows(body);
    } catch (err) {
      throw new FlowsInputError((err as Error).message);
    }
    if (this.setupProblem) throw new FlowsInputError(`no dry-run: ${this.setupProblem}`, 409);
    const run = this.dryRunning.then(async () => {
      const cur = this.store.current();
      const dr = this.d.cfg.dryRun;
      const report = await runDryRun(
        {
          store: this.store,
          policy: this.d.policy,
          rules: this.d.rules,
          log: this.d.log,
          nodesDir: this.nodesDir,
          workDir: this.home,
          runAs: this.runAs,
          fileNodes: this.d.cfg.fileNodes,
          credentialSecret: this.secret,
          now: this.d.clock.now,
          settings: {
            windowMs: dr.windowHours * 3600_000,
            tickMs: dr.tickS * 1000,
            sampleTtlMs: dr.sampleTtlS * 1000,
            proposalTimeoutMs: dr.proposalTimeoutMs,
            maxDurationMs: dr.maxDurationS * 1000,
            functionTimeoutS: this.d.cfg.functionTimeoutS,
          },
        },
        flows,
        cur ? { flows: cur.flows, version: cur.id } : null,
      );
      const id = this.store.insertDryRun({
        at: this.d.clock.now(),
        actor,
        candidateSha256: flowsSha256(flows),
        baseVersion: cur?.id ?? null,
        windowFrom: report.window.from,
        windowTo: report.window.to,
        differences: report.differences.length,
        report,
      });
      this.d.event({
        kind: 'flows.dryRun',
        severity: 'info',
        subsystem: 'flows',
        actor,
        en: `Dry-run #${id} by ${actor}: ${report.differences.length} periods where the routes differ from v${cur?.id ?? '–'} over the last ${Math.round((report.window.to - report.window.from) / 3600_000)} h`,
        nb: `Prøvekjøring #${id} av ${actor}: ${report.differences.length} perioder der rutene avviker fra v${cur?.id ?? '–'} siste ${Math.round((report.window.to - report.window.from) / 3600_000)} t`,
        data: { dryRunId: id, differences: report.differences.length, warnings: report.warnings },
      });
      return { id, report };
    });
    this.dryRunning = run.catch(() => {});
    return run;
  }

  /**
   * Puts a configuration into Node-RED. When the child is down (crashed, or killed as
   * hung and waiting for its restart) the new version is only recorded: the restart
   * writes the store's current version to flows.json — so a rollback works even when
   * the broken flow keeps the child from staying up.
   */
  private async apply(flows: FlowNode[]): Promise<string | null> {
    const down = () => ['crashed', 'hung'].includes(this.runtime.status().state);
    if (down()) return null;
    try {
      return await deployFlows(this.socketPath, this.adminRoot, flows);
    } catch (err) {
      // The child went down under the request (e.g. killed as hung): the restart loads it.
      if (down()) return null;
      // Still booting with the previous flows.json: restart it so it loads this version.
      if (this.runtime.status().state === 'starting') {
        this.runtime.restartNow('to load the version just recorded');
        return null;
      }
      throw err;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.deploying.then(fn);
    this.deploying = p.catch(() => {});
    return p;
  }

  private record(v: {
    flows: FlowNode[];
    actor: string;
    kind: FlowVersionKind;
    deployType: string | null;
    rev: string | null;
    restoredFrom: number | null;
    comment: string | null;
  }): FlowVersionRow {
    const now = this.d.clock.now();
    const prev = this.store.current();
    const diff = diffFlows(prev?.flows ?? [], v.flows);
    const sha256 = flowsSha256(v.flows);
    const dry = this.store.latestDryRunFor(sha256, now - 24 * 3600_000);
    const id = this.store.insertVersion({ ...v, at: now, sha256, diff, dryRunId: dry?.id ?? null });
    this.currentId = id;
    if (v.kind !== 'initial') {
      const dryText = dry ? `dry-run #${dry.id}: ${dry.differences} differing periods` : 'without a dry-run';
      const dryTextNb = dry ? `prøvekjøring #${dry.id}: ${dry.differences} avvikende perioder` : 'uten prøvekjøring';
      const what = v.kind === 'rollback' ? `rolled back to v${v.restoredFrom} as v${id}` : `v${id} deployed`;
      const whatNb = v.kind === 'rollback' ? `rullet tilbake til v${v.restoredFrom} som v${id}` : `v${id} lagt ut`;
      this.d.event({
        kind: v.kind === 'rollback' ? 'flows.rolledBack' : 'flows.deployed',
        severity: 'warn',
        subsystem: 'flows',
        actor: v.actor,
        en: `Flows ${what} by ${v.actor} (${diff.summary}), ${dryText}`,
        nb: `Flyter ${whatNb} av ${v.actor} (${diff.summary}), ${dryTextNb}`,
        data: { version: id, diff: diff.summary, dryRunId: dry?.id ?? null, restoredFrom: v.restoredFrom },
      });
    }
    return this.store.versions({ limit: 1 })[0] as FlowVersionRow;
  }

  /**
   * Decides who the child runs as and prepares its home. Throws FlowsIsolationError (the
   * composition root turns it into an alarm) rather than run flows as root.
   */
  private isolate(): { id: FlowsIdentity; problem: string | null } {
    let id: FlowsIdentity;
    try {
      id = resolveFlowsIdentity(this.d.cfg.user);
      if (id.isolated) closeDataDirToOthers(this.d.dataDir);
      else
        this.d.log.warn(
          { user: this.d.cfg.user, home: this.home },
          `flows child NOT isolated: ${id.why} — run the supervisor as vaktpost.service does (CAP_SETUID/CAP_SETGID, or root) with flows.user "${this.d.cfg.user}" created`,
        );
      prepareFlowsHome(this.home, id);
      return { id, problem: null };
    } catch (err) {
      if (!(err instanceof FlowsIsolationError)) throw err;
      // Never started, so never root: a placeholder no child is forked with.
      return { id: { isolated: false, user: this.d.cfg.user, uid: -1, gid: -1, why: err.message }, problem: err.message };
    }
  }

  /** Before the child had its own home, Node-RED's userDir was <dataDir>/flows/node-red: keep its node credentials. */
  private legacyCredentials(): { legacyCredentials?: string } {
    const file = path.join(this.dir, 'node-red', 'flows_cred.json');
    return existsSync(file) ? { legacyCredentials: readFileSync(file, 'utf8') } : {};
  }

  private credentialSecret(): string {
    if (this.d.cfg.credentialSecret) return resolveEnv(this.d.cfg.credentialSecret, this.d.env ?? process.env);
    const file = path.join(this.dir, 'credential-secret');
    if (existsSync(file)) return readFileSync(file, 'utf8').trim();
    // Fixed for the life of the box: Node-RED's encrypted credentials depend on it.
    const secret = randomBytes(32).toString('hex');
    writeFileSync(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

function ok(res: AdminResponse): boolean {
  return res.status >= 200 && res.status < 300;
}
