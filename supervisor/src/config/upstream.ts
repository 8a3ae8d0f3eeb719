/**
 * Config for the upstream side of call routing: the carrier's / hosted PBX's
 * reroute webhook and the heartbeat that lets the upstream notice a dead box.
 *
 * Secrets stay out of the YAML: any string below may reference an environment
 * variable as `${env:NAME}` (resolved once at start-up; a missing or empty one
 * is a start-up error). Request templates may also use placeholders:
 *   webhook:   {{route}} {{reason}} {{box}} {{at}}
 *   heartbeat: {{route}} {{seq}} {{box}} {{at}}
 * Values are escaped for where they land: JSON string contents in a JSON body
 * (write `"route":"{{route}}"`), form-encoding in a form body, percent-encoding
 * in the URL.
 */
import { z } from 'zod';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** RFC 9110 token: what a header name may contain. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const httpUrl = z.string().refine(
  (s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'expected an absolute http:// or https:// URL (e.g. https://api.example.no/reroute)' },
);

const headerRecord = z
  .record(
    z.string(),
    z.string().refine((v) => !/[\r\n]/.test(v), { message: 'header values must not contain line breaks' }),
  )
  // Checked here rather than as the record's key schema: zod's key errors only say "Invalid key in record".
  .superRefine((rec, ctx) => {
    for (const k of Object.keys(rec)) {
      if (!HEADER_NAME.test(k)) {
        ctx.addIssue({ code: 'custom', path: [k], message: `"${k}" is not a valid HTTP header name (letters, digits and -, no spaces)` });
      }
    }
  });
const headers = headerRecord.default({});

export const UpstreamTlsSchema = z
  .object({
    /** PEM file with the CA(s) that signed the upstream's certificate, added to Node's default trust store. */
    caFile: z.string().min(1).optional(),
    /** Only set false for a lab; never on a live box (it disables certificate checking). */
    rejectUnauthorized: z.boolean().default(true),
  })
  .strict();
export type UpstreamTlsConfig = z.infer<typeof UpstreamTlsSchema>;

/** HTTP status codes that count as success; default is any 2xx. */
const expectedStatuses = z.array(z.number().int().min(100).max(599)).min(1).optional();

/** The shape shared by the webhook and the heartbeat: one HTTP request. */
const httpRequestShape = {
  url: httpUrl,
  method: z.enum(HTTP_METHODS).default('POST'),
  headers,
  /**
   * Request body. Without a Content-Type header the body is sent as
   * application/json and must be valid JSON after rendering (checked at start-up).
   */
  bodyTemplate: z.string().optional(),
  /** Whole-request deadline: connect + TLS + response body. */
  timeoutMs: z.number().int().min(50).max(120_000).default(5000),
  tls: UpstreamTlsSchema.default({ rejectUnauthorized: true }),
  expectedStatuses,
};

const noBodyOnGet = (v: { method: string; bodyTemplate?: string | undefined }) => !(v.method === 'GET' && v.bodyTemplate !== undefined);
const noBodyOnGetMessage = { message: 'a GET request cannot carry bodyTemplate; use POST/PUT/PATCH', path: ['bodyTemplate'] };

/** How the upstream names our two routes (e.g. a carrier wants "primary"/"secondary"). */
export const RouteValuesSchema = z
  .object({
    local: z.string().min(1).default('local'),
    backup: z.string().min(1).default('backup'),
  })
  .strict()
  .refine((v) => v.local !== v.backup, { message: 'routeValues.local and routeValues.backup must differ' });

export const UpstreamStatusSchema = z
  .object({
    /** GET this URL to read back which route the upstream uses right now. */
    url: httpUrl,
    /** Dotted path to the route in the JSON answer, e.g. `data.route` or `routes.0.target`. */
    jsonField: z.string().min(1),
    /** Defaults to the webhook's headers (same API, same credentials). */
    headers: headerRecord.optional(),
    timeoutMs: z.number().int().min(50).max(120_000).default(5000),
    /** Defaults to the webhook's TLS settings. */
    tls: UpstreamTlsSchema.optional(),
  })
  .strict();
export type UpstreamStatusConfig = z.infer<typeof UpstreamStatusSchema>;

export const UpstreamWebhookSchema = z
  .object({
    ...httpRequestShape,
    /** What {{route}} renders as, and how a status read-back is mapped to a route. */
    routeValues: RouteValuesSchema.default({ local: 'local', backup: 'backup' }),
    /** Optional read-back; without it observe() reports the last successful apply (not a read-back). */
    status: UpstreamStatusSchema.optional(),
  })
  .strict()
  .refine(noBodyOnGet, noBodyOnGetMessage);
export type UpstreamWebhookConfig = z.infer<typeof UpstreamWebhookSchema>;

export const UpstreamHeartbeatSchema = z
  .object({
    ...httpRequestShape,
    /** Seconds between heartbeats; the upstream should reroute after a few missed ones. */
    intervalS: z.number().min(0.05).max(3600).default(10),
  })
  .strict()
  .refine(noBodyOnGet, noBodyOnGetMessage);
export type UpstreamHeartbeatConfig = z.infer<typeof UpstreamHeartbeatSchema>;

export const UpstreamConfigSchema = z
  .object({
    webhook: UpstreamWebhookSchema.optional(),
    heartbeat: UpstreamHeartbeatSchema.optional(),
  })
  .strict();
export type UpstreamConfig = z.infer<typeof UpstreamConfigSchema>;
