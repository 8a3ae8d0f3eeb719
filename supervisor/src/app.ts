/**
 * Composition root: the one place where drivers, monitors, actuators, the core
 * loop, the store and the API are wired together. Nothing else reaches for globals.
 *
 * Two phases: first everything is built (constructors start nothing), then the parts
 * that run are started as components in dependency order and stopped in reverse
 * (lifecycle/components.ts): a part that fails to start stops what started before it.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { playScenario, loadScenario } from '../../hardware/sim/scenario.js';
import { defaultSimState, SimBox } from '../../hardware/sim/simBox.js';
import { Accounts, LoginThrottle } from './api/auth.js';
import { buildApi } from './api/server.js';
import { ensureSelfSignedCert } from './api/tls.js';
import { registerFlowsRoutes } from './api/flowsRoutes.js';
import { registerTestHooksRoutes } from './api/testHooksRoutes.js';
import { FlowsService } from './flows/service.js';
import { EvidenceService } from './evidence/service.js';
import { evidenceDeps } from './evidence/wiring.js';
import { createAudioLog } from './audiolog/service.js';
import { resolveAudiologConfig } from './config/audiolog.js';
import { configWarnings, monitoredSubsystems } from './config/load.js';
import type { VaktpostConfig } from './config/schema.js';
import type { PolicyConfig } from './core/policy.js';
import type { Subsystem } from './core/signal.js';
import type { Logger } from './log.js';
import { type Clock, type Monitor, systemClock } from './monitors/monitor.js';
import { SimMonitor } from './monitors/simMonitor.js';
import { SystemMonitor } from './monitors/systemMonitor.js';
import { HostSystemProbe } from '../../hardware/system/systemProbe.js';
import { SimSystemProbe } from '../../hardware/sim/simSystem.js';
import { createTimeMonitors } from './monitors/timeMonitors.js';
import { SimTimeSource } from '../../hardware/sim/simTime.js';
import { SimUpsReader } from '../../hardware/sim/simUps.js';
import { SimGpioBackend } from '../../hardware/sim/simGpio.js';
import { createOnoffBackend } from '../../hardware/gpio/onoffBackend.js';
import type { GpioBackend } from '../../hardware/gpio/types.js';
import { GpioConfigSchema, UpsConfigSchema, type GpioConfig } from './config/power.js';
import { UpsMonitor } from './monitors/upsMonitor.js';
import { GpioMonitor } from './monitors/gpioMonitor.js';
import { openPowerOutputs } from './monitors/gpioLines.js';
import { LineRelayActuator } from './reconcilers/lineRelay.js';
import { ShutdownChoreography } from './jobs/shutdownChoreography.js';
import { Drill } from './jobs/drill.js';
import { FsdRelease } from './jobs/fsdRelease.js';
import { scheduleDrill } from './jobs/drillSchedule.js';
import { storeRetentionDuty } from './jobs/storeRetention.js';
import { controlSecretOf, kamailioRpcFromConfig } from './reconcilers/kamailio/controlSecret.js';
import { KamailioActuator } from './reconcilers/kamailio/kamailioActuator.js';
import { dispatcherListPathOf } from './reconcilers/kamailio/files.js';
import { CallOutcomeMonitor } from './monitors/callOutcomeMonitor.js';
import { KamailioMonitor } from './monitors/kamailioMonitor.js';
import { WanMonitor } from './monitors/wanMonitor.js';
import { CentresMonitor } from './monitors/centresMonitor.js';
import type { RouteActuator } from './reconcilers/actuator.js';
import { Reconciler } from './reconcilers/reconciler.js';
import { SimRouteActuator } from './reconcilers/simRouteActuator.js';
import { Heartbeat } from './reconcilers/upstream/heartbeat.js';
import { WebhookActuator } from './reconcilers/upstream/webhookActuator.js';
import { HeartbeatMonitor } from './monitors/heartbeatMonitor.js';
import { openDb } from './store/db.js';
import { secureDataDir } from './store/dataDir.js';
import { Store } from './store/store.js';
import { Supervisor } from './supervisor.js';
import { Guard } from './guard.js';
import { TestHooks } from './testHooks.js';
import { type Component, Components } from './lifecycle/components.js';
import { EventLoopMonitor } from './monitors/eventLoopMonitor.js';

export interface App {
  supervisor: Supervisor;
  evidence: EvidenceService;
  store: Store;
  api: FastifyInstance;
  sim: SimBox | null;
  url: string;
  /** Set on the very first start only: shown once, never stored in clear. */
  initialAdmin: { username: string; password: string; generated: boolean } | null;
  stop(): Promise<void>;
}

