/**
 * Polls each configured UPS (default every 1 s; upsmon's POLLFREQ is 5 s)
 * and emits `power.<ups>.{mains,lowBattery,fsd,charge,runtime,inputVoltage,load}`.
 * A UPS that cannot be read turns all its signals `unknown` with the cause.
 *
 * The reader is injected so the same monitor runs against a real upsd
 * (`NutClient`, the default) or the simulated box.
 */
import { NutClient } from '../../../hardware/nut/client.js';
import type { UpsReader } from '../../../hardware/nut/reader.js';
import type { Signal } from '../core/signal.js';
import { type UpsConfig, upsId } from '../config/power.js';
import type { Guard } from '../guard.js';
import { type Clock, type Monitor, type SignalSink, systemClock, timersOf } from './monitor.js';
import { PollingLoop } from './pollingMonitor.js';
import { UPS_MONITOR_VARIABLES, type UpsSignalName, upsFaultSignals, upsSignalsFromVars } from './upsSignals.js';

export interface UpsMonitorOptions {
  ups: readonly UpsConfig[];
  /**
   * One reader shared by every UPS (e.g. the simulator; the caller owns and closes it),
   * or a factory called once per UPS at start (its readers are closed at stop).
   * Default: a `NutClient` per UPS, logging in when `user`/`password` are set.
   */
  reader?: UpsReader | ((ups: UpsConfig) => UpsReader);
  clock?: Clock;
  /** Signal `source` per UPS. Default `nut:<name>@<host>:<port>`. */
  source?: (ups: UpsConfig) => string;
  /** Where a bug in a UPS's poll loop is reported (once; the loop goes on with backoff). */
  guard?: Guard;
}

/**
 * The default reader: our own NUT client, one connection per UPS (LOGIN is per
 * connection). It fetches only the variables the monitor maps, with GET VAR
 * (as upsmon does): a LIST VAR costs ~40 ms of TCP delayed-ACK per poll.
 */
export function nutReaderFor(ups: UpsConfig): UpsReader & { client: NutClient } {
  const auth = ups.user !== undefined && ups.password !== undefined ? { username: ups.user, password: ups.password, login: ups.name } : {};
  const client = new NutClient({
    host: ups.host,
    port: ups.port,
    requestTimeoutMs: ups.timeoutMs,
    keepaliveMs: ups.keepaliveMs,
    ...auth,
  });
  return {
    client,
    listVars: (name) => client.getVars(name, UPS_MONITOR_VARIABLES),
    close: () => client.close(),
  };
}

interface Watch {
  ups: UpsConfig;
  reader: UpsReader;
  ownsReader: boolean;
  known: Set<UpsSignalName>;
  /** This UPS's own loop: a slow or dead upsd delays only its own polls. */
  loop: PollingLoop;
  inFlight: Promise<void> | null;
  /** Logged out of upsd (FSD): polling goes on over a connection without LOGIN. */
  loggedOut: boolean;
}

export class UpsMonitor implements Monitor {
  readonly name = 'ups';
  private readonly clock: Clock;
  private watches: Watch[] = [];
  private emit: SignalSink = () => undefined;
  private running = false;

  constructor(private readonly opts: UpsMonitorOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Starts polling; resolves after the first round (so the first signals are out). */
  async start(emit: SignalSink): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.emit = emit;
    const { reader } = this.opts;
    const timers = timersOf(this.clock);
    this.watches = this.opts.ups.map((ups) => {
      const own = typeof reader === 'function' ? reader(ups) : (reader ?? nutReaderFor(ups));
      // A full period after the previous poll started (fixed cadence on the monotonic clock).
      const loop = new PollingLoop(`ups ${upsId(ups)}`, () => this.tracked(w), {
        pollMs: ups.pollMs,
        cadence: this.clock,
        ...(timers ? { timers } : {}),
        ...(this.opts.guard ? { guard: this.opts.guard } : {}),
      });
      const w: Watch = { ups, reader: own, ownsReader: typeof reader !== 'object', known: new Set(), loop, inFlight: null, loggedOut: false };
      return w;
    });
    await Promise.all(this.watches.map((w) => w.loop.start(emit)));
  }

  async stop(): Promise<void> {
    this.running = false;
    const watches = this.watches;
    this.watches = [];
    await Promise.all(watches.map((w) => w.loop.stop()));
    await Promise.all(watches.filter((w) => w.ownsReader).map((w) => w.reader.close?.()));
  }

  /**
   * Log out of upsd for these UPSes (after FSD, once the calls have left): a primary upsmon
   * waits up to HOSTSYNC for every logged-in secondary before it shuts down, so staying
   * logged in only delays the shutdown. Monitoring goes on without LOGIN. Only our own NUT
   * readers log in; other readers are left alone. Returns the ids that were logged out.
   */
  async logout(ids: readonly string[]): Promise<string[]> {
    const done: string[] = [];
    for (const w of this.watches) {
      if (!ids.includes(upsId(w.ups)) || w.loggedOut || !w.ownsReader || this.opts.reader !== undefined) continue;
      if (w.ups.user === undefined) continue; // never logged in
      w.loggedOut = true;
      await w.inFlight;
      const old = w.reader;
      w.reader = nutReaderFor({ ...w.ups, user: undefined, password: undefined });
      await old.close?.(); // NutClient.close() sends LOGOUT
      done.push(upsId(w.ups));
    }
    return done;
  }

  /** One poll, visible to logout() so it can wait for it. */
  private async tracked(w: Watch): Promise<void> {
    w.inFlight = this.poll(w);
    try {
      await w.inFlight;
    } finally {
      w.inFlight = null;
    }
  }

  private async poll(w: Watch): Promise<void> {
    const id = upsId(w.ups);
    let signals: Signal[];
    try {
      const vars = await w.reader.listVars(w.ups.name);
      signals = upsSignalsFromVars(this.context(w), vars, w.known);
    } catch (err) {
      const cause = err instanceof Error ? err.message : String(err);
      signals = upsFaultSignals(this.context(w), new Set<UpsSignalName>(['mains', 'lowBattery', 'fsd', ...w.known]), cause);
    }
    for (const s of signals) {
      if (s.value !== null) w.known.add(s.key.slice(`power.${id}.`.length) as UpsSignalName);
      this.safeEmit(s);
    }
  }

  private context(w: Watch) {
    return {
      id: upsId(w.ups),
      source: this.opts.source ? this.opts.source(w.ups) : `nut:${w.ups.name}@${w.ups.host}:${w.ups.port}`,
      observedAt: this.clock.now(),
      // Three polls: one lost or late poll does not flap the signal, a dead monitor shows within ~3 s.
      ttlMs: 3 * w.ups.pollMs,
    };
  }

  private safeEmit(s: Signal): void {
    try {
      this.emit(s);
    } catch {
      // The sink must not throw (monitor.ts); if it does, polling must go on regardless.
    }
  }
}
