/**
 * Name resolution for probe targets, kept apart from the probes themselves.
 *
 * Why: a probe that resolves its target's name each time turns a silent DNS server
 * into "every centre unreachable on every path" (the lookup fails or outlasts the
 * probe timeout), and so into a failover that blames the centres. Here names are
 * resolved on their own schedule, the last good addresses are cached, and probes
 * only ever read the cache — they never wait for DNS.
 *
 * Rules:
 *  - A name is re-resolved when its TTL runs out (clamped to [minTtlMs, maxTtlMs]:
 *    the ceiling makes a DNS outage visible within maxTtlMs even with day-long TTLs).
 *  - When a resolution fails, the last good addresses are kept and still used
 *    (stale-on-error, like RFC 8767 "serve-stale"), the failure is recorded for its
 *    own signal, and the resolution is retried after retryMs, doubling to maxRetryMs.
 *    Stale addresses are never dropped: the probes themselves show whether an old
 *    address still answers, which is better evidence than a silent resolver.
 *  - DNS first (c-ares, with the answer's TTL). When DNS says the name does not
 *    exist, or the name has never had a DNS answer, `lookup` (getaddrinfo: /etc/hosts
 *    and nsswitch) is tried — at most one at a time, since getaddrinfo blocks a libuv
 *    thread for as long as a silent DNS server takes to time out.
 *  - IP literals bypass all of this.
 */
import { promises as dnsp } from 'node:dns';
import net from 'node:net';
import { errorCode } from './attempt.js';
import { realTimers, type Repeating, repeatEvery, type Timers } from '../timers.js';

export interface DnsAnswer {
  addresses: string[];
  /** TTL of the answer (s); the smallest of the records. */
  ttlS: number;
  /** `dns` = a DNS answer with a real TTL; `hosts` = getaddrinfo (/etc/hosts), TTL assumed. */
  via: 'dns' | 'hosts';
}

/** Resolves one name; rejects with an error whose `code` says why (ETIMEOUT, ENOTFOUND, …). */
export type NameResolver = (name: string, hint: { hadDnsAnswer: boolean }) => Promise<DnsAnswer>;

export interface DnsTiming {
  /** Re-resolve no sooner than this after a success, whatever the TTL (ms). */
  minTtlMs: number;
  /** Re-resolve at least this often, whatever the TTL (ms). */
  maxTtlMs: number;
  /** First retry after a failed resolution (ms); doubles per failure up to maxRetryMs. */
  retryMs: number;
  maxRetryMs: number;
}

export const DEFAULT_DNS_TIMING: DnsTiming = { minTtlMs: 5000, maxTtlMs: 300_000, retryMs: 2000, maxRetryMs: 10_000 };

export interface DnsError {
  code: string;
  message: string;
  /** When the current run of failures began (monotonic ms). */
  since: number;
  failures: number;
}

export interface DnsEntry {
  name: string;
  /** Last good addresses, possibly stale; empty until the first success. */
  addresses: readonly string[];
  via: 'dns' | 'hosts' | undefined;
  ttlS: number | undefined;
  /** Monotonic ms of the last successful resolution. */
  resolvedAt: number | undefined;
  /** Monotonic ms when the next resolution is due. */
  dueAt: number;
  /** Set while the last resolution attempt failed. */
  error: DnsError | undefined;
  /** Some answer ever came from DNS proper (decides the getaddrinfo fallback). */
  hadDnsAnswer: boolean;
}

/** fresh: last attempt succeeded; stale: failing, last good addresses in use; none: no address at all. */
export type DnsEntryState = 'fresh' | 'stale' | 'none';

export function entryState(e: DnsEntry): DnsEntryState {
  if (e.addresses.length === 0) return 'none';
  return e.error ? 'stale' : 'fresh';
}

export function isIpLiteral(host: string): boolean {
  return net.isIP(host) !== 0;
}

