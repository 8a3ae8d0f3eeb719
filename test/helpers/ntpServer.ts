/**
 * A test NTP server (RFC 5905 server mode 4) whose clock can be shifted at run
 * time. A real chronyd or our SNTP client queries it on 127.0.0.1; the shift
 * shows up as their measured offset (Linux time namespaces cannot shift the
 * wall clock, so this is how offsets are tested).
 */
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import { type LeapIndicator, NTP_MODE, decodePacket, emptyPacket, encodePacket, preciseWallNow, unixMsToNtp } from '../../hardware/ntp/index.js';

/**
 * SNTP's own error bound: a measured offset is off by at most half the round
 * trip. On a busy box that is event-loop delay (a test server and client in one
 * process share it: 6 ms was seen once in CI), so tests assert this bound, not a
 * fixed tolerance. The server stamps with the client's own clock
 * (`preciseWallNow`), so the formula's own bound holds; `slackS` covers the
 * rare re-anchoring of that clock mid-query (it follows the kernel clock when
 * chronyd slews it). chronyd reads the kernel clock and needs more (opsChrony).
 */
export function withinNtpBound(measuredS: number, trueS: number, delayS: number, slackS = 0.0005): boolean {
  return Math.abs(measuredS - trueS) <= delayS / 2 + slackS;
}

export interface NtpServerOptions {
  host?: string;
  /** Seconds added to the box's clock in every reply (+ = server ahead). */
  offsetS?: number;
  leap?: LeapIndicator;
  stratum?: number;
}

export interface TestNtpServer {
  readonly host: string;
  readonly port: number;
  /** Requests received (also counted while silent). */
  readonly requests: number;
  readonly offsetS: number;
  /** Shift the served clock; returns performance.now() at the moment of the change. */
  setOffset(offsetS: number): number;
  /** A silent server receives but never answers (a dead upstream / blocked UDP). */
  setSilent(silent: boolean): void;
  /** 3 = "clock not synchronised" alarm. */
  setLeap(leap: LeapIndicator): void;
  setStratum(stratum: number): void;
  /**
   * Answer as an NTP server that has lost its own time (ntpd/chronyd before
   * their first sync): leap 3, stratum 16, reference ID "INIT" — or back to
   * the leap, stratum and reference ID it had before. Returns performance.now().
   */
  setUnsynchronised(on: boolean): number;
  /** Emits 'request' (after each received query) and 'reply'. */
  readonly events: EventEmitter;
  close(): Promise<void>;
}

export async function startNtpServer(opts: NtpServerOptions = {}): Promise<TestNtpServer> {
  const host = opts.host ?? '127.0.0.1';
  let offsetMs = (opts.offsetS ?? 0) * 1000;
  let silent = false;
  let leap: LeapIndicator = opts.leap ?? 0;
  let stratum = opts.stratum ?? 1;
  let requests = 0;
  const events = new EventEmitter();
  // The SNTP client's own clock: a second, separately anchored clock would add up to ±1.5 ms of false offset.
  const now = preciseWallNow;
  let refId: Buffer = Buffer.from('TEST', 'ascii');
  let beforeUnsync: { leap: LeapIndicator; stratum: number; refId: Buffer } | null = null;

  const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  socket.on('message', (msg, rinfo) => {
    const received = now() + offsetMs;
    const req = decodePacket(msg);
    if (!req || req.mode !== NTP_MODE.client) return;
    requests += 1;
    events.emit('request', rinfo);
    if (silent) return;
    const reply = emptyPacket({
      leap,
      version: req.version,
      mode: NTP_MODE.server,
      stratum,
      poll: req.poll,
      precision: -20,
      rootDelayS: 0,
      rootDispersionS: 0.0001,
      refId,
      // "Last set" a second ago: chronyd rejects a reference time in the future.
      reference: unixMsToNtp(received - 1000),
      origin: req.transmit,
      receive: unixMsToNtp(received),
      transmit: unixMsToNtp(now() + offsetMs),
    });
    socket.send(encodePacket(reply), rinfo.port, rinfo.address, () => events.emit('reply', rinfo));
  });

  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address: host, port: 0 }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  const port = socket.address().port;

  let closed = false;
  return {
    host,
    port,
    get requests() {
      return requests;
    },
    get offsetS() {
      return offsetMs / 1000;
    },
    setOffset(s: number) {
      offsetMs = s * 1000;
      return performance.now();
    },
    setSilent(s: boolean) {
      silent = s;
    },
    setLeap(l: LeapIndicator) {
      leap = l;
    },
    setStratum(s: number) {
      stratum = s;
    },
    setUnsynchronised(on: boolean) {
      if (on && !beforeUnsync) {
        beforeUnsync = { leap, stratum, refId };
        leap = 3;
        stratum = 16;
        refId = Buffer.from('INIT', 'ascii');
      } else if (!on && beforeUnsync) {
        ({ leap, stratum, refId } = beforeUnsync);
        beforeUnsync = null;
      }
      return performance.now();
    },
    events,
    close: () =>
      new Promise<void>((resolve) => {
        if (closed) return resolve();
        closed = true;
        socket.close(() => resolve());
      }),
  };
}
