/**
 * The upstream heartbeat: "this box is alive" every N seconds, so that the
 * carrier / hosted PBX / backup centre reroutes on its own when the beats stop
 * (box dead, supervisor dead, all WAN links down). Its silence is the signal,
 * so the timer is unref'd: the heartbeat alone never keeps a dying process up.
 *
 * Scheduling is drift-free: beat k is due at start + k·interval on the
 * monotonic clock, however long each request took. A beat that is still in
 * flight when the next one is due makes that tick skip (counted), so a slow
 * endpoint never gets stacked, overlapping requests.
 */
import type { UpstreamHeartbeatConfig } from '../../config/upstream.js';
import type { RouteTarget } from '../actuator.js';
import { assertExpectedStatus, sendOnce, UpstreamHttpError } from './httpClient.js';
import { RequestTemplate } from './requestTemplate.js';

export const HEARTBEAT_PLACEHOLDERS = ['route', 'seq', 'box', 'at'] as const;
export type HeartbeatPlaceholder = (typeof HEARTBEAT_PLACEHOLDERS)[number];

export interface HeartbeatOptions {
  /** This box's id, for {{box}}. */
  box: string;
  /** The route in force now, for {{route}} (`unknown` if the supervisor does not know). */
  route: () => RouteTarget | 'unknown';
  env?: Readonly<Record<string, string | undefined>>;
  /** Wall clock (epoch ms) for {{at}} and the status timestamps; injectable for tests. */
  now?: () => number;
}

export interface HeartbeatStatus {
  running: boolean;
  intervalMs: number;
  timeoutMs: number;
  /** Sequence number of the last beat sent (1, 2, …; 0 before the first). */
  seq: number;
  inFlight: boolean;
  okCount: number;
  failCount: number;
  /** Ticks not sent because the previous beat was still in flight (or the event loop was blocked). */
  skippedTicks: number;
  /** Epoch ms of the last beat sent / the last beat answered as expected. */
  lastAttemptAt: number | null;
  lastOkAt: number | null;
  consecutiveFailures: number;
  lastError: string | null;
  lastLatencyMs: number | null;
}

export interface BeatResult {
  seq: number;
  ok: boolean;
  /** Epoch ms the beat was sent. */
  at: number;
  latencyMs: number;
  httpStatus?: number;
  error?: string;
}

export class Heartbeat {
  readonly intervalMs: number;
  private readonly request: RequestTemplate<HeartbeatPlaceholder>;
  private readonly box: string;
  private readonly route: () => RouteTarget | 'unknown';
  private readonly now: () => number;
  private readonly listeners = new Set<(r: BeatResult) => void>();

  private running = false;
  /** performance.now() at start(); beat k is due at epoch + k·interval. */
  private epoch = 0;
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private abort: AbortController | undefined;

  private seq = 0;
  private okCount = 0;
  private failCount = 0;
  private skippedTicks = 0;
  private lastAttemptAt: number | null = null;
  private lastOkAt: number | null = null;
  private consecutiveFailures = 0;
  private lastError: string | null = null;
  private lastLatencyMs: number | null = null;

  /** Throws (TemplateError) on config problems: missing env var, bad template, unreadable CA file. */
  constructor(cfg: UpstreamHeartbeatConfig, opts: HeartbeatOptions) {
    this.intervalMs = Math.round(cfg.intervalS * 1000);
    this.box = opts.box;
    this.route = opts.route;
    this.now = opts.now ?? Date.now;
    this.request = new RequestTemplate(cfg, {
      what: 'upstream.heartbeat',
      placeholders: HEARTBEAT_PLACEHOLDERS,
      sample: { route: 'local', seq: 1, box: opts.box, at: new Date(0).toISOString() },
      ...(opts.env ? { env: opts.env } : {}),
    });
  }

  /** Send the first beat now, then one every interval. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.epoch = performance.now();
    this.tick = 0;
    this.fire();
  }

  /** No beat is sent after this resolves; a beat in flight is aborted (not counted as a failure). */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    await this.current;
  }

  status(): HeartbeatStatus {
    return {
      running: this.running,
      intervalMs: this.intervalMs,
      timeoutMs: this.request.timeoutMs,
      seq: this.seq,
      inFlight: this.current !== undefined,
      okCount: this.okCount,
      failCount: this.failCount,
      skippedTicks: this.skippedTicks,
      lastAttemptAt: this.lastAttemptAt,
      lastOkAt: this.lastOkAt,
      consecutiveFailures: this.consecutiveFailures,
      lastError: this.lastError,
      lastLatencyMs: this.lastLatencyMs,
    };
  }

  /** Called after every beat (ok or failed). Returns an unsubscribe function. */
  onBeat(listener: (r: BeatResult) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private readonly fire = (): void => {
    this.timer = undefined;
    if (!this.running) return;
    if (this.current) this.skippedTicks++;
    else this.launch();

    // Next due tick strictly after this one and after now: never a burst to
    // catch up after a stall, never the same tick twice if a timer fires early.
    const now = performance.now();
    const next = Math.max(this.tick + 1, Math.floor((now - this.epoch) / this.intervalMs) + 1);
    this.skippedTicks += next - this.tick - 1;
    this.tick = next;
    this.timer = setTimeout(this.fire, Math.max(0, this.epoch + next * this.intervalMs - now));
    this.timer.unref();
  };

  private launch(): void {
    const controller = new AbortController();
    this.abort = controller;
    const p: Promise<void> = this.beat(controller.signal).then((result) => {
      if (this.current === p) {
        this.current = undefined;
        this.abort = undefined;
      }
      if (result) this.notify(result);
    });
    this.current = p;
  }

  /** One beat; undefined when it was aborted by stop(). Never rejects. */
  private async beat(signal: AbortSignal): Promise<BeatResult | undefined> {
    const seq = ++this.seq;
    const at = this.now();
    const started = performance.now();
    this.lastAttemptAt = at;
    try {
      const req = this.request.render({ route: this.currentRoute(), seq, box: this.box, at: new Date(at).toISOString() });
      const res = await sendOnce(req, { what: 'upstream heartbeat', signal });
      assertExpectedStatus(res, req, { what: 'upstream heartbeat', expected: this.request.expectedStatuses });
      const latencyMs = performance.now() - started;
      this.okCount++;
      this.consecutiveFailures = 0;
      this.lastOkAt = this.now();
      this.lastError = null;
      this.lastLatencyMs = latencyMs;
      return { seq, ok: true, at, latencyMs, httpStatus: res.status };
    } catch (err) {
      const latencyMs = performance.now() - started;
      if (signal.aborted && !this.running) {
        // Stopped on purpose: not the upstream's fault, not a failure.
        return undefined;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.failCount++;
      this.consecutiveFailures++;
      this.lastError = message;
      this.lastLatencyMs = latencyMs;
      return {
        seq,
        ok: false,
        at,
        latencyMs,
        error: message,
        ...(err instanceof UpstreamHttpError && err.status !== undefined ? { httpStatus: err.status } : {}),
      };
    }
  }

  private notify(result: BeatResult): void {
    for (const l of this.listeners) {
      try {
        l(result);
      } catch {
        // A broken listener must not stop the heartbeat.
      }
    }
  }

  private currentRoute(): RouteTarget | 'unknown' {
    try {
      return this.route();
    } catch {
      return 'unknown';
    }
  }
}