/** What a DNS error code means, for signal details. */
export function explainDnsError(code: string): string {
  switch (code) {
    case 'ETIMEOUT':
    case 'ETIMEDOUT':
      return 'the DNS server did not answer (ETIMEOUT)';
    case 'ECONNREFUSED':
      return 'the DNS server refused the query (ECONNREFUSED: nothing listening, or no route to it)';
    case 'ENOTFOUND':
      return 'DNS says the name does not exist (NXDOMAIN / ENOTFOUND): check the spelling in the config';
    case 'ENODATA':
      return 'the name exists but has no IPv4 (A) record (ENODATA)';
    case 'ESERVFAIL':
      return 'the DNS server failed to answer (SERVFAIL)';
    case 'EREFUSED':
      return 'the DNS server refused to answer (REFUSED)';
    case 'ECONNREFUSED_ALL':
      return 'no DNS server reachable';
    default:
      return `resolution failed (${code})`;
  }
}

export interface DnsCacheOptions {
  resolve: NameResolver;
  /** Monotonic ms; default performance.now. */
  now?: () => number;
  timing?: Partial<DnsTiming>;
  /** Called when a name's state or addresses change. */
  onChange?: (e: DnsEntry) => void;
  /** Where the refresh checks are scheduled; default Node's timers (ref'd). */
  timers?: Timers;
}

export class DnsCache {
  private readonly entries = new Map<string, DnsEntry>();
  private readonly inFlight = new Map<string, Promise<DnsEntry>>();
  private readonly now: () => number;
  readonly timing: DnsTiming;
  private timer: Repeating | undefined;

  constructor(private readonly opts: DnsCacheOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.timing = { ...DEFAULT_DNS_TIMING, ...opts.timing };
  }

  /** Start tracking a name (IP literals are ignored). Its first resolution is due at once. */
  watch(name: string): void {
    if (isIpLiteral(name) || this.entries.has(name)) return;
    this.entries.set(name, {
      name,
      addresses: [],
      via: undefined,
      ttlS: undefined,
      resolvedAt: undefined,
      dueAt: this.now(),
      error: undefined,
      hadDnsAnswer: false,
    });
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  get(name: string): DnsEntry | undefined {
    return this.entries.get(name);
  }

  /** The address to probe: the literal itself, or the first last-good address; undefined if none yet. */
  addressOf(host: string): string | undefined {
    if (isIpLiteral(host)) return host;
    return this.entries.get(host)?.addresses[0];
  }

  whyNoAddress(host: string): string {
    const e = this.entries.get(host);
    if (!e) return 'name not watched';
    return e.error ? e.error.message : 'not resolved yet';
  }

  /** Resolve one name now (one resolution per name in flight). Never rejects. */
  refresh(name: string): Promise<DnsEntry> {
    const running = this.inFlight.get(name);
    if (running) return running;
    const e = this.entries.get(name);
    if (!e) return Promise.reject(new Error(`${name} is not watched`));
    const p = this.opts
      .resolve(name, { hadDnsAnswer: e.hadDnsAnswer })
      .then(
        (a) => this.succeed(e, a),
        (err: unknown) => this.fail(e, err),
      )
      .finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, p);
    return p;
  }

  /** Resolve every name that is due; returns when they have all finished. */
  async refreshDue(): Promise<void> {
    const now = this.now();
    await Promise.all([...this.entries.values()].filter((e) => e.dueAt <= now).map((e) => this.refresh(e.name)));
  }

  /** Resolve due names every `checkMs` (cheap: compares numbers until one is due). */
  start(checkMs = 250): void {
    if (this.timer || this.entries.size === 0) return;
    void this.refreshDue();
    this.timer = repeatEvery(this.opts.timers ?? realTimers, checkMs, () => void this.refreshDue());
  }

  stop(): void {
    this.timer?.stop();
    this.timer = undefined;
  }

