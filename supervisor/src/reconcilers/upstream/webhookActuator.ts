/**
 * The upstream reroute actuator: tells the carrier's or hosted PBX's reroute
 * API where the public number's calls should go, with one HTTP(S) request.
 *
 * `apply` makes exactly one attempt: retries with backoff belong to the
 * reconciler loop, which also decides when to give up and raise an alarm.
 */
import type { UpstreamStatusConfig, UpstreamWebhookConfig } from '../../config/upstream.js';
import type { RouteActuator, RouteTarget } from '../actuator.js';
import { assertExpectedStatus, bodySnippet, sendOnce, UpstreamHttpError } from './httpClient.js';
import { RequestTemplate } from './requestTemplate.js';

export const WEBHOOK_PLACEHOLDERS = ['route', 'reason', 'box', 'at'] as const;
export type WebhookPlaceholder = (typeof WEBHOOK_PLACEHOLDERS)[number];
const STATUS_PLACEHOLDERS = ['box'] as const;

export interface WebhookActuatorOptions {
  /** This box's id, for {{box}}. */
  box: string;
  /** The current decision's reason, for {{reason}} when apply() is called without one. */
  reason?: () => string;
  /** Where `${env:…}` is looked up; default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Clock for {{at}}; injectable for tests. */
  now?: () => Date;
  /** Actuator name in logs and the store; default `upstream-webhook`. */
  name?: string;
}

export class WebhookActuator implements RouteActuator {
  readonly name: string;
  /**
   * True when observe() really asks the upstream (a status URL is configured).
   * False: observe() only echoes the last successful apply() — it cannot see a
   * change made upstream behind our back, so no drift can be detected.
   */
  readonly readsBack: boolean;

  private readonly request: RequestTemplate<WebhookPlaceholder>;
  private readonly statusRequest: RequestTemplate<(typeof STATUS_PLACEHOLDERS)[number]> | undefined;
  private readonly statusField: string | undefined;
  private readonly routeValues: Readonly<Record<RouteTarget, string>>;
  private readonly box: string;
  private readonly reason: () => string;
  private readonly now: () => Date;
  private readonly inFlight = new Set<AbortController>();
  private applied: RouteTarget | 'unknown' = 'unknown';
  private observeError: string | undefined;
  private closed = false;

  /** Throws (TemplateError) on config problems: missing env var, bad template, unreadable CA file. */
  constructor(cfg: UpstreamWebhookConfig, opts: WebhookActuatorOptions) {
    this.name = opts.name ?? 'upstream-webhook';
    this.box = opts.box;
    this.reason = opts.reason ?? (() => 'unspecified');
    this.now = opts.now ?? (() => new Date());
    this.routeValues = { local: cfg.routeValues.local, backup: cfg.routeValues.backup };
    this.request = new RequestTemplate(cfg, {
      what: 'upstream.webhook',
      placeholders: WEBHOOK_PLACEHOLDERS,
      sample: { route: cfg.routeValues.backup, reason: 'sample "reason"', box: opts.box, at: new Date(0).toISOString() },
      ...(opts.env ? { env: opts.env } : {}),
    });
    this.readsBack = cfg.status !== undefined;
    if (cfg.status) {
      this.statusField = cfg.status.jsonField;
      this.statusRequest = new RequestTemplate(statusEndpoint(cfg, cfg.status), {
        what: 'upstream.webhook.status',
        placeholders: STATUS_PLACEHOLDERS,
        sample: { box: opts.box },
        ...(opts.env ? { env: opts.env } : {}),
      });
    }
  }

  /** The route of the last successful apply(); `unknown` before the first and after a failed one. */
  get lastApplied(): RouteTarget | 'unknown' {
    return this.applied;
  }

  /** Why the last observe() returned `unknown`, if it did (observe itself never throws). */
  get lastObserveError(): string | undefined {
    return this.observeError;
  }

  /**
   * One attempt to set the upstream route. `reason` overrides the reason
   * provider (e.g. "manual failover by ola: drill"). Throws UpstreamHttpError
   * naming the URL, the status and a body snippet.
   */
  async apply(target: RouteTarget, reason?: string): Promise<void> {
    if (this.closed) throw new Error(`${this.name}: apply(${target}) after close()`);
    const req = this.request.render({
      route: this.routeValues[target],
      reason: reason ?? this.reason(),
      box: this.box,
      at: this.now().toISOString(),
    });
    try {
      const res = await this.withAbort((signal) => sendOnce(req, { what: 'upstream webhook', signal }));
      assertExpectedStatus(res, req, { what: 'upstream webhook', expected: this.request.expectedStatuses });
      this.applied = target;
    } catch (err) {
      // The request may or may not have reached the upstream: we no longer know its route.
      this.applied = 'unknown';
      throw err;
    }
  }

  /**
   * With a status URL: the route the upstream reports now (a read-back).
   * Without: the last successful apply() — NOT a read-back (see readsBack).
   */
  async observe(): Promise<RouteTarget | 'unknown'> {
    if (!this.statusRequest || this.statusField === undefined) return this.applied;
    const req = this.statusRequest.render({ box: this.box });
    try {
      const res = await this.withAbort((signal) => sendOnce(req, { what: 'upstream status', signal }));
      assertExpectedStatus(res, req, { what: 'upstream status', expected: undefined });
      const route = this.routeFromStatus(res.body, req.displayUrl);
      this.observeError = undefined;
      return route;
    } catch (err) {
      this.observeError = err instanceof Error ? err.message : String(err);
      return 'unknown';
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const c of this.inFlight) c.abort();
  }

  private async withAbort<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    try {
      return await fn(controller.signal);
    } finally {
      this.inFlight.delete(controller);
    }
  }

  private routeFromStatus(body: string, displayUrl: string): RouteTarget {
    const where = `upstream status GET ${displayUrl}`;
    let doc: unknown;
    try {
      doc = JSON.parse(body);
    } catch {
      throw new UpstreamHttpError(`${where}: answer is not JSON — body: ${bodySnippet(body)}`, 'protocol');
    }
    const field = this.statusField as string;
    const value = readJsonPath(doc, field);
    if (value === undefined) {
      throw new UpstreamHttpError(`${where}: the answer has no field "${field}" (status.jsonField) — body: ${bodySnippet(body)}`, 'protocol');
    }
    const text = typeof value === 'string' || typeof value === 'number' ? String(value) : JSON.stringify(value);
    if (text === this.routeValues.local) return 'local';
    if (text === this.routeValues.backup) return 'backup';
    throw new UpstreamHttpError(
      `${where}: field "${field}" is ${JSON.stringify(text)}, neither routeValues.local (${JSON.stringify(this.routeValues.local)}) ` +
        `nor routeValues.backup (${JSON.stringify(this.routeValues.backup)})`,
      'protocol',
    );
  }
}

/** The status read shares the webhook's credentials and TLS unless it has its own. */
function statusEndpoint(cfg: UpstreamWebhookConfig, status: UpstreamStatusConfig) {
  return {
    url: status.url,
    method: 'GET',
    headers: status.headers ?? withoutContentType(cfg.headers),
    timeoutMs: status.timeoutMs,
    tls: status.tls ?? cfg.tls,
  };
}

function withoutContentType(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'content-type'));
}

/** Read `a.b.0.c` from parsed JSON; undefined when any step is missing. */
export function readJsonPath(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const step of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(step)) return undefined;
      cur = cur[Number(step)];
    } else {
      if (!Object.hasOwn(cur, step)) return undefined;
      cur = (cur as Record<string, unknown>)[step];
    }
  }
  return cur;
}
