/**
 * One uplink: its probers, its probe loop, its pure LinkState and its flap damping.
 * Knows nothing of signals; wanMonitor.ts turns its changes into them.
 *
 * `state` is the raw state machine; `health`/`reason` are what is reported: the raw
 * health, or `flapping` while damping suppresses the link (core/linkState.ts).
 */
import { ProbeLoop, type Round } from '../../../hardware/net/probeLoop.js';
import type { Timers } from '../../../hardware/timers.js';
import { type AddressSource, describeTarget, TargetProber } from '../../../hardware/net/prober.js';
import type { WanConfig, WanLinkConfig } from '../config/wan.js';
import {
  type DampingParams,
  type DampState,
  dampDecay,
  dampDownEdge,
  initialDamp,
  initialLinkState,
  isDownEdge,
  type LinkHealth,
  type LinkParams,
  type LinkState,
  msUntilReuse,
  onCarrier,
  onRound,
  type RoundResult,
} from '../core/linkState.js';

export function linkParams(cfg: WanConfig): LinkParams {
  return {
    downAfter: cfg.downAfter,
    upAfter: cfg.upAfter,
    windowRounds: cfg.windowRounds,
    degradedLossPct: cfg.degradedLossPct,
    recoverLossPct: cfg.recoverLossPct,
    degradedRttMs: cfg.degradedRttMs,
    minRoundsForLoss: cfg.minRoundsForLoss,
    ...(cfg.downLossPct !== undefined ? { downLossPct: cfg.downLossPct } : {}),
  };
}

export function dampingParams(cfg: WanConfig): DampingParams | undefined {
  const d = cfg.damping;
  if (!d.enabled) return undefined;
  return { penalty: d.penalty, suppressAt: d.suppressAt, reuseAt: d.reuseAt, halfLifeMs: d.halfLifeMs, maxSuppressMs: d.maxSuppressMs };
}

/**
 * Fold one probe round into what linkState needs. Targets whose name has no address
 * yet were not probed and say nothing about the link; a round of only those is
 * undefined (no verdict).
 */
export function summariseRound(round: Round): RoundResult | undefined {
  const results = round.results.filter((r) => !r.unresolved);
  if (results.length === 0) return undefined;
  const answered = results.filter((r) => r.answered);
  const rtts = answered.map((r) => r.rttMs).filter((x): x is number => x !== undefined);
  const out: RoundResult = {
    answered: answered.length > 0,
    sent: results.length,
    lost: results.length - answered.length,
  };
  if (rtts.length > 0) out.rttMs = Math.min(...rtts);
  if (answered.length === 0) out.detail = results.map((r) => r.detail).join('; ');
  return out;
}

export type LinkChange = 'health' | 'round';

export class WanLink {
  state: LinkState = initialLinkState();
  readonly probers: TargetProber[];
  private readonly loop: ProbeLoop;
  private readonly params: LinkParams;
  private readonly damping: DampingParams | undefined;
  damp: DampState;
  lastRound: RoundResult | undefined;

  constructor(
    readonly cfg: WanLinkConfig,
    wan: WanConfig,
    private readonly now: () => number,
    private readonly onChange: (link: WanLink, what: LinkChange) => void,
    private readonly monotonic: () => number,
    addresses?: AddressSource,
    timers?: Timers,
  ) {
    this.params = linkParams(wan);
    this.damping = dampingParams(wan);
    this.damp = initialDamp(monotonic());
    this.probers = cfg.targets.map(
      (t) =>
        new TargetProber(
          {
            kind: t.kind,
            host: t.host,
            port: t.port,
            ...(t.path !== undefined ? { path: t.path } : {}),
            ...(t.uri !== undefined ? { uri: t.uri } : {}),
          },
          cfg.sourceAddress,
          wan.timeout,
          addresses,
        ),
    );
    this.loop = new ProbeLoop({
      intervalMs: wan.intervalMs,
      probers: this.probers,
      monotonic,
      ...(timers ? { timers } : {}),
      onRound: (r) => this.round(r),
    });
  }

  get name(): string {
    return this.cfg.name;
  }

  targetsText(): string {
    return this.probers.map((p) => describeTarget(p.target)).join(', ');
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** The reported health: the raw one, or `flapping` while damping suppresses the link. */
  get health(): LinkHealth {
    return this.damp.suppressed ? 'flapping' : this.state.health;
  }

  /** Why the link is in its reported health. */
  get reason(): string {
    if (!this.damp.suppressed || !this.damping) return this.state.reason;
    const p = this.damping;
    const m = this.monotonic();
    const left = Math.ceil(msUntilReuse(this.damp, p, m) / 1000);
    const pen = Math.round(dampDecay(this.damp, p, m).penalty);
    return (
      `flapping: ${this.damp.downEdges} outages in quick succession (penalty ${pen} ≥ suppress ${p.suppressAt} at its peak); ` +
      `not trusted until the penalty decays below ${p.reuseAt} — ≥ ${left} s if it stays stable (half-life ${p.halfLifeMs / 1000} s); ` +
      `right now: ${this.state.health}, ${this.state.reason}`
    );
  }

  carrier(up: boolean, reason: string): void {
    const before = this.health;
    const raw = this.state.health;
    this.state = onCarrier(this.state, up, reason, this.now());
    this.dampStep(raw);
    if (this.health !== before) this.onChange(this, 'health');
  }

  private round(r: Round): void {
    const summary = summariseRound(r);
    const before = this.health;
    if (summary) {
      this.lastRound = summary;
      const raw = this.state.health;
      this.state = onRound(this.state, this.params, summary, this.now());
      this.dampStep(raw);
    } else if (this.damping) {
      this.damp = dampDecay(this.damp, this.damping, this.monotonic());
    }
    this.onChange(this, this.health !== before ? 'health' : 'round');
  }

  /** Count a down edge of the raw state, let the penalty decay, lift suppression when due. */
  private dampStep(rawBefore: LinkHealth): void {
    if (!this.damping) return;
    const now = this.monotonic();
    this.damp = isDownEdge(rawBefore, this.state.health) ? dampDownEdge(this.damp, this.damping, now) : dampDecay(this.damp, this.damping, now);
  }

  /** The current timeout per target (they differ when targets' RTTs differ). */
  timeouts(): number[] {
    return this.probers.map((p) => p.rtt.timeoutMs());
  }
}