  private succeed(e: DnsEntry, a: DnsAnswer): DnsEntry {
    const now = this.now();
    if (a.addresses.length === 0) return this.fail(e, Object.assign(new Error('no addresses in the answer'), { code: 'ENODATA' }));
    const ttlMs = Math.min(this.timing.maxTtlMs, Math.max(this.timing.minTtlMs, a.ttlS * 1000));
    const changed = e.error !== undefined || e.addresses.join() !== a.addresses.join() || e.via !== a.via;
    const next: DnsEntry = {
      ...e,
      addresses: [...a.addresses],
      via: a.via,
      ttlS: a.ttlS,
      resolvedAt: now,
      dueAt: now + ttlMs,
      error: undefined,
      hadDnsAnswer: e.hadDnsAnswer || a.via === 'dns',
    };
    this.entries.set(e.name, next);
    if (changed) this.opts.onChange?.(next);
    return next;
  }

  private fail(e: DnsEntry, err: unknown): DnsEntry {
    const now = this.now();
    const code = errorCode(err);
    const failures = (e.error?.failures ?? 0) + 1;
    const retry = Math.min(this.timing.maxRetryMs, this.timing.retryMs * 2 ** (failures - 1));
    const next: DnsEntry = {
      ...e, // the last good addresses stay: stale-on-error
      dueAt: now + retry,
      error: { code, message: explainDnsError(code), since: e.error?.since ?? now, failures },
    };
    this.entries.set(e.name, next);
    if (e.error === undefined || e.error.code !== code) this.opts.onChange?.(next);
    return next;
  }
}

/** How long a getaddrinfo (/etc/hosts) answer is trusted: it carries no TTL. */
export const HOSTS_TTL_S = 60;

export interface SystemResolverOptions {
  /** Per-try timeout of a DNS query (ms). */
  timeoutMs: number;
  /** Tries per DNS server. */
  tries: number;
}

/**
 * DNS via c-ares (`Resolver#resolve4` with TTLs; a fresh Resolver each time so an
 * edited /etc/resolv.conf takes effect), then getaddrinfo for names DNS does not
 * know (/etc/hosts). See the module comment for when the fallback runs.
 */
export function systemResolver(opts: SystemResolverOptions): NameResolver {
  let lookupBusy = false;
  return async (name, { hadDnsAnswer }) => {
    let dnsErr: unknown;
    try {
      const r = new dnsp.Resolver({ timeout: opts.timeoutMs, tries: opts.tries });
      const recs = await r.resolve4(name, { ttl: true });
      if (recs.length > 0) {
        return { addresses: recs.map((x) => x.address), ttlS: Math.min(...recs.map((x) => x.ttl)), via: 'dns' };
      }
      dnsErr = Object.assign(new Error('no A records'), { code: 'ENODATA' });
    } catch (e) {
      dnsErr = e;
    }
    const code = errorCode(dnsErr);
    const dnsSaysNo = code === 'ENOTFOUND' || code === 'ENODATA';
    if ((!dnsSaysNo && hadDnsAnswer) || lookupBusy) throw dnsErr;
    lookupBusy = true;
    try {
      const all = await dnsp.lookup(name, { family: 4, all: true });
      if (all.length === 0) throw dnsErr;
      return { addresses: all.map((a) => a.address), ttlS: HOSTS_TTL_S, via: 'hosts' };
    } catch {
      throw dnsErr; // the DNS error says more than getaddrinfo's EAI_AGAIN
    } finally {
      lookupBusy = false;
    }
  };
}

/** One line per name for a signal's detail. */
export function describeEntry(e: DnsEntry, now: number): string {
  const ago = (t: number) => `${Math.max(0, Math.round((now - t) / 1000))} s`;
  const addrs = e.addresses.join(', ');
  const src = e.via === 'hosts' ? 'from /etc/hosts' : `DNS, TTL ${e.ttlS ?? '?'} s`;
  switch (entryState(e)) {
    case 'fresh':
      return `${e.name} → ${addrs} (${src})`;
    case 'stale':
      return `${e.name}: resolution failing for ${ago(e.error?.since ?? now)} — ${e.error?.message}; still probing the last good address ${addrs} (resolved ${ago(e.resolvedAt ?? now)} ago)`;
    case 'none':
      return e.error ? `${e.name}: no address yet — ${e.error.message}; not probed until it resolves` : `${e.name}: not resolved yet`;
  }
}
