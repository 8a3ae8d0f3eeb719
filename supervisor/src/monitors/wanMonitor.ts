/**
 * WAN monitor: carrier events + probe rounds per uplink → signals
 *   wan.<link>.link   ok/fail        carrier & admin state (netlink, ~ms)
 *   wan.<link>.state  ok/warn/fail   ok / degraded / down (core/linkState.ts)
 *   wan.<link>.rtt    ms             median RTT over the window
 *   wan.<link>.loss   %              probe loss over the window
 *   wan.site.state    ok/warn/fail   fail only when every link is down (or flapping)
 *   wan.dns           ok/warn        probe-target names resolve (only when a target is a name)
 * A link whose outages come too often is reported as one `flapping` state (fail) by
 * flap damping (core/linkState.ts) instead of a state change per edge; its `link`
 * and `loss` signals hold `fail` while it is suppressed, so health does not flip either.
 * DNS trouble is only `wan.dns` (warn): names are resolved apart from the probes and
 * the last good addresses stay in use (hardware/net/dnsCache.ts).
 * Changes are emitted at once; everything is re-emitted every `reportEveryMs`
 * with a ttl of three periods, so a stalled monitor turns into `unknown`.
 */
import { DnsCache, type NameResolver, systemResolver } from '../../../hardware/net/dnsCache.js';
import { dnsSummary } from './dnsSignal.js';
import { type LinkSnapshot, LinkWatcher, linkDownReason, linkIsUp } from '../../../hardware/net/linkEvents.js';
import type { WanConfig } from '../config/wan.js';
import { healthStatus, linkStats, siteWan, type LinkHealth } from '../core/linkState.js';
import type { Signal, SignalStatus } from '../core/signal.js';
import { realTimers, type Repeating, repeatEvery, type Timers } from '../../../hardware/timers.js';
import { type Clock, type Monitor, type SignalSink, systemClock, timersOf } from './monitor.js';
import { type LinkChange, WanLink } from './wanLink.js';

export interface WanMonitorOptions {
  clock?: Clock;
  /** `ip` binary for `ip -o monitor link`. */
  ipCommand?: string;
  sysfsRoot?: string;
  /** Name resolution for probe targets given by name (default: the system's, per `wan.dns`). */
  resolver?: NameResolver;
}

export class WanMonitor implements Monitor {
  readonly name = 'wan';
  private readonly clock: Clock;
  private readonly links: WanLink[];
  private readonly byInterface = new Map<string, WanLink>();
  private readonly snapshots = new Map<string, LinkSnapshot>();
  private watcher: LinkWatcher | undefined;
  private watcherFault: string | undefined;
  private heartbeat: Repeating | undefined;
  private readonly timers: Timers;
  private emit: SignalSink = () => {};
  private lastSite: LinkHealth | undefined;
  readonly dns: DnsCache;

  constructor(
    private readonly cfg: WanConfig,
    private readonly opts: WanMonitorOptions = {},
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
    for (const l of cfg.links) for (const t of l.targets) this.dns.watch(t.host);
    this.links = cfg.links.map(
      (l) =>
        new WanLink(
          l,
          cfg,
          () => this.clock.now(),
          (link, what) => this.onLinkChange(link, what),
          () => this.clock.monotonic(),
          this.dns,
          this.timers,
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
    this.dns.start();
    for (const l of this.links) l.start();
    this.heartbeat = repeatEvery(this.timers, this.cfg.reportEveryMs, () => this.emitAll());
    this.emitAll();
  }

  async stop(): Promise<void> {
    this.heartbeat?.stop();
    this.heartbeat = undefined;
    this.watcher?.stop();
    this.dns.stop();
    for (const l of this.links) l.stop();
  }

  /** Current (reported) health per link (for the UI and tests). */
  healths(): Record<string, LinkHealth> {
    return Object.fromEntries(this.links.map((l) => [l.name, l.health]));
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
    if (this.cfg.watchCarrier) this.emitLink(link); // into or out of `flapping`
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
    this.emitDns();
  }

  private emitDns(): void {
    const d = dnsSummary(this.dns, this.clock.monotonic(), {
      names: 'probe-target names',
      fault: 'a DNS fault, not a link fault: probes use the last good addresses',
    });
    if (d) this.signal('wan.dns', d.status, d.failing, d.detail, { source: 'wan:dns' });
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
    if (l.health === 'flapping') {
      // Held while damped: a carrier that flips every few seconds is one fact, not an event per edge.
      this.signal(key, 'fail', 'flapping', `link flapping (damped); right now ${linkDownReason(s)} (${s.source})${fault}`, { source: `wan:${l.name}` });
      return;
    }
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
    this.signal(`wan.${l.name}.state`, healthStatus(l.health), l.health, `${l.reason} — ${nums.join(', ')}`, {
      source: `wan:${l.name}`,
    });
  }

  private emitRttLoss(l: WanLink): void {
    const st = linkStats(l.state);
    const down = l.health === 'down' || l.health === 'flapping';
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
    const site = siteWan(this.links.map((l) => l.health));
    if (!force && site === this.lastSite) return;
    this.lastSite = site;
    const per = this.links.map((l) => `${l.name} ${l.health}`).join(', ');
    this.signal('wan.site.state', healthStatus(site), site, site === 'down' ? `every link is down or flapping (${per})` : per);
  }
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
