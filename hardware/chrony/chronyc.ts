/**
 * The "chrony-wrapper": asks a running chronyd through `chronyc -c` (CSV,
 * machine-readable) and returns typed values. It never changes chronyd's state.
 */
import { execFile } from 'node:child_process';
import { type ChronyError, ChronycFailedError, ChronydNotRunningError, ChronyNotAuthorisedError, ChronyNotSynchronisedError } from './errors.js';
import { parseNtpData, parseServerStats, parseSourceStats, parseSources, parseTracking } from './parse.js';
import type { NtpSourceData, NtpSourceInfo, NtpSourceStats, ServerStats, TimeSource, Tracking } from './types.js';

export interface ChronycOptions {
  /** Path of the chronyc binary (default /usr/bin/chronyc). */
  chronycPath?: string;
  /**
   * chronyc `-h`: chronyd's command socket path (e.g. /run/chrony/chronyd.sock)
   * or a host name/address for the UDP command port. Default: chronyc's own
   * default (the Unix socket, then 127.0.0.1).
   */
  host?: string;
  /** chronyc `-p`: UDP command port, only with a network host (default 323). */
  port?: number;
  /** Kill chronyc after this long (default 2000 ms). */
  timeoutMs?: number;
}

type ChronycCommand = 'tracking' | 'sources' | 'sourcestats' | 'serverstats' | 'ntpdata';

export class ChronycClient implements TimeSource {
  readonly chronycPath: string;
  readonly timeoutMs: number;
  private readonly target: string;
  private readonly baseArgs: string[];

  constructor(opts: ChronycOptions = {}) {
    this.chronycPath = opts.chronycPath ?? '/usr/bin/chronyc';
    this.timeoutMs = opts.timeoutMs ?? 2000;
    // -c: CSV; -n: no reverse DNS (a slow resolver must not stall the poll).
    this.baseArgs = ['-c', '-n'];
    if (opts.host) this.baseArgs.push('-h', opts.host);
    if (opts.port !== undefined) this.baseArgs.push('-p', String(opts.port));
    this.target = opts.host ? `${opts.host}${opts.port !== undefined ? `:${opts.port}` : ''}` : "chronyc's default socket";
  }

  async tracking(): Promise<Tracking> {
    return parseTracking(await this.run('tracking'));
  }

  async sources(): Promise<NtpSourceInfo[]> {
    return parseSources(await this.run('sources'));
  }

  /** The last packet of every NTP source: tells an upstream that answers "unsynchronised" (leap 3 / stratum 16). */
  async ntpData(): Promise<NtpSourceData[]> {
    return parseNtpData(await this.run('ntpdata'));
  }

  async sourceStats(): Promise<NtpSourceStats[]> {
    return parseSourceStats(await this.run('sourcestats'));
  }

  /** What chronyd has served to NTP clients. Privileged: works over the Unix socket, not over UDP (501). */
  async serverStats(): Promise<ServerStats> {
    return parseServerStats(await this.run('serverstats'));
  }

  private run(cmd: ChronycCommand): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.chronycPath,
        [...this.baseArgs, cmd],
        { timeout: this.timeoutMs, killSignal: 'SIGKILL', env: { ...process.env, LC_ALL: 'C' } },
        (err, stdout, stderr) => {
          const problem = this.classify(cmd, err, String(stdout), String(stderr));
          if (problem) reject(problem);
          else resolve(String(stdout));
        },
      );
    });
  }

  private classify(
    cmd: ChronycCommand,
    err: (Error & { code?: unknown; killed?: boolean; signal?: unknown }) | null,
    stdout: string,
    stderr: string,
  ): ChronyError | null {
    const said = `${stdout}\n${stderr}`;
    const quoted = said.trim().split('\n').filter(Boolean).join(' / ');
    // chronyc prints these on stdout or stderr and may still exit 0: look at the text first.
    if (said.includes('501 Not authorised')) {
      return new ChronyNotAuthorisedError(
        `chronyd at ${this.target} refused "chronyc ${cmd}" (501 Not authorised) — use its Unix command socket as root or a member of group _chrony, or add "cmdallow <vaktpost address>" to chrony.conf`,
      );
    }
    if (said.includes('506 Cannot talk to daemon') || said.includes('Could not open connection to daemon')) {
      return new ChronydNotRunningError(
        `chronyd is not running or not reachable at ${this.target} (chronyc: "${quoted}") — start it (systemctl start chrony) or fix the configured chronyc socket/host; a Unix socket needs root or group _chrony`,
      );
    }
    if (!err) return null;
    if (err.code === 'ENOENT') {
      return new ChronycFailedError(`chronyc not found at ${this.chronycPath} — install the chrony package or fix the configured chronyc path`, {
        cause: err,
      });
    }
    if (err.killed) {
      return new ChronycFailedError(
        `"chronyc ${cmd}" gave no answer within ${this.timeoutMs} ms (target ${this.target}) — chronyd may be hung, or the command host is unreachable`,
        { cause: err },
      );
    }
    return new ChronycFailedError(`"chronyc ${cmd}" failed (exit ${String(err.code)}): ${quoted || err.message}`, { cause: err });
  }
}

/**
 * Throws `ChronyNotSynchronisedError` unless chronyd has a synchronised
 * reference. For callers (CLI, reports) that need a trustworthy clock; the
 * time monitor reads the leap status itself and turns it into a signal.
 */
export function requireSynchronised(t: Tracking): Tracking {
  if (t.leapStatus === 'Not synchronised') {
    throw new ChronyNotSynchronisedError(
      'chronyd is not synchronised (leap status "Not synchronised"): it has no usable time source yet — check `chronyc sources` and the servers in chrony.conf, and that UDP 123 to them is open',
    );
  }
  return t;
}
