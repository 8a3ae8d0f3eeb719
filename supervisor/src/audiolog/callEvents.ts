/**
 * Kamailio's word on which calls it connected and when they ended, as UDP
 * datagrams from the rendered cfg (`send_data`, see "Recording" in
 * reconcilers/kamailio/render.ts). The audit matches them against recordings
 * by Call-ID: the only way to see a call that rtpengine never recorded.
 *
 *   VPCALL2 <events key> connected <epoch s.µs> x<Call-ID> x<caller> x<called> x<route> x<centre> <recorded 0|1> <probe 0|1> x<From-tag> x<To-tag>
 *   VPCALL2 <events key> ended <epoch s.µs> x<Call-ID>
 *
 * Text fields are hex behind an "x" (an empty field keeps its place).
 *
 * The port is on loopback, where every local user can send to it: an event
 * counts only if it carries the events key derived from the box's control
 * secret (reconcilers/kamailio/controlSecret.ts). Anything else is dropped and
 * reported through `onRejected`, so a forged "connected, not recorded" (a false
 * alarm) or "ended" (a call's audit cut short) never reaches the audit.
 */
import { timingSafeEqual } from 'node:crypto';
import dgram from 'node:dgram';
import { CALL_EVENT_PREFIX } from '../reconcilers/kamailio/render.js';

export type CallEvent =
  | {
      type: 'connected';
      at: number;
      callId: string;
      caller: string | null;
      called: string | null;
      route: string | null;
      centre: string | null;
      /** rtpengine took the offer and answer: the call is being recorded (as far as Kamailio knows). */
      recorded: boolean;
      probe: boolean;
      /** Dialog tags (caller's From-tag, call-taker's To-tag): rtpengine's handles for each side. */
      fromTag: string | null;
      toTag: string | null;
    }
  | { type: 'ended'; at: number; callId: string };

/** Why a datagram on the events port was not taken. */
export type CallEventRejection =
  /** Not from 127.0.0.1 (the socket is bound there; kept as a second lock). */
  | 'not-loopback'
  /** Missing or wrong control secret (a forgery, or a Kamailio cfg rendered with another secret). */
  | 'no-secret'
  /** Right secret, but not a call event this version understands (cfg and supervisor out of step). */
  | 'malformed';

export type CallEventReading = { ok: true; event: CallEvent } | { ok: false; why: CallEventRejection };

function hexField(s: string | undefined): string | null {
  if (s === undefined || !s.startsWith('x')) return null;
  const hex = s.slice(1);
  if (hex === '' || !/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return null;
  return Buffer.from(hex, 'hex').toString('utf8');
}

function sameSecret(given: string | undefined, secret: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given, 'latin1');
  const b = Buffer.from(secret, 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Check the events key, then parse. */
export function readCallEvent(text: string, secret: string): CallEventReading {
  const f = text.trim().split(/\s+/);
  if (f[0] !== CALL_EVENT_PREFIX || !sameSecret(f[1], secret)) return { ok: false, why: 'no-secret' };
  const event = parseFields(f.slice(2));
  return event ? { ok: true, event } : { ok: false, why: 'malformed' };
}

/** The event in a datagram with the right secret, else null. */
export function parseCallEvent(text: string, secret: string): CallEvent | null {
  const r = readCallEvent(text, secret);
  return r.ok ? r.event : null;
}

/** `<type> <epoch> x<Call-ID> …` (everything after prefix and secret). */
function parseFields(f: string[]): CallEvent | null {
  const at = Math.round(Number(f[1]) * 1000);
  const callId = hexField(f[2]);
  if (!Number.isFinite(at) || !callId) return null;
  if (f[0] === 'ended') return { type: 'ended', at, callId };
  if (f[0] === 'connected' && f.length >= 8) {
    return {
      type: 'connected',
      at,
      callId,
      caller: hexField(f[3]),
      called: hexField(f[4]),
      route: hexField(f[5]),
      centre: hexField(f[6]),
      recorded: f[7] === '1',
      probe: f[8] === '1',
      fromTag: hexField(f[9]),
      toTag: hexField(f[10]),
    };
  }
  return null;
}

export interface CallEventListenerOptions {
  port: number;
  /** The events key (controlKeys(secret).events); events without it are dropped. */
  secret: string;
  onEvent: (e: CallEvent) => void;
  /** A datagram was dropped; `from` is `address:port`, `total` counts every drop since start. */
  onRejected?: (r: { why: CallEventRejection; from: string; total: number }) => void;
}

export class CallEventListener {
  private sock: dgram.Socket | null = null;
  /** Datagrams dropped (no secret, not loopback, malformed) since start. */
  rejected = 0;

  constructor(private readonly o: CallEventListenerOptions) {}

  async start(): Promise<void> {
    const s = dgram.createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      const r: CallEventReading = rinfo.address === '127.0.0.1' ? readCallEvent(msg.toString('latin1'), this.o.secret) : { ok: false, why: 'not-loopback' };
      if (r.ok) {
        this.o.onEvent(r.event);
        return;
      }
      this.rejected++;
      this.o.onRejected?.({ why: r.why, from: `${rinfo.address}:${rinfo.port}`, total: this.rejected });
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', (err) =>
        reject(
          new Error(
            `cannot listen for Kamailio's call events on 127.0.0.1:${this.o.port} (${err.message}) — is another supervisor running? (calls.recording.eventsPort)`,
          ),
        ),
      );
      s.bind(this.o.port, '127.0.0.1', () => resolve());
    });
    this.sock = s;
  }

  async stop(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
