/**
 * A small SNTP client (RFC 4330 / RFC 5905 client mode 3) used to audit the
 * clocks of the centre's other systems — operator PCs, phone system, recorder,
 * radio terminal — against the box. One request, one reply; no clock is set.
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { SntpError } from './errors.js';
import { NTP_MODE, type LeapIndicator, decodePacket, emptyPacket, encodePacket, refIdText, sameTimestamp } from './packet.js';
import { type NtpTimestamp, createPreciseWallClock, isZeroTimestamp, ntpToUnixMs } from './timestamp.js';

export interface SntpQueryOptions {
  /** UDP port (default 123). */
  port?: number;
  /** Give up after this long (default 1000 ms). */
  timeoutMs?: number;
  /** Send from this local address (to pick the interface/VLAN facing the host). */
  localAddress?: string;
  /** Wall clock in epoch ms with sub-ms resolution; injected by tests. */
  now?: () => number;
}

export interface SntpResult {
  host: string;
  address: string;
  port: number;
  /**
   * RFC 5905 θ = ((t2 − t1) + (t3 − t4)) / 2, seconds: the host's clock minus
   * ours. Positive = the host is ahead of the box.
   */
  offsetS: number;
  /** RFC 5905 δ = (t4 − t1) − (t3 − t2), seconds: round trip minus the host's processing time. */
  delayS: number;
  leap: LeapIndicator;
  /** False when the host itself says its clock is not synchronised (LI = 3 or stratum 16). */
  hostSynchronised: boolean;
  stratum: number;
  version: number;
  refId: string;
  rootDelayS: number;
  rootDispersionS: number;
  /** Our transmit time t1 (epoch ms). */
  sentAtMs: number;
}

let sharedClock: (() => number) | undefined;
/**
 * The process's one precise wall clock, the default for `sntpQuery`. Anything
 * else in the process that stamps NTP times against it (the test NTP server)
 * uses this same clock: two independently anchored clocks can disagree by up
 * to ±1.5 ms, which would show up as a false offset.
 */
export function preciseWallNow(): number {
  sharedClock ??= createPreciseWallClock();
  return sharedClock();
}

async function resolve(host: string): Promise<{ address: string; family: 4 | 6 }> {
  const family = net.isIP(host);
  if (family === 4 || family === 6) return { address: host, family };
  try {
    const r = await lookup(host);
    return { address: r.address, family: r.family === 6 ? 6 : 4 };
  } catch (err) {
    throw new SntpError('resolve', `cannot resolve NTP host "${host}" — check the name and the box's DNS settings`, {
      cause: err,
    });
  }
}

export async function sntpQuery(host: string, opts: SntpQueryOptions = {}): Promise<SntpResult> {
  const port = opts.port ?? 123;
  const timeoutMs = opts.timeoutMs ?? 1000;
  const now = opts.now ?? preciseWallNow;
  const { address, family } = await resolve(host);
  const where = `${host}:${port}`;

  const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
  return new Promise<SntpResult>((resolvePromise, reject) => {
    let done = false;
    // The transmit field carries a random nonce instead of our clock reading
    // (as chrony does): the reply must echo it as origin, which both matches
    // reply to request and rejects blind spoofing; t1 stays private.
    const nonce: NtpTimestamp = { seconds: randomBytes(4).readUInt32BE(0), fraction: randomBytes(4).readUInt32BE(0) };
    let t1 = 0;

    const finish = (err: SntpError | null, result?: SntpResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolvePromise(result as SntpResult);
    };

    const timer = setTimeout(() => {
      finish(
        new SntpError(
          'timeout',
          `no NTP reply from ${where} within ${timeoutMs} ms — is an NTP service running there and is UDP ${port} open between the box and the host?`,
        ),
      );
    }, timeoutMs);

    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') {
        finish(
          new SntpError('refused', `${where} refused NTP (ICMP port unreachable) — no NTP service listens on UDP ${port} there; enable the host's NTP server`, {
            cause: err,
          }),
        );
      } else if (err.code === 'EADDRNOTAVAIL' && opts.localAddress) {
        finish(
          new SntpError('socket', `cannot send NTP from ${opts.localAddress}: that address is not on this box — fix the audit's source address`, {
            cause: err,
          }),
        );
      } else {
        finish(new SntpError('socket', `NTP query to ${where} failed: ${err.message}`, { cause: err }));
      }
    });

    socket.on('message', (msg) => {
      const t4 = now();
      const p = decodePacket(msg);
      // Anything that is not the answer to *this* request is ignored, not fatal:
      // a late reply to an earlier query or a stray datagram must not fail the audit.
      if (!p || p.mode !== NTP_MODE.server || !sameTimestamp(p.origin, nonce)) return;
      if (p.stratum === 0) {
        const code = refIdText(0, p.refId) || '?';
        finish(
          new SntpError(
            'kiss-of-death',
            `${where} sent a kiss-o'-death (${code}) — the host refuses or rate-limits our queries; allow the box in its NTP access rules`,
          ),
        );
        return;
      }
      if (isZeroTimestamp(p.transmit) || isZeroTimestamp(p.receive)) {
        finish(new SntpError('bad-reply', `${where} sent an NTP reply without receive/transmit timestamps — the host's NTP service is misbehaving`));
        return;
      }
      const t2 = ntpToUnixMs(p.receive, t1);
      const t3 = ntpToUnixMs(p.transmit, t1);
      const offsetS = (t2 - t1 + (t3 - t4)) / 2 / 1000;
      const delayS = (t4 - t1 - (t3 - t2)) / 1000;
      finish(null, {
        host,
        address,
        port,
        offsetS,
        delayS,
        leap: p.leap,
        hostSynchronised: p.leap !== 3 && p.stratum < 16,
        stratum: p.stratum,
        version: p.version,
        refId: refIdText(p.stratum, p.refId),
        rootDelayS: p.rootDelayS,
        rootDispersionS: p.rootDispersionS,
        sentAtMs: t1,
      });
    });

    const send = (): void => {
      // connect() makes the kernel drop datagrams from anyone but the host and
      // turns an ICMP port-unreachable into a prompt ECONNREFUSED.
      socket.connect(port, address, () => {
        const req = encodePacket(emptyPacket({ version: 4, mode: NTP_MODE.client, transmit: nonce }));
        t1 = now();
        socket.send(req, (err) => {
          if (err) finish(new SntpError('socket', `cannot send NTP request to ${where}: ${err.message}`, { cause: err }));
        });
      });
    };

    if (opts.localAddress) {
      socket.bind({ address: opts.localAddress, port: 0 }, send);
    } else {
      send();
    }
  });
}
