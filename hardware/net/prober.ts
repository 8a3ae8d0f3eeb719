/**
 * A prober for one target over one uplink: starts an attempt of the target's kind,
 * calls it lost after an RTT-derived timeout, and keeps listening for a late answer
 * until the cap so the estimator still learns the real RTT.
 */
import { type Attempt, type AttemptOutcome, deadline, hostPort } from './attempt.js';
import { httpAttempt } from './httpProbe.js';
import { RttEstimator, type RttParams } from './rtt.js';
import { sipOptionsAttempt } from './sipOptions.js';
import { tcpConnectAttempt } from './tcpConnect.js';
import { udpEchoAttempt } from './udpEcho.js';

export const PROBE_KINDS = ['udp', 'tcp', 'http', 'sip'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

export interface ProbeTarget {
  kind: ProbeKind;
  host: string;
  port: number;
  /** HTTP path (kind http). */
  path?: string;
  /** Request-URI (kind sip). */
  uri?: string;
}

export interface ProbeResult {
  /**
   * The path to the target works: it answered within the timeout, or its host
   * refused (RST / ICMP port unreachable) — which still proves the path.
   */
  answered: boolean;
  /** The service itself answered (not just the host refusing). */
  serviceAnswered: boolean;
  rttMs?: number;
  /** Protocol status (HTTP or SIP code) when there was one. */
  status?: number;
  /** The timeout this probe was judged by. */
  timeoutMs: number;
  detail: string;
  /** Local error code when the probe could not even leave (EHOSTUNREACH, EADDRNOTAVAIL, …). */
  errorCode?: string;
  /**
   * Not sent: the target's name has no address yet (never resolved). Says nothing
   * about the path, so callers leave it out of their verdicts.
   */
  unresolved?: boolean;
}

/** Where probes get a target name's address from (hardware/net/dnsCache.ts). */
export interface AddressSource {
  /** The address to probe for `host` (the literal itself for an IP); undefined when none is known. */
  addressOf(host: string): string | undefined;
  /** Why there is no address (for the probe's detail). */
  whyNoAddress?(host: string): string;
}

export function describeTarget(t: ProbeTarget): string {
  return `${t.kind}://${hostPort(t.host, t.port)}${t.kind === 'http' ? (t.path ?? '/') : ''}`;
}

/**
 * Start one attempt. `address` is what to connect to (an address resolved from
 * `t.host` ahead of time); the name itself still goes where the protocol wants it
 * (HTTP Host header, SIP Request-URI).
 */
export function startAttempt(t: ProbeTarget, localAddress: string | undefined, capMs: number, address = t.host): Attempt {
  const base = { host: address, port: t.port, capMs, ...(localAddress !== undefined ? { localAddress } : {}) };
  const named = address !== t.host;
  switch (t.kind) {
    case 'udp':
      return udpEchoAttempt(base);
    case 'tcp':
      return tcpConnectAttempt(base);
    case 'http':
      return httpAttempt({ ...base, ...(t.path !== undefined ? { path: t.path } : {}), ...(named ? { hostHeader: hostPort(t.host, t.port) } : {}) });
    case 'sip': {
      // No retransmission: each probe is judged on its own; the stream of probes is the retry.
      const uri = t.uri ?? (named ? `sip:${hostPort(t.host, t.port)}` : undefined);
      return sipOptionsAttempt({ ...base, retransmitMs: 0, ...(uri !== undefined ? { uri } : {}) });
    }
  }
}

export class TargetProber {
  readonly rtt: RttEstimator;
  private readonly inFlight = new Set<Attempt>();

  /**
   * @param addresses where a target *name* gets its address. Without it a name is
   *   handed to the socket and resolved on every probe — only for tests and tools:
   *   a silent DNS server then looks like a dead target.
   */
  constructor(
    readonly target: ProbeTarget,
    readonly localAddress: string | undefined,
    rtt: RttParams,
    private readonly addresses?: AddressSource,
  ) {
    this.rtt = new RttEstimator(rtt);
  }

  probe(): Promise<ProbeResult> {
    const timeoutMs = this.rtt.timeoutMs();
    const address = this.addresses ? this.addresses.addressOf(this.target.host) : this.target.host;
    if (address === undefined) {
      const why = this.addresses?.whyNoAddress?.(this.target.host) ?? 'not resolved yet';
      return Promise.resolve({
        answered: false,
        serviceAnswered: false,
        unresolved: true,
        timeoutMs,
        detail: `${describeTarget(this.target)} not probed: no address for ${this.target.host} (${why})`,
      });
    }
    const attempt = startAttempt(this.target, this.localAddress, this.rtt.params.capMs, address);
    const via = address !== this.target.host ? ` [${this.target.host} = ${address}]` : '';
    this.inFlight.add(attempt);
    let timedOut = false;
    return new Promise<ProbeResult>((resolve) => {
      let decided = false;
      // deadline(): a supervisor stall is not a loss on the link — an answer already in
      // the socket buffer is read before the timeout is judged.
      const timer = deadline(() => {
        if (decided) return;
        decided = true;
        timedOut = true;
        resolve({
          answered: false,
          serviceAnswered: false,
          timeoutMs,
          detail: `no answer from ${describeTarget(this.target)}${via} within ${Math.round(timeoutMs)} ms`,
        });
      }, timeoutMs);
      void attempt.outcome.then((o: AttemptOutcome) => {
        this.inFlight.delete(attempt);
        if (o.kind === 'reply' || o.kind === 'refused') this.rtt.sample(o.rttMs); // late answers count too
        if (timedOut || decided) return;
        decided = true;
        clearTimeout(timer);
        const r = toResult(o, timeoutMs);
        resolve(via ? { ...r, detail: `${r.detail}${via}` } : r);
      });
    });
  }

  /** Abandon every attempt still waiting (late-answer listeners included). */
  close(): void {
    for (const a of this.inFlight) a.cancel();
    this.inFlight.clear();
  }
}

function toResult(o: AttemptOutcome, timeoutMs: number): ProbeResult {
  switch (o.kind) {
    case 'reply':
      return {
        answered: true,
        serviceAnswered: true,
        rttMs: o.rttMs,
        timeoutMs,
        detail: o.detail,
        ...(o.status !== undefined ? { status: o.status } : {}),
      };
    case 'refused':
      return { answered: true, serviceAnswered: false, rttMs: o.rttMs, timeoutMs, detail: o.detail };
    case 'error':
      return { answered: false, serviceAnswered: false, timeoutMs, detail: o.detail, errorCode: o.code };
    case 'silent':
      return { answered: false, serviceAnswered: false, timeoutMs, detail: o.detail };
  }
}
