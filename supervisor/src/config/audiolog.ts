/**
 * The local audio log (lydlogg): rtpengine records every call on the box
 * (`calls.recording` puts the media through it), the supervisor archives each
 * recording as a stereo WAV with SHA-256 in an append-only hash chain, watches
 * that recording actually happens, keeps recordings for the legal period and
 * logs every access. Recordings are part of the patient record
 * (akuttmedisinforskriften § 20: kept 3 years, then deleted unless held).
 */
import { z } from 'zod';

const absPath = z.string().regex(/^\/[^\s"]*$/, { message: 'expected an absolute path without spaces or quotes' });
const ipv4 = z.string().regex(/^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/, { message: 'expected an IPv4 address' });
const port = z.number().int().min(1).max(65535);
const role = z.enum(['operator', 'technician', 'admin']);

/** How rtpengine itself runs (rendered into its config file, ops/rtpengine/). */
export const rtpengineDaemonSchema = z
  .strictObject({
    /** Address rtpengine receives and sends media on (the box's address both sides reach). */
    interface: ipv4.default('127.0.0.1'),
    /** Address written into SDPs when `interface` is not what the far ends should use (NAT). */
    advertise: ipv4.optional(),
    portMin: port.default(30_000),
    portMax: port.default(40_000),
    /**
     * rtpengine's recording spool: it writes `pcaps/`, `tmp/` (in progress) and
     * `metadata/` (done) here. Keep it on a disk with room for the longest calls.
     */
    spoolDir: absPath.default('/var/spool/vaktpost/rtpengine'),
    /** A call with no media this long is ended by rtpengine (a lost BYE); its recording is then finalised. */
    mediaTimeoutS: z.number().int().min(5).max(3600).default(60),
    logLevel: z.number().int().min(0).max(7).default(5),
  })
  .refine((d) => d.portMin < d.portMax, { message: 'portMin must be below portMax', path: ['portMin'] });

export const audiologChecksSchema = z.strictObject({
  /** How often rtpengine, the spool and the disk are checked (ms). */
  pollMs: z.number().int().min(200).max(60_000).default(1000),
  /** A recording is incomplete when its audio covers less than this share of the connected call… */
  completeRatio: z.number().min(0.1).max(1).default(0.9),
  /** …and misses more than this much audio (ms); short calls are not flagged for set-up jitter. */
  incompleteMinMissingMs: z.number().int().min(0).default(1500),
  /** After Kamailio saw a call end, its recording must be archived within this long (ms). */
  recordingGraceMs: z.number().int().min(1000).max(600_000).default(10_000),
  /** A connected call whose pcap has not grown this long is "recording stalled" (ms). */
  stallAfterMs: z.number().int().min(1000).default(5000),
  /** An in-progress file rtpengine no longer knows is adopted (archived as incomplete) after this long (ms). */
  orphanAfterMs: z.number().int().min(1000).default(15_000),
  /** Calls without (complete) recordings keep the recording subsystem failed/warned this long (ms). */
  faultWindowMs: z.number().int().min(60_000).default(3_600_000),
  /** A call Kamailio saw connect but never end is given up after this long (ms). */
  maxCallMs: z
    .number()
    .int()
    .min(60_000)
    .default(6 * 3_600_000),
  /** Disk: warn / fail when the archive's disk fills within this many days at the current rate. */
  diskWarnDays: z.number().min(1).default(60),
  diskFailDays: z.number().min(0).default(14),
  /** Disk: fail below this much free space (MB) on the spool or archive disk regardless of the rate. */
  minFreeMb: z.number().min(0).default(1024),
});

export const audiologTestCallSchema = z.strictObject({
  /**
   * A periodic known-audio test call through Kamailio and rtpengine to the
   * announcement (no nurse is rung): the recording must appear and carry the
   * test audio bit for bit. The end-to-end proof that recording works.
   */
  enabled: z.boolean().default(true),
  intervalMin: z
    .number()
    .min(1)
    .max(7 * 24 * 60)
    .default(360),
  /** Length of the known audio streamed by the test caller (ms). */
  durationMs: z.number().int().min(1000).max(60_000).default(3000),
  /** Whole test deadline: call + recording archived (ms). */
  timeoutMs: z.number().int().min(5000).max(300_000).default(60_000),
});

export const audiologSchema = z.strictObject({
  enabled: z.boolean().default(true),
  rtpengine: rtpengineDaemonSchema.prefault({}),
  /**
   * The archive: `<YYYY>/<MM>/<DD>/<recording id>/` with audio.wav, metadata.txt,
   * record.json; owner-only. Default: `<box.dataDir>/audiolog`.
   */
  archiveDir: absPath.optional(),
  /** Keep rtpengine's pcap next to the WAV (1.3 MB per call-minute; the WAV alone is bit-exact). */
  keepPcap: z.boolean().default(false),
  retention: z
    .strictObject({
      /** Kept this long from the recording, then deleted unless on legal hold. */
      years: z.number().min(0.01).max(30).default(3),
      /** The box's own test-call recordings (no patient data). */
      testCallDays: z.number().min(1).max(365).default(7),
      /** How often expired recordings are looked for (minutes). */
      checkEveryMin: z
        .number()
        .min(1)
        .max(24 * 60)
        .default(60),
    })
    .prefault({}),
  access: z
    .strictObject({
      /** Role needed to list, listen to and export recordings; every access is logged with its reason. */
      listenRole: role.default('admin'),
      exportRole: role.default('admin'),
      /** Role needed to put a recording on legal hold or release it. */
      holdRole: role.default('admin'),
      /** A stated reason must be at least this long (a case number or a sentence). */
      minReasonLength: z.number().int().min(3).max(200).default(8),
    })
    .prefault({}),
  checks: audiologChecksSchema.prefault({}),
  testCall: audiologTestCallSchema.prefault({}),
});

export type AudiologConfig = z.infer<typeof audiologSchema>;
/** With the archive folder decided (`archiveDir` or `<box.dataDir>/audiolog`). */
export type ResolvedAudiologConfig = AudiologConfig & { archiveDir: string };

export function resolveAudiologConfig(cfg: AudiologConfig, dataDir: string): ResolvedAudiologConfig {
  return { ...cfg, archiveDir: cfg.archiveDir ?? `${dataDir.replace(/\/+$/, '')}/audiolog` };
}
export type AudiologConfigInput = z.input<typeof audiologSchema>;
export type RtpengineDaemonConfig = z.infer<typeof rtpengineDaemonSchema>;
export type AudiologChecks = z.infer<typeof audiologChecksSchema>;
