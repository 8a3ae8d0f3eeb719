/**
 * Config for the uplinks and centre reachability (monitors/wanMonitor.ts,
 * monitors/centresMonitor.ts). The defaults are the measured ones: 100 ms probe
 * rounds, down after 6 lost in a row (~0.85 s to detect a silent failure, a false
 * down on a 5 %-loss single-target link about once per 78 days — ops/net/README.md).
 */
import { z } from 'zod';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv4 = z.string().regex(IPV4, { message: 'expected an IPv4 address like 100.64.1.2' });
const host = z
  .string()
  .min(1)
  .regex(/^[A-Za-z0-9.:-]+$/, { message: 'expected an IP address or host name (no scheme, no port)' });
const port = z.number().int().min(1).max(65535);
const ms = z.number().int().positive();
const count = z.number().int().min(1).max(1000);

/** A link name becomes part of signal keys (`wan.<name>.state`): keep it key-safe. */
const linkName = z.string().regex(/^[a-z][a-z0-9_-]{0,30}$/, { message: 'expected a short lower-case name like wan1 or lte (used in signal keys)' });

export const probeTargetSchema = z.strictObject({
  /** udp = UDP echo (RFC 862), tcp = TCP connect, http = any HTTP response, sip = SIP OPTIONS. */
  kind: z.enum(['udp', 'tcp', 'http', 'sip']),
  host,
  port,
  /** HTTP path (kind http). */
  path: z.string().startsWith('/').optional(),
  /** Request-URI (kind sip); default sip:<host>:<port>. */
  uri: z.string().startsWith('sip:').optional(),
});

export const linkSchema = z.strictObject({
  name: linkName,
  /** Kernel interface name whose carrier/operstate is watched, e.g. eth1, wwan0. */
  interface: z.string().regex(/^[A-Za-z0-9_.@-]{1,15}$/, { message: 'expected a Linux interface name like eth1 or wwan0' }),
  /**
   * This uplink's own address. Probes bind to it; an `ip rule from <addr> lookup <table>`
   * sends them out of this uplink only (Node cannot bind a socket to a device).
   */
  sourceAddress: ipv4,
  /**
   * Probe targets *beyond* the ISP (an ISP gateway would keep answering through an
   * upstream failure). The link is down when all of them stop answering.
   */
  targets: z.array(probeTargetSchema).min(1),
});

const sipEndpointSchema = z.strictObject({
  host,
  port: port.default(5060),
  uri: z.string().startsWith('sip:').optional(),
});

const centreTargetSchema = z.strictObject({
  /** SIP endpoints of this centre; the path is up when any of them answers OPTIONS. */
  endpoints: z.array(sipEndpointSchema).min(1),
  /** Overrides of the shared centre probe timing (e.g. a slower rate for a carrier's SBC). */
  intervalMs: ms.min(50).optional(),
  failAfter: count.optional(),
  okAfter: count.optional(),
});

export const centresProbeSchema = z.strictObject({
  /**
   * How often each centre is sent OPTIONS over each link. 500 ms × 6 finds a dead
   * centre in ~3 s (Kamailio's own 2 s keepalives take 2–4 s) at ~700 B per OPTIONS
   * round trip; see ops/net/README.md for the traffic on a metered 4G link.
   */
  intervalMs: ms.min(50).default(500),
  /** Consecutive unanswered OPTIONS before that centre is unreachable over that link. */
  failAfter: count.default(6),
  /** Consecutive answered OPTIONS before it is reachable again. */
  okAfter: count.default(3),
  local: centreTargetSchema.optional(),
  backup: centreTargetSchema.optional(),
  /** The SIP trunk (carrier SBC); defaults to a gentler 1 s interval when not set. */
  trunk: centreTargetSchema.optional(),
});

export const rttTimeoutSchema = z
  .strictObject({
    /** Never call a probe lost sooner than this (absorbs jitter spikes). */
    floorMs: ms.default(250),
    /** Never wait longer than this; also how long a late answer is still used as an RTT sample. */
    capMs: ms.default(2000),
    /** Timeout before the first RTT sample (RFC 6298: 1 s). */
    initialMs: ms.default(1000),
    /** Keep at least this much above the smoothed RTT (jitter headroom on slow links). */
    marginMs: z.number().int().nonnegative().default(150),
  })
  .refine((t) => t.floorMs <= t.capMs, { message: 'timeout.floorMs must not exceed timeout.capMs' });

/**
 * Resolving probe-target names (hardware/net/dnsCache.ts): once per TTL, apart from
 * the probes; on failure the last good addresses are still probed (stale-on-error)
 * and `wan.dns` / `centres.dns` warn — a DNS outage never moves calls by itself.
 */
export const dnsSchema = z
  .strictObject({
    /** Re-resolve no sooner than this after a success, even for a TTL of 0. */
    minTtlMs: ms.default(5000),
    /** Re-resolve at least this often: a DNS outage shows within this long even with long TTLs. */
    maxTtlMs: ms.default(300_000),
    /** First retry after a failed resolution; doubles up to maxRetryMs. */
    retryMs: ms.default(2000),
    maxRetryMs: ms.default(10_000),
    /** Per-try timeout of a DNS query, and tries per server (c-ares). */
    timeoutMs: ms.max(10_000).default(1000),
    tries: z.number().int().min(1).max(5).default(2),
  })
  .refine((d) => d.minTtlMs <= d.maxTtlMs, { message: 'dns.minTtlMs must not exceed dns.maxTtlMs' })
  .refine((d) => d.retryMs <= d.maxRetryMs, { message: 'dns.retryMs must not exceed dns.maxRetryMs' });

