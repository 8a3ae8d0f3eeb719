/**
 * Centre reachability: SIP OPTIONS to the local centre, the backup centre and the
 * SIP trunk over *each* uplink (bound to the uplink's source address), giving
 *   centres.local.<link>, centres.backup.<link>, centres.trunk.<link>   ok / fail
 * A path is `unknown` until enough probes have spoken, so the core can tell
 * "local centre unreachable on every path" (all fail) from "not known yet".
 * Only a SIP response counts: an ICMP port-unreachable proves the host, not the
 * centre's SIP service.
 */
import { ProbeLoop, type Round } from '../../../hardware/net/probeLoop.js';
import { describeTarget, TargetProber } from '../../../hardware/net/prober.js';
import { type CentreTargetConfig, TRUNK_DEFAULT_INTERVAL_MS, type WanConfig, type WanLinkConfig } from '../config/wan.js';
import { initialReach, onReachProbe, type ReachParams, type ReachState } from '../core/linkState.js';
import type { SignalStatus } from '../core/signal.js';
import { type Clock, type Monitor, type SignalSink, systemClock } from './monitor.js';

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
  private heartbeat: NodeJS.Timeout | undefined;
  private emit: SignalSink = () => {};

  constructor(
    private readonly cfg: WanConfig,
    opts: { clock?: Clock } = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    const c = cfg.centres;
    for (const role of CENTRE_ROLES) {
      const target: CentreTargetConfig | undefined = c[role];
      if (!target) continue;
      const intervalMs = target.intervalMs ?? (role === 'trunk' ? TRUNK_DEFAULT_INTERVAL_MS : c.intervalMs);
      const params: ReachParams = { failAfter: target.failAfter ?? c.failAfter, okAfter: target.okAfter ?? c.okAfter };
      for (const link of cfg.links) {
        const probers = target.endpoints.map(
          (e) => new TargetProber({ kind: 'sip', host: e.host, port: e.port, ...(e.uri !== undefined ? { uri: e.uri } : {}) }, link.sourceAddress, cfg.timeout),
        );
        const loop = new ProbeLoop({
          intervalMs,
          probers,
          monotonic: () => this.clock.monotonic(),
          onRound: (r) => this.onRound(path, r),
        });
        const path: Path = { role, link, key: `centres.${role}.${link.name}`, probers, params, reach: initialReach(), last: undefined, loop };
        this.paths.push(path);
      }
    }
  }

  async start(emit: SignalSink): Promise<void> {
    this.emit = emit;
    for (const p of this.paths) {
      this.emitPath(p);
      p.loop.start();
    }
    this.heartbeat = setInterval(() => {
      for (const p of this.paths) this.emitPath(p);
    }, this.cfg.reportEveryMs);
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    for (const p of this.paths) p.loop.stop();
  }

  private onRound(p: Path, r: Round): void {
    const best = r.results.find((x) => x.serviceAnswered);
    p.last = best
      ? {
          detail: best.detail,
          ...(best.status !== undefined ? { status: best.status } : {}),
          ...(best.rttMs !== undefined ? { rttMs: best.rttMs } : {}),
        }
      : { detail: r.results.map((x) => x.detail).join('; ') };
    const before = p.reach.status;
    p.reach = onReachProbe(p.reach, p.params, best !== undefined);
    if (p.reach.status !== before) this.emitPath(p);
  }

  private emitPath(p: Path): void {
    const status: SignalStatus = p.reach.status;
    const endpoints = p.probers.map((x) => describeTarget(x.target)).join(', ');
    const via = `via ${p.link.name} (from ${p.link.sourceAddress})`;
    let detail: string;
    if (p.reach.status === 'unknown') detail = `waiting for ${p.params.okAfter} answers or ${p.params.failAfter} misses from ${endpoints} ${via}`;
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
}
