/**
 * One network probe attempt, shared by every probe kind (UDP echo, TCP connect,
 * HTTP, SIP OPTIONS).
 *
 * An attempt runs until it gets an answer, fails, or reaches `capMs`. The
 * *timeout* that decides "lost" is applied one level up (prober.ts) and is usually
 * much shorter than the cap: an answer that arrives after the timeout still ends
 * the attempt and still yields an RTT sample, so a link whose delay suddenly grows
 * teaches the RTT estimator instead of just looking dead.
 */

export type AttemptOutcome =
  /** The far end answered (echo, SYN-ACK, HTTP response, SIP response). */
  | { kind: 'reply'; rttMs: number; status?: number; detail: string }
  /**
   * The far host itself refused (TCP RST or ICMP port unreachable): the path to it
   * works both ways, the service does not.
   */
  | { kind: 'refused'; rttMs: number; detail: string }
  /** Local or path error (no route, unreachable default, address gone, …). */
  | { kind: 'error'; code: string; detail: string }
  /** Nothing came back before the cap. */
  | { kind: 'silent'; detail: string };

export interface Attempt {
  readonly outcome: Promise<AttemptOutcome>;
  /** Stop waiting and release the socket; resolves `outcome` as silent if still open. */
  cancel(): void;
}

/** Network errors we know how to explain; everything else is passed through by code. */
export function explainNetError(code: string, where: string): string {
  switch (code) {
    case 'EHOSTUNREACH':
      return `no route to ${where} (EHOSTUNREACH: link down or its routing table fell back to unreachable)`;
    case 'ENETUNREACH':
      return `network unreachable for ${where} (ENETUNREACH: no route in this uplink's table)`;
    case 'EADDRNOTAVAIL':
      return `source address is not on this box (EADDRNOTAVAIL): link lost its address, or check \`sourceAddress\` in the WAN config`;
    case 'ECONNREFUSED':
      return `${where} refused (nothing listening there, but the host answered)`;
    case 'ETIMEDOUT':
      return `${where} timed out`;
    case 'ENETDOWN':
      return `network down for ${where} (ENETDOWN)`;
    default:
      return `${code} talking to ${where}`;
  }
}

export function errorCode(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return (err as { code: string }).code;
  }
  return err instanceof Error ? err.message : String(err);
}

/** `host:port`, with brackets for IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Small helper: a promise whose resolver can be called once from any callback. */
export function settleOnce<T>(): { promise: Promise<T>; settle: (v: T) => boolean; settled: () => boolean } {
  let resolve!: (v: T) => void;
  let done = false;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return {
    promise,
    settle: (v: T) => {
      if (done) return false;
      done = true;
      resolve(v);
      return true;
    },
    settled: () => done,
  };
}

/**
 * A deadline timer that fires only after the current loop turn's I/O poll: when the
 * event loop was stalled past the deadline, an answer already waiting in the socket
 * buffer is read first (the timers phase runs before the poll phase).
 */
export function deadline(fn: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(() => setImmediate(fn), ms);
}
