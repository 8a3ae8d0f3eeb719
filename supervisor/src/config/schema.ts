/**
 * The one schema for /etc/vaktpost/vaktpost.yaml. It validates and gives the
 * TypeScript types. Every object is strict: an unknown key is an error (a typo in
 * an emergency-routing config must not be silently ignored).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { SUBSYSTEMS } from '../core/signal.js';
import { audiologSchema } from './audiolog.js';
import { callsSchema } from './calls.js';
import { evidenceSchema } from './evidence.js';
import { firewallSchema } from './firewall.js';
import { FlowsConfigSchema } from './flows.js';
import { PowerConfigSchema } from './power.js';
import { retentionSchema } from './retention.js';
import { systemSchema } from './system.js';
import { timeConfigSchema } from './time.js';
import { wanConfigSchema } from './wan.js';
import { UpstreamConfigSchema } from './upstream.js';

const subsystem = z.enum(SUBSYSTEMS);
const seconds = z.number().nonnegative();

export const boxSchema = z.strictObject({
  /** Shown in the UI and sent upstream in heartbeats. */
  name: z.string().min(1).default('vaktpost'),
  /** Where the store, the audio log and generated credentials live. */
  dataDir: z.string().min(1).default('/var/lib/vaktpost'),
  /** `simulated` drives the built-in simulated box (for `make run` and demos). */
  hardware: z.enum(['real', 'simulated']).default('real'),
});

export const apiSchema = z.strictObject({
  /**
   * An IP address of this box (or `localhost`); `0.0.0.0` / `::` = every address. Checked
   * here: a name or a typo like 999.1.1.1 would otherwise only fail when `run` binds.
   */
  listen: z
    .string()
    .min(1)
    .refine((s) => isIP(s) !== 0 || s === 'localhost', {
      message: 'expected an IP address of this box (e.g. 127.0.0.1, 0.0.0.0 for every address, or ::1) — not a host name',
    })
    .default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(8080),
  /** Session lifetime for the web UI / API tokens. */
  sessionHours: z.number().positive().default(12),
  /** Serve HTTPS with a certificate the box generates on first start (in box.dataDir/tls). */
  tls: z.boolean().default(false),
});

export const policySchema = z.strictObject({
  /** Subsystems whose failure moves calls to the backup centre. */
  failoverOn: z.array(subsystem).default(['power', 'wan', 'centres']),
  /** Every trigger must be known-good this long before calls return to local. */
  failbackHoldS: seconds.default(120),
  /** Minimum time between two route changes caused by health. */
  holdDownS: seconds.default(30),
  /** How often the policy re-evaluates even without new signals (catches stale signals). */
  tickMs: z.number().int().min(50).max(10_000).default(250),
});

export const simSchema = z.strictObject({
  /** Scenario file (YAML) played on start: a list of {at: seconds, set: {...}} steps. */
  scenario: z.string().optional(),
  /** How often simulated monitors report (ms). */
  reportMs: z.number().int().min(50).max(60_000).default(500),
  ups: z.array(z.string().min(1)).min(1).default(['ups1']),
  links: z.array(z.string().min(1)).min(1).default(['wan1', 'wan2']),
});

export const reconcileSchema = z.strictObject({
  /** How often each actuator's real state is read back to catch drift. */
  driftCheckMs: z.number().int().min(100).default(1000),
  retryInitialMs: z.number().int().min(10).default(200),
  retryMaxMs: z.number().int().min(100).default(10_000),
});

export const configSchema = z
  .strictObject({
    box: boxSchema.prefault({}),
    api: apiSchema.prefault({}),
    policy: policySchema.prefault({}),
    reconcile: reconcileSchema.prefault({}),
    sim: simSchema.prefault({}),
    /** Calls through Kamailio: centres, announcement, timers, verification and the daily drill. */
    calls: callsSchema.optional(),
    /** The municipality's fallback policy as Node-RED flows, in a child process, under the safety floor. */
    flows: FlowsConfigSchema.prefault({}),
    /** The audio log (lydlogg): rtpengine recordings archived, hash-chained, access-logged (needs calls.recording). */
    audiolog: audiologSchema.optional(),
    /** Operational evidence: call records, availability, answer times, deviations, duties (KoKom T1, T15–T21). */
    evidence: evidenceSchema.prefault({}),
    /** UPS over NUT, mains and UPS contacts on GPIO, the line relay, power thresholds and the shutdown command. */
    power: PowerConfigSchema.prefault({}),
    /** WAN uplinks and the reachability of both centres and the trunk, probed per uplink. */
    wan: wanConfigSchema.optional(),
    /** chrony on the box and the time audit of the centre's other systems (KoKom T4: within 1 s). */
    time: timeConfigSchema.prefault({}),
    /** The carrier's / hosted PBX's reroute webhook and the heartbeat that proves the box is alive. */
    upstream: UpstreamConfigSchema.prefault({}),
    /** The box itself: CPU temperature, memory and disk space (alarms; not a failover trigger by default). */
    system: systemSchema.prefault({}),
    /** The host firewall `vaktpost apply` renders: inbound default drop; SIP/RTP from the trunk and centres, NTP/UI/SSH from the LAN and management networks. */
    firewall: firewallSchema.prefault({}),
    /** How long the supervisor's own record is kept (the audio log has its own rule). */
    retention: retentionSchema.prefault({}),
  })
  .refine((c) => !c.audiolog?.enabled || c.calls?.recording.enabled === true, {
    path: ['audiolog'],
    message: 'audiolog.enabled needs calls.recording.enabled: true (Kamailio must send media through rtpengine)',
  });

export type VaktpostConfig = z.infer<typeof configSchema>;
export type PolicySection = z.infer<typeof policySchema>;