export interface AppOptions {
  log: Logger;
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
}

export async function startApp(cfg: VaktpostConfig, opts: AppOptions): Promise<App> {
  const clock = opts.clock ?? systemClock;
  const env = opts.env ?? process.env;
  const log = opts.log;
  const tightened = secureDataDir(cfg.box.dataDir);
  if (tightened.length > 0) {
    log.warn({ tightened }, `data dir: took group/other access away from ${tightened.length} path(s) — the data dir and its files are owner-only`);
  }
  const store = new Store(openDb(path.join(cfg.box.dataDir, 'vaktpost.db')));
  try {
    return await buildAndStart(cfg, { log, clock, env, store });
  } catch (err) {
    store.close();
    throw err;
  }
}

async function buildAndStart(
  cfg: VaktpostConfig,
  { log, clock, env, store }: { log: Logger; clock: Clock; env: NodeJS.ProcessEnv; store: Store },
): Promise<App> {
  // Where the outside world stood when this process last decided: outputs open there.
  const stored = store.lastDecision();
  const accounts = new Accounts(store.db, clock.now);
  const initialAdmin = await accounts.ensureAdmin(env.VAKTPOST_ADMIN_PASSWORD);
  if (initialAdmin?.generated) {
    // Like Jenkins' initialAdminPassword: root-only file, for the installer to read once.
    writeFileSync(path.join(cfg.box.dataDir, 'initial-admin-password'), `${initialAdmin.password}\n`, { mode: 0o600 });
  }
  accounts.writeCliToken(path.join(cfg.box.dataDir, 'cli.token'));

  const monitors: Monitor[] = [];
  let upsMonitor: UpsMonitor | null = null;
  const actuators: RouteActuator[] = [];
  let sim: SimBox | null = null;
  let stopScenario: (() => void) | null = null;
  const monitored: Subsystem[] = [];

  const ref: { supervisor: Supervisor | null } = { supervisor: null };
  // One guard for every timer, sink and background promise (guard.ts): a fault is logged,
  // becomes an alarm once the supervisor exists, and the loop goes on.
  const guard = new Guard(log, (f) => ref.supervisor?.internalFault(f));
  // Fault injection for the chaos suite; null unless VAKTPOST_TEST_HOOKS=1.
  const hooks = TestHooks.fromEnv(env);
  if (hooks) log.warn('test hooks are enabled (VAKTPOST_TEST_HOOKS=1): faults can be injected over the API — never on a real box');
  const onWallClockStep = (step: { stepMs: number; atMs: number }) =>
    ref.supervisor?.event({
      kind: 'time.wallClockStep',
      severity: 'warn',
      subsystem: 'time',
      en: `The box's wall clock stepped by ${(step.stepMs / 1000).toFixed(3)} s`,
      nb: `Boksens klokke hoppet ${(step.stepMs / 1000).toFixed(3)} s`,
      data: step,
    });

  // Power: UPS (NUT), GPIO contacts and the line relay, through the same monitors on the
  // simulated box as on the real one.
  const powerInputs = async (gpio: GpioConfig, backend: GpioBackend) => {
    monitors.push(new GpioMonitor({ gpio, backend, clock }));
    const outputs = await openPowerOutputs(gpio, backend, { relayLocal: stored?.route === 'local' });
    if (outputs.lineRelay) actuators.push(new LineRelayActuator(outputs.lineRelay));
  };

  if (cfg.box.hardware === 'simulated') {
    sim = new SimBox(defaultSimState(cfg.sim.ups, cfg.sim.links));
    monitors.push(new SimMonitor(sim, clock, cfg.sim.reportMs, cfg.calls !== undefined, { guard, log, hooks }));
    // Where a real driver exists, the simulator stands behind the driver's interface
    // and the real monitor runs on top of it.
    monitors.push(...createTimeMonitors(cfg.time, { source: new SimTimeSource(sim), clock, guard, onWallClockStep }));
    monitors.push(
      new UpsMonitor({ ups: cfg.sim.ups.map((name) => UpsConfigSchema.parse({ name })), reader: new SimUpsReader(sim), clock, source: () => 'sim:ups', guard }),
    );
    await powerInputs(
      GpioConfigSchema.parse({
        enabled: true,
        chipLabel: 'sim',
        inputs: { mains: { line: 0 } },
        outputs: { lineRelay: { line: 1 }, alarmLamp: { line: 2 } },
      }),
      new SimGpioBackend(sim),
    );
    actuators.push(new SimRouteActuator(sim));
    monitored.push('power', 'time', 'wan', 'centres', 'recording', 'telephony', 'system');
  } else {
    monitors.push(...createTimeMonitors(cfg.time, { clock, guard, onWallClockStep }));
    monitored.push('time', 'system');
    if (cfg.power.ups.length > 0) {
      upsMonitor = new UpsMonitor({ ups: cfg.power.ups, clock, guard });
      monitors.push(upsMonitor);
    }
    if (cfg.power.gpio.enabled) {
      try {
        await powerInputs(cfg.power.gpio, createOnoffBackend({ sysfsRoot: cfg.power.gpio.sysfsRoot }));
      } catch (err) {
        // A relay that cannot be opened stays de-energised = backup: safe. Say so loudly.
        log.error({ err: (err as Error).message }, 'GPIO outputs could not be opened; the line relay stays de-energised (calls to backup)');
      }
    }
    if (cfg.power.ups.length > 0 || cfg.power.gpio.enabled) monitored.push('power');
    if (cfg.wan) {
      // Per-uplink probes pinned by source address; centres probed with SIP OPTIONS on every path.
      monitors.push(new WanMonitor(cfg.wan, { clock }), new CentresMonitor(cfg.wan, { clock }));
      monitored.push('wan', 'centres');
    }
  }

  // The supervisor's own event loop: a lagging loop makes every probe late.
  monitors.push(new EventLoopMonitor(cfg.system.eventLoop, clock));

  // The box's own CPU temperature, memory and disks (simulated on the simulated box,
  // so a demo can fill its disk). Default disks: the data dir and /.
  monitors.push(
    new SystemMonitor({
      probe: sim ? new SimSystemProbe(sim) : new HostSystemProbe(),
      cfg: cfg.system,
      disks: cfg.system.disks ?? [
        { name: 'data', path: cfg.box.dataDir },
        { name: 'root', path: '/' },
      ],
      clock,
      log,
      guard,
    }),
  );

  // Calls: Kamailio's dispatcher follows the route (on the simulated box too, when a
  // real Kamailio is configured, e.g. for demos and the call tests).
  if (cfg.calls) {
    const calls = cfg.calls;
    // Authenticated with the box's control secret (created on first start): Kamailio refuses RPC without it.
    const rpc = kamailioRpcFromConfig(calls);
    actuators.push(
      new KamailioActuator({
        rpc,
        centres: { local: calls.centres.local.uris, backup: calls.centres.backup.uris },
        verify: {
          optionsTimeoutMs: calls.verify.optionsTimeoutMs,
          acceptCodes: [],
          ...(calls.verify.localAddress ? { localAddress: calls.verify.localAddress } : {}),
          ...(calls.verify.testCall.enabled
            ? {
                testCall: {
                  kamailioHost: '127.0.0.1',
                  kamailioPort: calls.sip.port,
                  number: calls.verify.testCall.number,
                  timeoutMs: calls.verify.testCall.timeoutMs,
                },
              }
            : {}),
        },
        // The list file Kamailio (re)starts from follows the target: a restart while the
        // supervisor is down keeps the route (kamailio-render writes the same path).
        persist: {
          dispatcherListPath: dispatcherListPathOf(calls),
          renderInput: { centres: { local: calls.centres.local.uris, backup: calls.centres.backup.uris }, announcement: calls.announcement },
        },
        onRestart: (info) =>
          ref.supervisor?.event({
            kind: 'kamailio.restarted',
            severity: 'warn',
            subsystem: 'telephony',
            en: `Kamailio restarted (pid ${info.mainPid}, up since ${info.upSince}); re-applying the route`,
            nb: `Kamailio startet på nytt (pid ${info.mainPid}); ruten settes på nytt`,
          }),
      }),
    );
    monitors.push(new KamailioMonitor(rpc, clock, 1000, guard));
    if (!monitored.includes('telephony')) monitored.push('telephony');
    // What the calls say about the local centre (answers OPTIONS but fails every INVITE).
    monitors.push(new CallOutcomeMonitor(rpc, clock, 1000, guard));
  }

  // Upstream: the reroute webhook follows the route like any actuator; the heartbeat
  // stops when this box stops, so the upstream side can reroute on its own.
  const currentReason = () =>
    ref.supervisor
      ?.snapshot()
      .reasons.map((r) => r.en)
      .join('; ') ?? 'starting';
  if (cfg.upstream.webhook) actuators.push(new WebhookActuator(cfg.upstream.webhook, { box: cfg.box.name, reason: currentReason, env }));
  if (cfg.upstream.heartbeat) {
    const hb = new Heartbeat(cfg.upstream.heartbeat, { box: cfg.box.name, route: () => ref.supervisor?.route ?? 'unknown', env });
    monitors.push(new HeartbeatMonitor(hb, clock, guard));
    if (!monitored.includes('telephony')) monitored.push('telephony');
  }

  const reconcilers = actuators.map(
    (a) =>
      new Reconciler(a, {
        retryInitialMs: cfg.reconcile.retryInitialMs,
        retryMaxMs: cfg.reconcile.retryMaxMs,
        driftCheckMs: cfg.reconcile.driftCheckMs,
        now: clock.now,
        guard,
        hooks,
        // Through the supervisor's journal: a store that cannot write does not stop the actuator.
        record: (r) =>
          ref.supervisor?.journal.action({
            at: clock.now(),
            decisionId: r.decisionId,
            actuator: r.actuator,
            kind: r.kind,
            target: r.target,
            ok: r.ok,
            detail: r.detail,
            durationMs: r.durationMs,
          }),
      }),
  );

  // The audio log: rtpengine's recordings archived and checked (needs a real Kamailio with
  // calls.recording; on the simulated box the simulated recorder reports instead).
  const audiologCfg = cfg.audiolog?.enabled && cfg.calls?.recording.enabled ? resolveAudiologConfig(cfg.audiolog, cfg.box.dataDir) : null;
  const audiolog =
    audiologCfg && cfg.calls
      ? createAudioLog({
          cfg: audiologCfg,
          calls: cfg.calls,
          db: store.db,
          clock,
          log,
          guard,
          event: (e) => ref.supervisor?.event(e),
          controlSecret: controlSecretOf(cfg.calls),
        })
      : null;
  if (audiolog) {
    monitors.push(...audiolog.monitors);
    if (!monitored.includes('recording')) monitored.push('recording');
  }

  // The municipality's flows: a Node-RED child process whose proposals are advisory,
  // under a timeout and the safety floor; without it the built-in policy decides.
  if (cfg.flows.enabled) monitored.push('flows');
  // check-config's warnings are computed from the config alone (config/load.ts): say so if
  // the two ever disagree about what is monitored.
  const predicted = monitoredSubsystems(cfg);
  if (predicted.length !== monitored.length || predicted.some((m) => !monitored.includes(m)))
    log.warn({ monitored, predicted }, 'config/load.ts monitoredSubsystems() disagrees with app.ts: check-config warnings may be wrong');
  const policy: PolicyConfig = {
    monitored,
    failoverOn: cfg.policy.failoverOn,
    failbackHoldMs: cfg.policy.failbackHoldS * 1000,
    holdDownMs: cfg.policy.holdDownS * 1000,
  };
  const flows = cfg.flows.enabled
    ? new FlowsService({
        cfg: cfg.flows,
        dataDir: cfg.box.dataDir,
        db: store.db,
        clock,
        log: log.child({ area: 'flows' }),
        policy,
        rules: cfg.power.policy,
        event: (e) => ref.supervisor?.event(e),
        env,
      })
    : null;
  if (flows) monitors.push(flows.advisor);
  const supervisor = new Supervisor({
    ...(flows ? { decisionAdvisor: flows.advisor } : {}),
    box: cfg.box.name,
    store,
    clock,
    log,
    guard,
    monitors,
    reconcilers,
    policy,
    rules: cfg.power.policy,
    tickMs: cfg.policy.tickMs,
  });
  ref.supervisor = supervisor;
  // Evidence listens to the live bus itself (deviations, drills, duties); started before
  // the supervisor so it sees every event.
  const evidence = new EvidenceService(evidenceDeps({ box: cfg.box, calls: cfg.calls, evidence: cfg.evidence, db: store.db, supervisor, now: clock.now, log }));
  // Samples, events, decisions and actions past `retention:` (a recorded duty, like evidence's own).
  if (cfg.retention.enabled)
    evidence.duties.add(storeRetentionDuty({ db: store.db, cfg: cfg.retention, outageSignals: cfg.evidence.availability.outageSignals, now: clock.now }));
  const shutdown = cfg.power.policy.shutdownCommand
    ? new ShutdownChoreography(supervisor, reconcilers, {
        command: cfg.power.policy.shutdownCommand,
        now: clock.now,
        retries: cfg.power.policy.shutdownTries,
        retryMs: cfg.power.policy.shutdownRetryS * 1000,
      })
    : null;

  const ups = upsMonitor;
  const fsdRelease = ups ? new FsdRelease(supervisor, reconcilers, { logout: (ids) => ups.logout(ids) }) : null;

  const tls = cfg.api.tls ? ensureSelfSignedCert(path.join(cfg.box.dataDir, 'tls'), { commonName: cfg.box.name, listen: cfg.api.listen }) : undefined;
  if (tls)
    log.info({ fingerprint: tls.fingerprint, generated: tls.generated }, 'HTTPS with the box certificate (compare the SHA-256 fingerprint in the browser)');
  const drill = new Drill(supervisor, reconcilers, { now: clock.now, stepTimeoutMs: 20_000 });
  const api = await buildApi({
    log,
    drill,
    supervisor,
    store,
    accounts,
    throttle: new LoginThrottle(clock.now),
    sessionHours: cfg.api.sessionHours,
    sim,
    now: clock.now,
    ...(tls ? { tls } : {}),
    evidence: { evidence, store, box: cfg.box.name, timeZone: cfg.evidence.timeZone, now: clock.now },
    ...(audiolog && audiologCfg ? { audiolog: { audiolog, access: audiologCfg.access } } : {}),
  });
  if (flows) registerFlowsRoutes(api, { flows, accounts });
  if (hooks) registerTestHooksRoutes(api, hooks);
  // A handler that fails with a 5xx is a fault of ours: an alarm too (the API's error
  // handler has already logged it with the request id).
  api.addHook('onError', async (req, _reply, err) => {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === undefined || status >= 500)
      ref.supervisor?.internalFault({ where: `API ${req.method} ${req.routeOptions.url ?? req.url}`, error: err, at: clock.now() });
  });

  // Dependency order; stopped in reverse. The audio log and evidence listen before the
  // supervisor starts so they see its first events; the API listens last, once there is
  // a decision to show.
  let drillTask: ReturnType<typeof scheduleDrill> = null;
  const components: Component[] = [
    { name: 'audio log', start: () => audiolog?.start(), stop: () => audiolog?.stop() },
    { name: 'evidence', start: () => evidence.start(), stop: () => evidence.stop() },
    { name: 'shutdown choreography', start: () => shutdown?.start(), stop: () => shutdown?.stop() },
    { name: 'FSD release', start: () => fsdRelease?.start(), stop: () => fsdRelease?.stop() },
    {
      name: 'drill schedule',
      start: () => {
        drillTask = cfg.calls ? scheduleDrill(cfg.calls.drill, drill, supervisor, clock.now) : null;
      },
      stop: async () => {
        await drillTask?.stop();
      },
    },
    // Never throws for a failing child: the built-in policy covers it.
    { name: 'flows', start: () => flows?.start(), stop: () => flows?.stop() },
    { name: 'supervisor', start: () => supervisor.start(), stop: () => supervisor.stop() },
    {
      name: 'api',
      start: async () => {
        try {
          await api.listen({ host: cfg.api.listen, port: cfg.api.port });
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const why = code === 'EADDRINUSE' ? 'the port is already in use — is another Vaktpost running? change api.port' : (err as Error).message;
          throw new Error(`cannot listen on ${cfg.api.listen}:${cfg.api.port}: ${why}`);
        }
      },
      stop: () => api.close(),
    },
    {
      name: 'scenario',
      start: () => {
        if (sim && cfg.sim.scenario) {
          const scenario = loadScenario(cfg.sim.scenario);
          stopScenario = playScenario(sim, scenario, (i) => log.info({ step: i }, 'scenario step played'));
        }
      },
      stop: () => stopScenario?.(),
    },
  ];
  const running = new Components(log);
  try {
    await running.start(components);
  } catch (err) {
    await api.close().catch(() => {});
    throw err;
  }
  // A valid config that does not do what it says (what `check-config` warns about): logged
  // and on record, so the operator sees it in the events too.
  for (const w of configWarnings(cfg)) {
    supervisor.event({
      kind: 'config.warning',
      severity: 'warn',
      subsystem: 'system',
      en: `Config: ${w.path}: ${w.message}`,
      nb: `Konfigurasjon: ${w.path}: ${w.nb}`,
      data: { path: w.path, trigger: w.trigger },
    });
  }
  const addr = api.server.address();
  const port = addr && typeof addr === 'object' ? addr.port : cfg.api.port;
  const url = `${tls ? 'https' : 'http'}://${cfg.api.listen.includes(':') ? `[${cfg.api.listen}]` : cfg.api.listen}:${port}`;

  return {
    supervisor,
    evidence,
    store,
    api,
    sim,
    url,
    initialAdmin,
    async stop() {
      await running.stop();
      store.close();
    },
  };
}
