/**
 * Kamailio's word on which calls it connected and when they ended, as UDP
 * datagrams from the rendered cfg (`send_data`, see "Recording" in
 * reconcilers/kamailio/render.ts). The audit matches them against recordings
 * by Call-ID: the only way to see a call that rtpengine never recorded.
 *
 *   VPCALL1 connected <epoch s.µs> x<Call-ID> x<caller> x<called> x<route> x<centre> <recorded 0|1> <probe 0|1> x<From-tag> x<To-tag>
 *   VPCALL1 ended <epoch s.µs> x<Call-ID>
 *
 * Text fields are hex behind an "x" (an empty field keeps its place).
 */
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

function hexField(s: string | undefined): string | null {
  if (s === undefined || !s.startsWith('x')) return null;
  const hex = s.slice(1);
  if (hex === '' || !/^(?:[0-9a-fA-F]{2})+$/.test(hex)) return null;
  return Buffer.from(hex, 'hex').toString('utf8');
}

export function parseCallEvent(text: string): CallEvent | null {
  const f = text.trim().split(/\s+/);
  if (f[0] !== CALL_EVENT_PREFIX) return null;
  const at = Math.round(Number(f[2]) * 1000);
  const callId = hexField(f[3]);
  if (!Number.isFinite(at) || !callId) return null;
  if (f[1] === 'ended') return { type: 'ended', at, callId };
  if (f[1] === 'connected' && f.length >= 10) {
    return {
      type: 'connected',
      at,
      callId,
      caller: hexField(f[4]),
      called: hexField(f[5]),
      route: hexField(f[6]),
      centre: hexField(f[7]),
      recorded: f[8] === '1',
      probe: f[9] === '1',
      fromTag: hexField(f[10]),
      toTag: hexField(f[11]),
    };
  }
  return null;
}

export class CallEventListener {
  private sock: dgram.Socket | null = null;
  /** Datagrams that were not call events (a misconfigured sender, a scan). */
  rejected = 0;

  constructor(
    private readonly port: number,
    private readonly onEvent: (e: CallEvent) => void,
  ) {}

  async start(): Promise<void> {
    const s = dgram.createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      // Only Kamailio on this box; anything else is dropped.
      const e = rinfo.address === '127.0.0.1' ? parseCallEvent(msg.toString('latin1')) : null;
      if (e) this.onEvent(e);
      else this.rejected++;
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', (err) =>
        reject(
          new Error(
            `cannot listen for Kamailio's call events on 127.0.0.1:${this.port} (${err.message}) — is another supervisor running? (calls.recording.eventsPort)`,
          ),
        ),
      );
      s.bind(this.port, '127.0.0.1', () => resolve());
    });
    this.sock = s;
  }

  async stop(): Promise<void> {
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}
