/**
 * Config for the time subsystem (issue #4, KoKom T4): how Vaktpost asks the
 * box's chronyd, the thresholds of the time signals, and the centre's other
 * systems whose clocks are audited over NTP.
 *
 *   time:
 *     chronyc: { socket: /run/chrony/chronyd.sock }
 *     maxSourceLossS: 120
 *     audit:
 *       hosts:
 *         - { name: operator1, host: 10.20.0.31 }
 *         - { name: phone, host: pbx.legevakt.local, intervalS: 30 }
 */
import { z } from 'zod';

const seconds = z.number().positive();

export const chronycSchema = z.strictObject({
  /** The chronyc binary. */
  path: z.string().min(1).default('/usr/bin/chronyc'),
  /**
   * chronyd's command socket path (chronyc -h). Debian's chronyd listens on
   * /run/chrony/chronyd.sock; Vaktpost must run as root or in group _chrony.
   * A host name/address here uses the UDP command port instead.
   */
  socket: z.string().min(1).default('/run/chrony/chronyd.sock'),
  /** UDP command port (chronyc -p), only with a network host in `socket`. */
  port: z.number().int().min(1).max(65535).optional(),
  /** chronyc is killed after this long (a hung chronyd must not stall the monitor). */
  timeoutMs: z.number().int().min(100).max(30_000).default(2000),
});

/** Audited system names become signal keys (`time.audit.<name>`): keep them key-safe. */
const auditName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, { message: 'expected a short name of letters, digits, - and _ (e.g. operator1)' });

export const auditHostSchema = z.strictObject({
  /** Name in signals and reports, e.g. `operator1`, `phone`, `recorder`, `radio`. */
  name: auditName,
  /** Address or DNS name of the system's NTP service. */
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535).default(123),
  /** How often to query it. */
  intervalS: seconds.default(60),
});

export const timeAuditSchema = z
  .strictObject({
    /** Per-query timeout. */
    timeoutMs: z.number().int().min(50).max(10_000).default(1000),
    /** Queries per round before a host counts as not answering (UDP loses packets). */
    attempts: z.number().int().min(1).max(5).default(2),
    /** Send audits from this local address (to face the centre's LAN/VLAN). */
    sourceAddress: z.string().min(1).optional(),
    hosts: z.array(auditHostSchema).default([]),
  })
  .refine((a) => new Set(a.hosts.map((h) => h.name)).size === a.hosts.length, {
    message: 'audit host names must be unique (each becomes a signal key time.audit.<name>)',
    path: ['hosts'],
  });

/** An NTP server or pool chronyd follows (rendered by `vaktpost apply`, always `iburst maxpoll 6`). */
export const chronySourceSchema = z.strictObject({
  /** `pool`: a DNS name with several servers behind it (chronyd uses up to 4); `server`: one server. */
  kind: z.enum(['server', 'pool']).default('server'),
  host: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9.:-]+$/, { message: 'expected a host name or IP address (no scheme, no port)' }),
});

/**
 * What `vaktpost apply` writes for chronyd: the settings that depend on this box — the
 * upstream servers and `allow` for firewall.lanNetworks and firewall.managementNetworks.
 * The rest is static (ops/chrony/chrony.conf, which reads this file through `confdir`).
 */
export const chronydSchema = z.strictObject({
  /** false: apply leaves chrony alone. */
  render: z.boolean().default(true),
  /** The rendered file; ops/chrony/chrony.conf has `confdir /etc/chrony/conf.d`. */
  confFile: z
    .string()
    .regex(/^\/[^\s"]*\.conf$/, { message: 'expected an absolute path ending in .conf, e.g. /etc/chrony/conf.d/vaktpost.conf' })
    .default('/etc/chrony/conf.d/vaktpost.conf'),
  /** At least three independent sources, so one wrong server is outvoted (ops/chrony/README.md). */
  sources: z
    .array(chronySourceSchema)
    .min(1)
    .default([{ kind: 'pool', host: 'no.pool.ntp.org' }]),
  /** The chrony unit apply restarts when the file changed (Debian: chrony.service). */
  unit: z
    .string()
    .regex(/^[A-Za-z0-9@._-]+$/)
    .default('chrony.service'),
});

export const timeConfigSchema = z
  .strictObject({
    chronyc: chronycSchema.prefault({}),
    chronyd: chronydSchema.prefault({}),
    /** How often chronyd is asked (ms). */
    pollMs: z.number().int().min(100).max(60_000).default(1000),
    /** Error bound (and |offset|) at which the time signals warn / fail, seconds. KoKom T4: 1 s. */
    warnS: seconds.default(0.5),
    failS: seconds.default(1.0),
    /**
     * A warn/fail clears only after the raw level stayed better for this long.
     * chronyd overshoots after its reference jumps and only updates every poll
     * interval (up to 64 s with ops/chrony): keep this ≥ one poll interval.
     */
    clearHoldS: z.number().nonnegative().default(60),
    /**
     * No selected reachable source, or no reference update, for longer than
     * this = time failure, although chronyd still says "Normal". Must exceed
     * chronyd's longest poll interval (ops/chrony: maxpoll 6 = 64 s).
     */
    maxSourceLossS: seconds.default(120),
    /**
     * While chronyd gives no synchronised figures (down, restarting, not yet
     * synchronised) the last good error bound grows at chronyd's last skew, but
     * never slower than this (ppm; 50 ppm = 0.18 s/h, 1 s after ~5.5 h), and the
     * time subsystem fails only when that grown bound reaches failS.
     */
    holdoverDriftPpm: z.number().positive().max(100_000).default(50),
    /**
     * With no good bound yet (Vaktpost or the box just started), chronyd's
     * "not synchronised" is a warning for this long, then a failure. chronyd
     * with iburst synchronises in ~10 s when its upstreams answer.
     */
    startupGraceS: z.number().nonnegative().max(3600).default(60),
    /** A wall-clock jump larger than this (vs the monotonic clock) is recorded as a step event. */
    wallClockStepS: seconds.default(0.1),
    /** How long `time.wallClockStep` stays at warn after a step. */
    wallClockStepWarnS: seconds.default(600),
    audit: timeAuditSchema.prefault({}),
  })
  .refine((t) => t.warnS < t.failS, { message: 'warnS must be below failS', path: ['warnS'] });

export type TimeConfig = z.infer<typeof timeConfigSchema>;
export type TimeAuditConfig = z.infer<typeof timeAuditSchema>;
export type TimeAuditHost = z.infer<typeof auditHostSchema>;
