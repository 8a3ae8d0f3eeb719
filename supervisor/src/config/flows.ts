/**
 * Config for the municipality's fallback as Node-RED flows (`flows:` in vaktpost.yaml).
 * Off by default: without flows the built-in policy decides alone. When on, Node-RED
 * runs in a child process as its own user (`flows.user`) in `flows.homeDir`, its editor is served at /flows
 * behind Vaktpost's login, and its proposals are applied only under the timeouts below.
 */
import { z } from 'zod';
import { canSwitchUser, effectiveCapabilities } from '../flows/identity.js';

const ms = (min: number, max: number) => z.number().int().min(min).max(max);

export const FlowsDryRunSchema = z.strictObject({
  /** How much recorded history a dry-run replays. */
  windowHours: z
    .number()
    .positive()
    .max(24 * 7)
    .default(24),
  /** Evaluate at least this often in the replay (for flows that look at the time). */
  tickS: z.number().int().min(5).max(3600).default(60),
  /**
   * How long a recorded sample stays valid in the replay. The supervisor stores an
   * unchanged signal every 10 s, so anything above that plus slack is right.
   */
  sampleTtlS: z.number().int().min(1).max(3600).default(35),
  /** Per-evaluation answer timeout in the replay (generous: no calls depend on it). */
  proposalTimeoutMs: ms(100, 60_000).default(2000),
  /** The whole dry-run gives up after this long. */
  maxDurationS: z.number().int().min(10).max(3600).default(180),
});

export const FlowsConfigSchema = z.strictObject({
  enabled: z.boolean().default(false),
  /** A flow's answer must arrive this soon after its input, or the built-in policy decides (and an alarm is raised). */
  proposalTimeoutMs: ms(20, 10_000).default(500),
  /** Send the current state to the flows at least this often, even when nothing changed. */
  evalEveryMs: ms(100, 60_000).default(1000),
  /** After being late, flows decide again only after answering in time for this long. */
  recoverAfterMs: ms(0, 600_000).default(10_000),
  /** At supervisor start, keep the resumed route while Node-RED boots (the safety floor still applies). */
  startGraceMs: ms(0, 60_000).default(5000),
  /** A deploy restarts the flows; keep the route this long while it does. */
  deployGraceMs: ms(100, 30_000).default(3000),
  /** Heartbeat to the child; no answer for hungAfterMs → killed and restarted. */
  heartbeatMs: ms(100, 10_000).default(1000),
  hungAfterMs: ms(500, 120_000).default(5000),
  /** Restart backoff: initial delay, doubled per consecutive failure, capped. */
  restartInitialMs: ms(100, 60_000).default(1000),
  restartMaxMs: ms(1000, 600_000).default(60_000),
  /** Every Function node is interrupted after this long (Node-RED's globalFunctionTimeout). */
  functionTimeoutS: z.number().int().min(1).max(60).default(1),
  /**
   * Node-RED's credentialSecret. Default: generated once and kept in
   * `<dataDir>/flows/credential-secret` (back it up with the data dir). May reference
   * an environment variable as `${env:NAME}`.
   */
  credentialSecret: z.string().min(16).optional(),
  /** Deviations a flow may record per minute before further ones are dropped. */
  deviationsPerMinute: z.number().int().min(1).max(1000).default(30),
  /** Node-RED's own log level (its lines go to Vaktpost's log at debug level). */
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('warn'),
  /**
   * The system user the Node-RED child runs as when the supervisor runs as root. A flow is
   * code (a Function node reaches `process`): this user must own nothing of Vaktpost's — it
   * cannot read the data dir (store, tokens, secrets) or the audio archive. Create it with
   * `useradd --system --no-create-home --shell /usr/sbin/nologin vaktpost-flows`. Without it
   * the flows do not start (fail closed). A supervisor that is not root cannot switch user:
   * then the child runs as the supervisor's own user, and the log and check-config say so.
   */
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]*\$?$/, 'a user name (lowercase letters, digits, _ and -)')
    .max(32)
    .default('vaktpost-flows'),
  /**
   * The flows user's own folder: Node-RED's userDir, the editor socket, dry-run scratch.
   * Owned by that user, mode 0700. Default: `<box.dataDir>-flows` — beside the data dir,
   * never inside it (the data dir is the supervisor's alone).
   */
  homeDir: z.string().regex(/^\//, 'an absolute path').optional(),
  /**
   * Node-RED's file nodes (`file`, `file in`, `watch`). Off by default: they read and write
   * any file the flows user may. When on they still run as the flows user.
   */
  fileNodes: z.boolean().default(false),
  /** Folder of the vaktpost node package; default: the `flows/` folder shipped with Vaktpost. */
  nodesDir: z.string().min(1).optional(),
  /** Template deployed on the very first start (a folder under flows/templates). */
  initialTemplate: z.string().min(1).default('default'),
  dryRun: FlowsDryRunSchema.prefault({}),
});

export type FlowsConfig = z.infer<typeof FlowsConfigSchema>;

/**
 * check-config's advice on the flows: a supervisor that can neither switch user as root nor
 * through CAP_SETUID/CAP_SETGID (flows/identity.ts) cannot run the flows as their own user,
 * so a flow (code) can read whatever the supervisor can. `caps`: the effective capabilities
 * of the process that will run (this one's when `uid` is this process's uid).
 */
export function flowsAdvice(
  cfg: FlowsConfig,
  uid: number | undefined = process.getuid?.(),
  caps: bigint = uid === process.getuid?.() ? effectiveCapabilities() : 0n,
): Array<{ path: string[]; en: string; nb: string }> {
  if (!cfg.enabled || uid === undefined || canSwitchUser(caps, uid)) return [];
  return [
    {
      path: ['flows', 'enabled'],
      en: `the flows child will NOT be isolated: this runs as uid ${uid}, neither root nor with CAP_SETUID/CAP_SETGID, so Node-RED runs as this same user and a deployed flow can read everything Vaktpost can (the store, the CLI token). Run the supervisor as vaktpost.service does (user vaktpost with those two capabilities, or root) with the user "${cfg.user}" created`,
      nb: `flytene blir IKKE isolert: prosessen kjører som uid ${uid}, verken som root eller med CAP_SETUID/CAP_SETGID, så Node-RED kjører som samme bruker og en flyt kan lese alt Vaktpost kan. Kjør som vaktpost.service gjør, med brukeren «${cfg.user}» opprettet`,
    },
  ];
}
