/**
 * WAN monitor: carrier events + probe rounds per uplink → signals
 *   wan.<link>.link   ok/fail        carrier & admin state (netlink, ~ms)
 *   wan.<link>.state  ok/warn/fail   ok / degraded / down (core/linkState.ts)
 *   wan.<link>.rtt    ms             median RTT over the window
 *   wan.<link>.loss   %              probe loss over the window
 *   wan.site.state    ok/warn/fail   fail only when every link is down
 * Changes are emitted at once; everything is re-emitted every `reportEveryMs`
 * with a ttl of three periods, so a stalled monitor turns into `unknown`.
 */
import { type LinkSnapshot, LinkWatcher, linkDownReason, linkIsUp } from '../../../hardware/net/linkEvents.js';
import type { WanConfig } from '../config/wan.js';
import { healthStatus, linkStats, siteWan, type LinkHealth } from '../core/linkState.js';
import type { Signal, SignalStatus } from '../core/signal.js';
import { type Clock, type Monitor, type SignalSink, systemClock } from './monitor.js';
import { type LinkChange, WanLink } from './wanLink.js';

export interface WanMonitorOptions {
  clock?: Clock;
  /** `ip` binary for `ip -o monitor link`. */
  ipCommand?: string;
  sysfsRoot?: string;
}

export class WanMonitor implements Monitor {
  readonly name = 'wan';
  private readonly clock: Clock;
  private readonly links: WanLink[];
  private readonly byInterface = new Map<string, WanLink>();
  private readonly snapshots = new Map<string, LinkSnapshot>();
  private watcher: LinkWatcher | undefined;
  private watcherFault: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private emit: SignalSink = () => {};
  private lastSite: LinkHealth | undefined;

  constructor(
    private readonly cfg: WanConfig,
    private readonly opts: WanMonitorOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.links = cfg.links.map(
      (l) =>
        new WanLink(
          l,
          cfg,
          () => this.clock.now(),
          (link, what) => this.onLinkChange(link, what),
          () => this.clock.monotonic(),
        ),
    );
    for (const l of this.links) this.byInterface.set(l.cfg.interface, l);
  }

  async start(emit: SignalSink): Promise<void> {
    this.emit = emit;
    if (this.cfg.watchCarrier) {
      this.watcher = new LinkWatcher({
        ifnames: [...this.byInterface.keys()],
        carrierPollMs: this.cfg.carrierPollMs,
        onChange: (s) => this.onSnapshot(s),
        onFault: (f) => {
          this.watcherFault = f;
          for (const l of this.links) this.emitLink(l);
        },
        ...(this.opts.ipCommand !== undefined ? { ipCommand: this.opts.ipCommand } : {}),
        ...(this.opts.sysfsRoot !== undefined ? { sysfsRoot: this.opts.sysfsRoot } : {}),
      });
      await this.watcher.start();
    }
    for (const l of this.links) l.start();
    this.heartbeat = setInterval(() => this.emitAll(), this.cfg.reportEveryMs);
    this.emitAll();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.watcher?.stop();
    for (const l of this.links) l.stop();
  }

  /** Current health per link (for the UI and tests). */
  healths(): Record<string, LinkHealth> {
    return Object.fromEntries(this.links.map((l) => [l.name, l.state.health]));
  }

  private onSnapshot(s: LinkSnapshot): void {
    const link = this.byInterface.get(s.ifname);
    if (!link) return;
    const prev = this.snapshots.get(s.ifname);
    this.snapshots.set(s.ifname, s);
    const up = linkIsUp(s);
    if (!prev || linkIsUp(prev) !== up) link.carrier(up, up ? `interface ${s.ifname} is up` : linkDownReason(s));
    this.emitLink(link);
  }

  private onLinkChange(link: WanLink, what: LinkChange): void {
    if (what !== 'health') return; // per-round numbers go out with the heartbeat
    this.emitState(link);
    this.emitRttLoss(link);
    this.emitSite();
  }

  private emitAll(): void {
    for (const l of this.links) {
      if (this.cfg.watchCarrier) this.emitLink(l);
      this.emitState(l);
      this.emitRttLoss(l);
    }
    this.emitSite(true);
  }

  private signal(key: string, status: SignalStatus, value: Signal['value'], detail: string, extra: Partial<Signal> = {}): void {
    this.emit({
      subsystem: 'wan',
      source: 'wan',
      key,
      status,
      value,
      observedAt: this.clock.now(),
      ttlMs: 3 * this.cfg.reportEveryMs,
      detail,
      ...extra,
    });
  }

  private emitLink(l: WanLink): void {
    const s = this.snapshots.get(l.cfg.interface);
    const key = `wan.${l.name}.link`;
    const fault = this.watcherFault ? ` (${this.watcherFault})` : '';
    if (!s) {
      this.signal(key, 'unknown', null, `no state read yet for interface ${l.cfg.interface}${fault}`, { source: `wan:${l.name}` });
      return;
    }
    const up = linkIsUp(s);
    this.signal(key, up ? 'ok' : 'fail', s.operstate, `${linkDownReason(s)} (${s.source})${fault}`, { source: `wan:${l.name}` });
  }

  private emitState(l: WanLink): void {
    const st = linkStats(l.state);
    const nums = [
      st.lossPct !== undefined ? `loss ${st.lossPct.toFixed(1)} %` : undefined,
      st.rttMs !== undefined ? `rtt ${st.rttMs.toFixed(1)} ms` : undefined,
      `timeouts ${l
        .timeouts()
        .map((t) => Math.round(t))
        .join('/')} ms`,
      `targets ${l.targetsText()}`,
    ].filter(Boolean);
    this.signal(`wan.${l.name}.state`, healthStatus(l.state.health), l.state.health, `${l.state.reason} — ${nums.join(', ')}`, {
      source: `wan:${l.name}`,
    });
  }

  private emitRttLoss(l: WanLink): void {
    const st = linkStats(l.state);
    const down = l.state.health === 'down';
    const src = { source: `wan:${l.name}` };
    if (st.rttMs === undefined) {
      this.signal(`wan.${l.name}.rtt`, 'unknown', null, `no probe answered in the last ${st.rounds} rounds`, { unit: 'ms', ...src });
    } else {
      const slow = st.rttMs >= this.cfg.degradedRttMs;
      this.signal(
        `wan.${l.name}.rtt`,
        slow ? 'warn' : 'ok',
        round1(st.rttMs),
        `median of ${st.rounds} rounds${slow ? ` (≥ ${this.cfg.degradedRttMs} ms)` : ''}`,
        { unit: 'ms', ...src },
      );
    }
    if (st.lossPct === undefined) {
      this.signal(`wan.${l.name}.loss`, 'unknown', null, 'no probes sent yet', { unit: '%', ...src });
    } else {
      const status: SignalStatus = down ? 'fail' : st.lossPct >= this.cfg.degradedLossPct ? 'warn' : 'ok';
      this.signal(`wan.${l.name}.loss`, status, round1(st.lossPct), `${st.probes} probes over ${st.rounds} rounds`, {
        unit: '%',
        ...src,
      });
    }
  }

  private emitSite(force = false): void {
    const site = siteWan(this.links.map((l) => l.state.health));
    if (!force && site === this.lastSite) return;
    this.lastSite = site;
    const per = this.links.map((l) => `${l.name} ${l.state.health}`).join(', ');
    this.signal('wan.site.state', healthStatus(site), site, site === 'down' ? `every link is down (${per})` : per);
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
