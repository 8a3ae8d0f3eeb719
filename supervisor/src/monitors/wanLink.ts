/**
 * One uplink: its probers, its probe loop and its pure LinkState. Knows nothing of
 * signals; wanMonitor.ts turns its changes into them.
 */
import { ProbeLoop, type Round } from '../../../hardware/net/probeLoop.js';
import { describeTarget, TargetProber } from '../../../hardware/net/prober.js';
import type { WanConfig, WanLinkConfig } from '../config/wan.js';
import { initialLinkState, type LinkParams, type LinkState, type RoundResult, onCarrier, onRound } from '../core/linkState.js';

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

/** Fold one probe round into what linkState needs. */
export function summariseRound(round: Round): RoundResult {
  const answered = round.results.filter((r) => r.answered);
  const rtts = answered.map((r) => r.rttMs).filter((x): x is number => x !== undefined);
  const out: RoundResult = {
    answered: answered.length > 0,
    sent: round.results.length,
    lost: round.results.length - answered.length,
  };
  if (rtts.length > 0) out.rttMs = Math.min(...rtts);
  if (answered.length === 0) out.detail = round.results.map((r) => r.detail).join('; ');
  return out;
}

export type LinkChange = 'health' | 'round';

export class WanLink {
  state: LinkState = initialLinkState();
  readonly probers: TargetProber[];
  private readonly loop: ProbeLoop;
  private readonly params: LinkParams;
  lastRound: RoundResult | undefined;

  constructor(
    readonly cfg: WanLinkConfig,
    wan: WanConfig,
    private readonly now: () => number,
    private readonly onChange: (link: WanLink, what: LinkChange) => void,
    monotonic: () => number,
  ) {
    this.params = linkParams(wan);
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
        ),
    );
    this.loop = new ProbeLoop({
      intervalMs: wan.intervalMs,
      probers: this.probers,
      monotonic,
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

  carrier(up: boolean, reason: string): void {
    const before = this.state.health;
    this.state = onCarrier(this.state, up, reason, this.now());
    if (this.state.health !== before) this.onChange(this, 'health');
  }

  private round(r: Round): void {
    const summary = summariseRound(r);
    this.lastRound = summary;
    const before = this.state.health;
    this.state = onRound(this.state, this.params, summary, this.now());
    this.onChange(this, this.state.health !== before ? 'health' : 'round');
  }

  /** The current timeout per target (they differ when targets' RTTs differ). */
  timeouts(): number[] {
    return this.probers.map((p) => p.rtt.timeoutMs());
  }
}
