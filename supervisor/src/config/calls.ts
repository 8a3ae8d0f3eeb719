/**
 * Config for the call path: Kamailio on the box, the two centres, the
 * announcement of last resort, the timers, and how the route switch is
 * verified and drilled. Kamailio's cfg and dispatcher list are *rendered* from
 * this section (supervisor/src/reconcilers/kamailio/render.ts): it is the one
 * source of truth for where calls go.
 */
import { z } from 'zod';

/** `sip:` URI with an explicit host; user part and port optional. Parsed again in hardware/sip/uri.ts. */
const SIP_URI = /^sip:(?:[^@\s;?]+@)?(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?(?:;[^\s"]*)?$/;
const sipUri = z.string().regex(SIP_URI, { message: 'expected a SIP URI like sip:legevakt@10.20.0.10:5060 (no spaces, no quotes)' });

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const ipv4 = z.string().regex(IPV4, { message: 'expected an IPv4 address like 10.20.0.1' });
/** An IPv4 address or CIDR block, e.g. `195.18.0.0/24` (the carrier's SBCs). */
const ipv4OrCidr = z.string().refine(
  (s) => {
    const [ip, bits, extra] = s.split('/');
    if (extra !== undefined || ip === undefined || !IPV4.test(ip)) return false;
    return bits === undefined || (/^\d{1,2}$/.test(bits) && Number(bits) <= 32);
  },
  { message: 'expected an IPv4 address or CIDR block like 195.18.0.0/24' },
);

const port = z.number().int().min(1).max(65535);
const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Busy/decline codes: the caller must never get these from us (KoKom: never a busy signal). */
export const FORBIDDEN_FINAL_CODES = [486, 600, 603] as const;

export const sipListenSchema = z.strictObject({
  /** Address Kamailio listens on for the trunk; 0.0.0.0 = every address. */
  address: ipv4.default('0.0.0.0'),
  port: port.default(5060),
  /**
   * Address put in Record-Route/Via when `address` is 0.0.0.0 or behind NAT
   * (Kamailio `advertise`). Leave unset when the box's own address is reachable.
   */
  advertise: ipv4.optional(),
  /** SIP transports to listen on. UDP is what trunks use; TCP for long INVITEs. */
  transports: z
    .array(z.enum(['udp', 'tcp']))
    .min(1)
    .default(['udp']),
});

export const trunkSchema = z.strictObject({
  /**
   * Where inbound calls may come from (the carrier's SBCs / the hosted PBX).
   * Empty = accept INVITEs from anywhere (lab only). 127.0.0.1 is always allowed
   * so the box's own verification calls work.
   */
  sources: z.array(ipv4OrCidr).default([]),
});

const centreSchema = z.strictObject({
  /**
   * Where the centre takes calls, in preference order (e.g. its PBX, then a second
   * SBC). The same URIs appear in Kamailio's dispatcher list and are the handles the
   * actuator uses with `dispatcher.set_state` — keep them byte-identical.
   */
  uris: z.array(sipUri).min(1),
});

export const centresSchema = z
  .strictObject({
    local: centreSchema,
    backup: centreSchema,
  })
  .refine((c) => !c.local.uris.some((u) => c.backup.uris.includes(u)), {
    message: 'a URI cannot be both a local and a backup destination (the actuator disables local URIs)',
  });

export const announcementSchema = z.strictObject({
  /**
   * The announcement server(s) (see ops/kamailio/README.md): answered with 200 and
   * plays "ring 113 ved akutt sykdom". Tried when every centre failed.
   */
  uris: z.array(sipUri).min(1),
  /** What it says, bokmål first. Recorded with espeak-ng unless `audioFile` is given. */
  textNb: z.string().min(1).default('Legevakten kan ikke ta imot samtalen akkurat nå. Ved akutt sykdom eller skade, ring 1 1 3.'),
  textEn: z.string().min(1).default('The out-of-hours service cannot take your call right now. If it is an emergency, call 1 1 3.'),
  /** A supplied recording (raw 8 kHz mono µ-law) instead of the espeak-ng one. */
  audioFile: z.string().min(1).optional(),
  /** How long the announcement server may take to answer before the last-words reply. */
  answerTimeoutMs: z.number().int().min(200).max(30_000).default(5000),
  /** The announcement hangs up after this long if the caller has not (the prompt loops). */
  maxPlayMs: z.number().int().min(5000).max(600_000).default(60_000),
  /** First RTP port of the announcement server (SIPp -mp); each call takes the next even pair. */
  mediaPort: port.default(16_000),
});

export const finalReplySchema = z
  .strictObject({
    /**
     * Sent only if even the announcement cannot be reached. 480 maps to ISUP cause
     * 18 ("no user responding"), not to "user busy".
     */
    code: z.number().int().min(400).max(699).default(480),
    reason: z
      .string()
      .regex(/^[\x20-\x7e]+$/, { message: 'reason phrase must be printable ASCII' })
      .default('Temporarily Unavailable'),
  })
  .refine((r) => !(FORBIDDEN_FINAL_CODES as readonly number[]).includes(r.code), {
    message: `the final reply must not be a busy/decline code (${FORBIDDEN_FINAL_CODES.join(', ')}): a caller must never hear busy`,
    path: ['code'],
  });

export const callTimersSchema = z.strictObject({
  /** tm `fr_timer`: no reply at all from a centre → next destination. Kamailio default 30 s. */
  noReplyMs: z.number().int().min(500).max(32_000).default(2000),
  /** tm `fr_inv_timer`: rings this long without answer → next destination. Kamailio default 120 s. */
  ringNoAnswerMs: z.number().int().min(2000).max(180_000).default(20_000),
  /** dispatcher `ds_ping_interval` (s): OPTIONS keepalive to every destination. 0 = none (Kamailio default). */
  keepaliveIntervalS: z.number().int().min(0).max(300).default(2),
  /** Failed keepalives before a destination is taken out of rotation (`ds_probing_threshold`). */
  probingThreshold: z.number().int().min(1).max(20).default(1),
  /** Good keepalives before it is put back (`ds_inactive_threshold`). */
  inactiveThreshold: z.number().int().min(1).max(20).default(1),
  /**
   * Keepalive answers besides 2xx that prove the centre's SIP stack is alive
   * (many PBXs answer OPTIONS with 403/404/405). 408 is never allowed: Kamailio
   * generates it itself on timeout, so a dead centre would look alive.
   */
  keepaliveReplyCodes: z
    .array(z.number().int().min(300).max(699))
    .default([403, 404, 405, 501])
    .refine((codes) => !codes.includes(408), { message: '408 is generated locally on timeout; accepting it would keep a dead centre "up"' }),
});

export const kamailioRpcSchema = z.strictObject({
  /** JSON-RPC over HTTP on 127.0.0.1 only (never exposed): Kamailio's `xhttp` + `jsonrpcs`. */
  port: port.default(5071),
  /** Per-request deadline for the supervisor's RPC calls. */
  timeoutMs: z.number().int().min(50).max(30_000).default(2000),
  /**
   * Uids Kamailio runs as. Before sending its RPC key the supervisor checks that the
   * port is held by one of them, so a local user who bound the port while Kamailio
   * was down gets nothing. The supervisor's own uid is always trusted too: the packaged
   * units run Kamailio as the supervisor's user `vaktpost` (ops/systemd/README.md).
   */
  trustedUids: z.array(z.number().int().min(0)).min(1).default([0]),
});

export const verifySchema = z.strictObject({
  /** Deadline for the SIP OPTIONS sent to the centre the route now points at. */
  optionsTimeoutMs: z.number().int().min(100).max(30_000).default(2000),
  /** Source address for the OPTIONS (e.g. the WAN the calls use); default: the kernel's choice. */
  localAddress: ipv4.optional(),
  /**
   * An optional real test call through Kamailio (SIPp UAC) to a number the
   * centres answer without alerting a nurse (agree it with them).
   */
  testCall: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** Request-URI user of the test call, e.g. "vaktpost-test". */
      number: z
        .string()
        .regex(/^[A-Za-z0-9+*#._-]+$/, { message: 'digits, letters, + * # . _ - only' })
        .default('vaktpost-test'),
      /** Whole test call deadline (INVITE → 200 → BYE). */
      timeoutMs: z.number().int().min(1000).max(120_000).default(15_000),
    })
    .prefault({}),
});

export const drillSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** node-cron expression (5 or 6 fields): when the drill is attempted. Default 10:30 every day. */
  schedule: z
    .string()
    .refine((s) => [5, 6].includes(s.trim().split(/\s+/).length), { message: 'expected a cron expression with 5 or 6 fields, e.g. "30 10 * * *"' })
    .default('30 10 * * *'),
  /**
   * The drill only runs inside this local-time window (a quiet period agreed with
   * the centre); outside it the scheduled drill is skipped and the reason recorded.
   * `start` > `end` wraps past midnight.
   */
  quietTime: z
    .strictObject({
      start: z.string().regex(HHMM, { message: 'expected HH:MM (24 h)' }).default('10:00'),
      end: z.string().regex(HHMM, { message: 'expected HH:MM (24 h)' }).default('14:00'),
    })
    .prefault({}),
});

// --- Call records (evidence, issue #10) ---------------------------------------
/**
 * Kamailio appends one line per call milestone (arrived, answered by whom,
 * abandoned, rejected, ended) to files in `dir` (acc + db_flatstore); the
 * supervisor ingests them for the availability and answer-time reports. Files,
 * not a socket, so records survive the supervisor being down.
 */
export const callRecordsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  dir: z
    .string()
    .regex(/^\/[^\s"]*$/, { message: 'expected an absolute path without spaces or quotes, e.g. /var/lib/vaktpost/kamailio/calls' })
    .default('/var/lib/vaktpost/kamailio/calls'),
});
// --- end call records ---------------------------------------------------------

// --- Recording (the audio log, issue #7) -------------------------------------
/**
 * With `enabled`, Kamailio anchors every call's media in rtpengine on the box and
 * has it recorded (ops/rtpengine/README.md); the supervisor's `audiolog:` section
 * archives the recordings. A dead rtpengine never blocks a call: the call goes on
 * unrecorded and the supervisor raises the alarm.
 */
export const callRecordingSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** rtpengine's ng control socket (its `listen-ng`); loopback. */
  rtpengine: z
    .strictObject({
      host: ipv4.default('127.0.0.1'),
      port: port.default(2223),
    })
    .prefault({}),
  /** Per-try deadline of an offer/answer to rtpengine (two tries). Only a dead rtpengine ever waits this. */
  offerTimeoutMs: z.number().int().min(50).max(2000).default(300),
  /** After rtpengine failed, calls skip it this long before it is tried again. */
  retryAfterS: z.number().int().min(1).max(600).default(10),
  /** UDP port on 127.0.0.1 where Kamailio tells the supervisor about connected and ended calls. */
  eventsPort: port.default(5074),
  /** Request-URI user of the box's known-audio test call: routed to the announcement, never to a centre. */
  testNumber: z
    .string()
    .regex(/^[A-Za-z0-9+*#._-]+$/, { message: 'digits, letters, + * # . _ - only' })
    .default('vaktpost-lydlogg-test'),
  /**
   * Callers are told the call is recorded: as the call is answered the supervisor has
   * rtpengine play this to the caller, holding the call-taker's audio back for those
   * seconds (the call-taker hears the caller all along). Off by default: the better
   * place is the centre's own IVR before the call is queued. Needs the supervisor up.
   */
  notice: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** WAV (8 kHz G.711) readable by rtpengine; `vaktpost audiolog` writes it from the texts. */
      file: z
        .string()
        .regex(/^\/[^\s"]*$/, { message: 'expected an absolute path without spaces or quotes' })
        .default('/var/lib/vaktpost/audiolog/notice.wav'),
      textNb: z.string().min(1).default('Samtalen blir tatt opp.'),
      textEn: z.string().min(1).default('This call is recorded.'),
    })
    .prefault({}),
});
// --- end recording --------------------------------------------------------------

export const callsSchema = z
  .strictObject({
    sip: sipListenSchema.prefault({}),
    trunk: trunkSchema.prefault({}),
    centres: centresSchema,
    announcement: announcementSchema,
    finalReply: finalReplySchema.prefault({}),
    timers: callTimersSchema.prefault({}),
    rpc: kamailioRpcSchema.prefault({}),
    /** Kamailio's ctl socket and pid file (there is no /run/kamailio without its systemd unit). */
    runDir: z.string().min(1).default('/run/vaktpost/kamailio'),
    /** Where the rendered kamailio.cfg and dispatcher.list are written. */
    configDir: z.string().min(1).default('/var/lib/vaktpost/kamailio'),
    /** Kamailio worker processes per UDP socket. */
    children: z.number().int().min(1).max(64).default(4),
    verify: verifySchema.prefault({}),
    drill: drillSchema.prefault({}),
    /** Call records for the evidence reports (see callRecordsSchema). */
    callRecords: callRecordsSchema.prefault({}),
    /** The audio log's side of the call path: media through rtpengine, recorded (see callRecordingSchema). */
    recording: callRecordingSchema.prefault({}),
  })
  .refine((c) => c.rpc.port !== c.sip.port, {
    message: 'rpc.port must differ from sip.port (the JSON-RPC listener is a separate loopback TCP socket)',
    path: ['rpc', 'port'],
  });

export type CallsConfig = z.infer<typeof callsSchema>;
export type CallsConfigInput = z.input<typeof callsSchema>;
export type CallTimers = z.infer<typeof callTimersSchema>;