/**
 * Flap damping per link (RFC 2439 route-flap damping / Cisco IP event dampening):
 * every down edge adds `penalty`; the penalty halves every `halfLifeMs`; at or above
 * `suppressAt` the link is reported as one `flapping` state (fail: not trusted for
 * fail-back) until the penalty decays below `reuseAt`. The penalty is capped so no
 * link stays suppressed longer than `maxSuppressMs` after its last flap.
 * Defaults: a second outage within 15 s of the first suppresses (1000·2^(−Δt/15 s)
 * + 1000 ≥ 1500 ⇔ Δt ≤ 15 s), so a flapping link costs ok→down→ok→flapping→ok —
 * four state changes, however long it flaps; it is reported normally again 20 s
 * after two quick outages, and at most 60 s (maxSuppressMs) after a long flap.
 */
export const dampingSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    penalty: z.number().positive().default(1000),
    suppressAt: z.number().positive().default(1500),
    reuseAt: z.number().positive().default(750),
    halfLifeMs: ms.default(15_000),
    maxSuppressMs: ms.default(60_000),
  })
  .refine((d) => d.reuseAt < d.suppressAt, { message: 'damping.reuseAt must be below damping.suppressAt' })
  .refine((d) => d.reuseAt * 2 ** (d.maxSuppressMs / d.halfLifeMs) > d.suppressAt, {
    message: 'damping.maxSuppressMs is too short for the penalty ever to reach suppressAt (need reuseAt·2^(maxSuppressMs/halfLifeMs) > suppressAt)',
  });

export const wanConfigSchema = z.strictObject({
  links: z
    .array(linkSchema)
    .min(1)
    .refine((ls) => new Set(ls.map((l) => l.name)).size === ls.length, { message: 'link names must be unique' }),
  /** One probe round (every target of every link) this often. */
  intervalMs: ms.min(20).default(100),
  /** Lost rounds in a row before a link is down. */
  downAfter: count.default(6),
  /** Answered rounds in a row before a down link is up again. */
  upAfter: count.default(10),
  /** Watch carrier/operstate (netlink): down at once on carrier loss. */
  watchCarrier: z.boolean().default(true),
  /**
   * Also poll the sysfs carrier bit this often (0 = off). Netlink carrier-loss events can
   * lag up to 1 s behind the carrier bit (kernel linkwatch rate limit); see hardware/net/linkEvents.ts.
   */
  carrierPollMs: z.number().int().min(0).max(1000).default(25),
  timeout: rttTimeoutSchema.prefault({}),
  /** Rounds in the loss/RTT window (100 × 100 ms = 10 s). */
  windowRounds: count.default(100),
  degradedLossPct: z.number().min(0).max(100).default(10),
  recoverLossPct: z.number().min(0).max(100).default(5),
  degradedRttMs: ms.default(400),
  minRoundsForLoss: count.default(20),
  /** dpinger-style loss-window rule (off by default; the bench uses it to model pfSense). */
  downLossPct: z.number().min(1).max(100).optional(),
  /** Re-emit every signal this often even without change (signals' ttl is 3×). */
  reportEveryMs: ms.min(100).default(1000),
  centres: centresProbeSchema.prefault({}),
  dns: dnsSchema.prefault({}),
  damping: dampingSchema.prefault({}),
});

export type WanConfig = z.infer<typeof wanConfigSchema>;
export type WanConfigInput = z.input<typeof wanConfigSchema>;
export type WanLinkConfig = z.infer<typeof linkSchema>;
export type ProbeTargetConfig = z.infer<typeof probeTargetSchema>;
export type CentresProbeConfig = z.infer<typeof centresProbeSchema>;
export type CentreTargetConfig = z.infer<typeof centreTargetSchema>;
export type DnsConfig = z.infer<typeof dnsSchema>;
export type DampingConfig = z.infer<typeof dampingSchema>;

/**
 * Config advice that is not an error (printed by `vaktpost check-config`, exit 0).
 * A link with one probe target goes down whenever that one target (or the path to
 * it) has a bad few hundred ms: at 30 % loss, 3 false downs in 5 minutes were
 * measured; two independent targets square the per-round loss probability.
 */
export interface WanAdvice {
  /** Path in the config, e.g. `wan.links.0.targets`. */
  path: string[];
  nb: string;
  en: string;
}

export function wanAdvice(cfg: WanConfig): WanAdvice[] {
  const out: WanAdvice[] = [];
  cfg.links.forEach((l, i) => {
    if (l.targets.length < 2) {
      out.push({
        path: ['wan', 'links', String(i), 'targets'],
        nb: `lenke "${l.name}" har bare ${l.targets.length} målepunkt: tap mot det ene gir falske «lenke nede». Legg til et mål nummer to hos en annen vert bak ISP-en (f.eks. reservesentralens UDP-ekko)`,
        en: `link "${l.name}" has only ${l.targets.length} probe target: losses to that one target give false "link down". Add a second target on another host beyond the ISP (e.g. the backup centre's UDP echo)`,
      });
    }
  });
  return out;
}

/** Default interval for the trunk when its own is not set: carriers dislike 5 OPTIONS/s. */
export const TRUNK_DEFAULT_INTERVAL_MS = 1000;
