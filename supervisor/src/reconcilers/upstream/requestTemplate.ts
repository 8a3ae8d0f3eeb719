/**
 * One configured upstream HTTP request (webhook, heartbeat or status read),
 * compiled at start-up: env references resolved, placeholders checked, the
 * JSON body test-rendered, the CA file read. Everything that can be wrong in
 * the config fails here, at start, not during the first failover at 03:00.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import type { UpstreamTlsConfig } from '../../config/upstream.js';
import { type CompiledTemplate, compileTemplate, contextForContentType, resolveEnvRefs, TemplateError, type TemplateValue } from './template.js';

export interface EndpointConfig {
  url: string;
  method: string;
  headers: Record<string, string>;
  bodyTemplate?: string | undefined;
  timeoutMs: number;
  tls: UpstreamTlsConfig;
  expectedStatuses?: number[] | undefined;
}

export interface TlsMaterial {
  /** Extra CA certificates (PEM), added to Node's default roots. */
  ca?: string[];
  caFile?: string;
  rejectUnauthorized: boolean;
}

export interface RenderedRequest {
  url: URL;
  /** The URL with `${env:…}` unexpanded: what errors and logs may show. */
  displayUrl: string;
  method: string;
  headers: Record<string, string>;
  body?: Buffer;
  timeoutMs: number;
  tls: TlsMaterial;
}

export class RequestTemplate<K extends string> {
  readonly timeoutMs: number;
  readonly tls: TlsMaterial;
  readonly expectedStatuses: readonly number[] | undefined;
  readonly method: string;
  private readonly url: CompiledTemplate<K>;
  private readonly headers: Array<[string, CompiledTemplate<K>]>;
  private readonly body: CompiledTemplate<K> | undefined;

  constructor(
    cfg: EndpointConfig,
    opts: {
      /** Config path for messages, e.g. `upstream.webhook`. */
      what: string;
      placeholders: readonly K[];
      /** Values used to test-render the body at start-up (JSON validity check). */
      sample: Readonly<Record<K, TemplateValue>>;
      env?: Readonly<Record<string, string | undefined>>;
    },
  ) {
    const { what, placeholders, env } = opts;
    this.method = cfg.method;
    this.timeoutMs = cfg.timeoutMs;
    this.expectedStatuses = cfg.expectedStatuses;
    this.url = compileTemplate(cfg.url, { what: `${what}.url`, placeholders, context: 'url', env });

    const headerEntries = Object.entries(cfg.headers);
    const contentTypeEntry = headerEntries.find(([k]) => k.toLowerCase() === 'content-type');
    this.headers = headerEntries.map(([k, v]) => [k, compileTemplate(v, { what: `${what}.headers.${k}`, placeholders, context: 'header', env })]);

    if (cfg.bodyTemplate !== undefined) {
      // A body without a declared type is JSON: that is what reroute APIs speak.
      if (!contentTypeEntry) {
        this.headers.push(['Content-Type', compileTemplate('application/json', { what, placeholders, context: 'header', env })]);
      }
      const context = contextForContentType(contentTypeEntry?.[1] ?? 'application/json');
      this.body = compileTemplate(cfg.bodyTemplate, { what: `${what}.bodyTemplate`, placeholders, context, env });
      if (context === 'json') {
        try {
          JSON.parse(this.body.render(opts.sample));
        } catch (err) {
          throw new TemplateError(
            `${what}.bodyTemplate is not valid JSON once rendered (${(err as Error).message}) — put quotes around ` +
              `string placeholders ("route":"{{route}}"), or set headers.Content-Type (e.g. text/plain) for a non-JSON body`,
          );
        }
      }
    }

    // Validate the rendered URL once, with sample values, so a bad env value fails at start.
    const sampleUrl = this.url.render(opts.sample);
    try {
      const u = new URL(sampleUrl);
      if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`scheme ${u.protocol}`);
    } catch (err) {
      throw new TemplateError(`${what}.url ${this.url.display(opts.sample)} is not a valid http(s) URL once rendered (${(err as Error).message})`);
    }

    this.tls = loadTls(cfg.tls, `${what}.tls`, env);
  }

  render(values: Readonly<Record<K, TemplateValue>>): RenderedRequest {
    const headers: Record<string, string> = {};
    for (const [k, t] of this.headers) headers[k] = t.render(values);
    const body = this.body ? Buffer.from(this.body.render(values), 'utf8') : undefined;
    return {
      url: new URL(this.url.render(values)),
      displayUrl: this.url.display(values),
      method: this.method,
      headers,
      ...(body ? { body } : {}),
      timeoutMs: this.timeoutMs,
      tls: this.tls,
    };
  }
}

/** Read the CA file now: a missing or unreadable file is a start-up error. */
export function loadTls(tls: UpstreamTlsConfig, what: string, env?: Readonly<Record<string, string | undefined>>): TlsMaterial {
  if (tls.caFile === undefined) return { rejectUnauthorized: tls.rejectUnauthorized };
  const caFile = resolveEnvRefs(tls.caFile, `${what}.caFile`, env);
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new TemplateError(`${what}.caFile ${caFile} cannot be read (${code}) — point it at a PEM file with the upstream's CA`);
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TemplateError(`${what}.caFile ${caFile} holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" line)`);
  }
  // Node's `ca` option replaces the default roots; keep them so a public CA still works.
  return { ca: [...rootCertificates, pem], caFile, rejectUnauthorized: tls.rejectUnauthorized };
}
