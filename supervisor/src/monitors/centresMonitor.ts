/**
 * Centre reachability: SIP OPTIONS to the local centre, the backup centre and the
 * SIP trunk over *each* uplink (bound to the uplink's source address), giving
 *   centres.local.<link>, centres.backup.<link>, centres.trunk.<link>   ok / fail
 * A path is `unknown` until enough probes have spoken, so the core can tell
 * "local centre unreachable on every path" (all fail) from "not known yet".
 * Only a SIP response counts: an ICMP port-unreachable proves the host, not the
 * centre's SIP service.
 *
 * Centres given by host name are resolved apart from the probes (hardware/net/dnsCache.ts):
 * probes go to the last good addresses, also while DNS fails (stale-on-error), and
 * DNS trouble is its own signal
 *   centres.dns        ok / warn      the centres' names resolve
 * — a warning (core/health.ts counts it with the trunk: an alarm, never a reason to
 * move calls). Not `centres.<role>.dns`: health reads every `centres.local.*` key as a
 * path, and a warn there would stop "unreachable on every path" from ever being true.
 * A name that never resolved is not probed: its paths stay `unknown`, not `fail`.
 */
import { DnsCache, type NameResolver, systemResolver } from '../../../hardware/net/dnsCache.js';
import { dnsSummary } from './dnsSignal.js';
import { ProbeLoop, type Round } from '../../../hardware/net/probeLoop.js';
import { describeTarget, TargetProber } from '../../../hardware/net/prober.js';
import { type CentreTargetConfig, TRUNK_DEFAULT_INTERVAL_MS, type WanConfig, type WanLinkConfig } from '../config/wan.js';
import { initialReach, onReachProbe, type ReachParams, type ReachState } from '../core/linkState.js';
import type { SignalStatus } from '../core/signal.js';
import { realTimers, type Repeating, repeatEvery, type Timers } from '../../../hardware/timers.js';
import { type Clock, type Monitor, type SignalSink, systemClock, timersOf } from './monitor.js';

export const CENTRE_ROLES = ['local', 'backup', 'trunk'] as const;
export type CentreRole = (typeof CENTRE_ROLES)[number];

interface Path {
  role: CentreRole;
  link: WanLinkConfig;
  key: string;
  loop: ProbeLoop;
  probers: TargetProber[];
  params: ReachParams;
  reach: ReachState;
  last: { status?: number; rttMs?: number; detail: string } | undefined;
}

export class CentresMonitor implements Monitor {
  readonly name = 'centres';
  private readonly clock: Clock;
  private readonly paths: Path[] = [];
  private heartbeat: Repeating | undefined;
  private readonly timers: Timers;
  private emit: SignalSink = () => {};
  readonly dns: DnsCache;

  constructor(
    private readonly cfg: WanConfig,
    opts: { clock?: Clock; resolver?: NameResolver } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    // A supervisor's clock brings its timers (unref'd); a stand-alone monitor process gets Node's.
    this.timers = timersOf(opts.clock) ?? realTimers;
    this.dns = new DnsCache({
      resolve: opts.resolver ?? systemResolver({ timeoutMs: cfg.dns.timeoutMs, tries: cfg.dns.tries }),
      now: () => this.clock.monotonic(),
      timers: this.timers,
      timing: cfg.dns,
      onChange: () => this.emitDns(),
    });
    const c = cfg.centres;
    for (const role of CENTRE_ROLES) {
      const target: CentreTargetConfig | undefined = c[role];
      if (!target) continue;
      const intervalMs = target.intervalMs ?? (role === 'trunk' ? TRUNK_DEFAULT_INTERVAL_MS : c.intervalMs);
      const params: ReachParams = { failAfter: target.failAfter ?? c.failAfter, okAfter: target.okAfter ?? c.okAfter };
      for (const link of cfg.links) {
        for (const e of target.endpoints) this.dns.watch(e.host);
        const probers = target.endpoints.map(
          (e) =>
            new TargetProber(
              { kind: 'sip', host: e.host, port: e.port, ...(e.uri !== undefined ? { uri: e.uri } : {}) },
              link.sourceAddress,
              cfg.timeout,
              this.dns,
            ),
        );
        const loop = new ProbeLoop({
          intervalMs,
          probers,
          monotonic: () => this.clock.monotonic(),
          timers: this.timers,
          onRound: (r) => this.onRound(path, r),
        });
        const path: Path = { role, link, key: `centres.${role}.${link.name}`, probers, params, reach: initialReach(), last: undefined, loop };
        this.paths.push(path);
      }
    }
  }

  async start(emit: SignalSink): Promise<void> {
    this.emit = emit;
    this.dns.start();
    this.emitDns();
    for (const p of this.paths) {
      this.emitPath(p);
      p.loop.start();
    }
    this.heartbeat = repeatEvery(this.timers, this.cfg.reportEveryMs, () => {
      for (const p of this.paths) this.emitPath(p);
      this.emitDns();
    });
  }

  async stop(): Promise<void> {
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    this.dns.stop();
    for (const p of this.paths) p.loop.stop();
  }

  private onRound(p: Path, r: Round): void {
    // Endpoints whose name has no address yet were not probed: no verdict from them.
    const results = r.results.filter((x) => !x.unresolved);
    if (results.length === 0) {
      p.last = { detail: r.results.map((x) => x.detail).join('; ') };
      return;
    }
    const best = results.find((x) => x.serviceAnswered);
    p.last = best
      ? {
          detail: best.detail,
          ...(best.status !== undefined ? { status: best.status } : {}),
          ...(best.rttMs !== undefined ? { rttMs: best.rttMs } : {}),
        }
      : { detail: results.map((x) => x.detail).join('; ') };
    const before = p.reach.status;
    p.reach = onReachProbe(p.reach, p.params, best !== undefined);
    if (p.reach.status !== before) this.emitPath(p);
  }

  private emitPath(p: Path): void {
    const status: SignalStatus = p.reach.status;
    const endpoints = p.probers.map((x) => describeTarget(x.target)).join(', ');
    const via = `via ${p.link.name} (from ${p.link.sourceAddress})`;
    let detail: string;
    if (p.reach.status === 'unknown')
      detail = `waiting for ${p.params.okAfter} answers or ${p.params.failAfter} misses from ${endpoints} ${via}${p.last ? ` — ${p.last.detail}` : ''}`;
    else if (p.reach.status === 'fail')
      detail = `${p.role} centre unreachable ${via}: ${p.reach.failStreak} OPTIONS in a row unanswered — ${p.last?.detail ?? ''}`;
    else detail = `${p.last?.detail ?? 'answered'} ${via}`;
    this.emit({
      subsystem: 'centres',
      source: `centres:${p.role}`,
      key: p.key,
      status,
      value: p.reach.status === 'ok' ? (p.last?.status ?? null) : null,
      observedAt: this.clock.now(),
      ttlMs: 3 * this.cfg.reportEveryMs,
      detail,
    });
  }

  private emitDns(): void {
    const d = dnsSummary(this.dns, this.clock.monotonic(), {
      names: 'centre names',
      fault: 'a DNS fault, not a centre fault: OPTIONS still go to the last good addresses',
    });
    if (!d) return;
    this.emit({
      subsystem: 'centres',
      source: 'centres:dns',
      key: 'centres.dns',
      status: d.status,
      value: d.failing,
      observedAt: this.clock.now(),
      ttlMs: 3 * this.cfg.reportEveryMs,
      detail: d.detail,
    });
  }
}
