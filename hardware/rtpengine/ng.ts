/**
 * Client for rtpengine's "ng" control protocol: `<cookie> <bencoded dict>` in
 * one UDP datagram each way. The cookie matches answers to requests; a lost
 * datagram is retried with the SAME cookie (rtpengine caches answers by cookie,
 * so a retried offer is not executed twice).
 *
 * Used by the supervisor (ping, query, list: is the recorder alive, which calls
 * does it hold) and by tests (offer/answer/delete without a SIP stack).
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { type BencodeValue, decodeBencode, encodeBencode } from './bencode.js';

export interface NgOptions {
  host?: string;
  port: number;
  /** Per-attempt deadline (ms). */
  timeoutMs?: number;
  /** Attempts in total (≥ 1). */
  attempts?: number;
}

export type NgDict = { [key: string]: BencodeValue };

/** rtpengine answered `result: error` (the reason is its own words). */
export class NgCommandError extends Error {
  constructor(
    readonly command: string,
    readonly reason: string,
  ) {
    super(`rtpengine refused "${command}": ${reason}`);
  }
}

/** No answer at all: rtpengine is down, or listening elsewhere. */
export class NgUnreachableError extends Error {}

function asDict(v: BencodeValue): NgDict {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Buffer.isBuffer(v)) throw new Error('rtpengine answered something that is not a dictionary');
  return v;
}

export class RtpengineNg {
  private readonly host: string;
  private readonly timeoutMs: number;
  private readonly attempts: number;

  constructor(private readonly o: NgOptions) {
    this.host = o.host ?? '127.0.0.1';
    this.timeoutMs = o.timeoutMs ?? 500;
    this.attempts = Math.max(1, o.attempts ?? 2);
  }

  get address(): string {
    return `${this.host}:${this.o.port}`;
  }

  /** Send one command and return rtpengine's answer dictionary (result ok/pong). */
  async command(dict: NgDict): Promise<NgDict> {
    const name = String(dict.command ?? '?');
    const cookie = randomBytes(8).toString('hex');
    const packet = Buffer.concat([Buffer.from(`${cookie} `), encodeBencode(dict)]);
    const sock = dgram.createSocket(this.host.includes(':') ? 'udp6' : 'udp4');
    try {
      const answer = await new Promise<NgDict>((resolve, reject) => {
        let attempt = 0;
        let timer: NodeJS.Timeout | null = null;
        const send = () => {
          attempt++;
          sock.send(packet, this.o.port, this.host, (err) => {
            if (err) reject(new NgUnreachableError(`cannot send to rtpengine at ${this.address}: ${err.message}`));
          });
          timer = setTimeout(() => {
            if (attempt < this.attempts) send();
            else
              reject(
                new NgUnreachableError(
                  `rtpengine at ${this.address} did not answer "${name}" within ${this.attempts} × ${this.timeoutMs} ms — is rtpengine running (systemctl status vaktpost-rtpengine) and listening-ng on that port?`,
                ),
              );
          }, this.timeoutMs);
        };
        sock.on('error', (err) => {
          if (timer) clearTimeout(timer);
          // ICMP port unreachable surfaces as ECONNREFUSED on a connected socket only; keep generic.
          reject(new NgUnreachableError(`rtpengine at ${this.address}: ${err.message}`));
        });
        sock.on('message', (msg) => {
          const sp = msg.indexOf(0x20);
          if (sp < 0 || msg.toString('latin1', 0, sp) !== cookie) return; // stale answer to someone else
          if (timer) clearTimeout(timer);
          try {
            resolve(asDict(decodeBencode(msg.subarray(sp + 1))));
          } catch (err) {
            reject(new Error(`rtpengine at ${this.address} sent a malformed answer to "${name}": ${(err as Error).message}`));
          }
        });
        send();
      });
      const result = String(answer.result ?? '');
      if (result === 'error') throw new NgCommandError(name, String(answer['error-reason'] ?? 'no reason given'));
      return answer;
    } finally {
      sock.close();
    }
  }

  /** Resolves with the round-trip time (ms) when rtpengine answers `pong`. */
  async ping(): Promise<number> {
    const t0 = performance.now();
    const a = await this.command({ command: 'ping' });
    if (a.result !== 'pong') throw new Error(`rtpengine at ${this.address} answered ping with "${String(a.result)}"`);
    return performance.now() - t0;
  }

  /** Call-IDs rtpengine currently holds (`list`). */
  async list(limit = 10_000): Promise<string[]> {
    const a = await this.command({ command: 'list', limit });
    const calls = a.calls;
    return Array.isArray(calls) ? calls.map((c) => String(c)) : [];
  }

  /** The call's state, or null when rtpengine does not know it (ended, or never offered). */
  async query(callId: string): Promise<NgDict | null> {
    try {
      return await this.command({ command: 'query', 'call-id': callId });
    } catch (err) {
      if (err instanceof NgCommandError && /unknown call/i.test(err.reason)) return null;
      throw err;
    }
  }

  /** rtpengine's global counters (`statistics`). */
  async statistics(): Promise<NgDict> {
    return this.command({ command: 'statistics' });
  }
}
