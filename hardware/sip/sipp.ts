/**
 * Runs SIPp (Debian `sip-tester`) as a child process and reads back SIPp's OWN
 * accounting: the cumulative counters of its statistics CSV (`-trace_stat`),
 * the response codes of unexpected messages (`-trace_error_codes`, e.g. a 486
 * that reached a caller) and the scenario's `<log>` lines (`-trace_logs`).
 *
 * Used for the announcement server (a long-running UAS), the supervisor's
 * verification test call (a one-call UAC) and the tests. SIPp runs in the
 * foreground with `-nostdin`; its trace files land in `workDir`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface SippOptions {
  scenarioFile: string;
  /** Working directory: stats, logs and error files are written here. Must exist. */
  workDir: string;
  /** Local SIP address (`-i`). */
  localIp: string;
  /** Local SIP port (`-p`); default: a free port chosen by the kernel. */
  localPort?: number;
  /**
   * SIPp's UDP control port (`-cp`). Default: SIPp takes the first free one from
   * 8888 up. It listens on 0.0.0.0 and obeys commands like "q" — firewall it
   * (ops/kamailio/README.md).
   */
  controlPort?: number;
  /** Remote `host:port` for a UAC; omit for a UAS. */
  remote?: string;
  /** Request-URI user (`-s`). */
  service?: string;
  /** `-key name value` substitutions used by the scenario as `[name]`. */
  keys?: Record<string, string>;
  /** Stop after this many calls (`-m`). */
  calls?: number;
  /** Calls per second (`-r`). */
  rate?: number;
  /** Default `<pause/>` length in ms (`-d`): the call hold time. */
  pauseMs?: number;
  /** Max simultaneous calls (`-l`). */
  limit?: number;
  /**
   * RTP/media base port (`-mp`). SIPp binds it and the port two above at start
   * and exits 254 if either is taken. Leave it out unless a fixed port is
   * needed (a firewall rule): SIPp then hunts from 6000 up in steps of four,
   * so parallel SIPp processes never collide (measured: 30 at once).
   */
  mediaPort?: number;
  /** Answer OPTIONS/INFO/NOTIFY/UPDATE with 200 (`-aa`): keeps dispatcher keepalives happy. */
  autoAnswer?: boolean;
  /** Per-recv timeout (`-recv_timeout`, ms): a call waiting longer fails. */
  recvTimeoutMs?: number;
  /** Global run deadline (`-timeout`, s) with failure exit code (`-timeout_error`). */
  timeoutS?: number;
  /** How often the stats CSV gets a line (`-fd`, s). Default 1. */
  statsEveryS?: number;
  /** Anything else, verbatim. */
  extraArgs?: readonly string[];
  /** Path of the sipp binary (default `sipp` on PATH). */
  binary?: string;
}

/** SIPp's cumulative counters, read from the last line of its statistics CSV. */
export interface SippStats {
  created: number;
  incoming: number;
  outgoing: number;
  successful: number;
  failed: number;
  current: number;
  failedUnexpectedMessage: number;
  failedMaxUdpRetrans: number;
  failedTimeoutOnRecv: number;
  failedCallRejected: number;
  outOfCallMsgs: number;
  deadCallMsgs: number;
  retransmissions: number;
  autoAnswered: number;
  /** Every `(C)` column by its SIPp name, for anything not lifted above. */
  raw: Record<string, number>;
}

export interface SippResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Null only if SIPp never wrote a stats line (died at start-up). */
  stats: SippStats | null;
  /** Response codes of unexpected messages, counted (e.g. {486: 3}). */
  unexpectedCodes: Record<number, number>;
  /** The scenario's `<log>` lines, in order. */
  logLines: string[];
  /** Last lines of stderr (start-up errors: bad scenario, port in use). */
  stderrTail: string;
  durationMs: number;
}

export interface SippProcess {
  readonly pid: number | undefined;
  readonly args: readonly string[];
  /** Resolves when SIPp has exited and its files are read. */
  readonly done: Promise<SippResult>;
  /** Graceful stop (SIGUSR1: SIPp finishes, writes final stats); SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<SippResult>;
  /** SIGKILL now, like a crashed centre. */
  kill(): Promise<SippResult>;
  /** The stats CSV's latest cumulative line while SIPp is still running. */
  currentStats(): Promise<SippStats | null>;
}

/** SIPp exit codes (sipp.1): what they mean for the reader of an error message. */
export function describeSippExit(code: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`;
  switch (code) {
    case 0:
      return 'all calls succeeded';
    case 1:
      return 'at least one call failed';
    case 97:
      return 'stopped by an internal command';
    case 99:
      return 'exited normally without processing any call';
    case 253:
      return 'RTP validation failure';
    case 254:
      return 'could not bind its port(s) — port in use?';
    case 255:
      return 'fatal error (bad scenario or options — see stderr)';
    default:
      return `exit code ${code}`;
  }
}

export function sippArgs(o: SippOptions): string[] {
  const a = ['-sf', o.scenarioFile, '-i', o.localIp];
  if (o.localPort !== undefined) a.push('-p', String(o.localPort));
  if (o.controlPort !== undefined) a.push('-cp', String(o.controlPort));
  a.push('-nostdin', '-trace_stat', '-stf', path.join(o.workDir, 'stats.csv'), '-fd', String(o.statsEveryS ?? 1));
  a.push('-trace_logs', '-log_file', path.join(o.workDir, 'log.txt'));
  a.push('-trace_err', '-error_file', path.join(o.workDir, 'errors.txt'));
  a.push('-trace_error_codes');
  if (o.service !== undefined) a.push('-s', o.service);
  for (const [k, v] of Object.entries(o.keys ?? {})) a.push('-key', k, v);
  if (o.calls !== undefined) a.push('-m', String(o.calls));
  if (o.rate !== undefined) a.push('-r', String(o.rate));
  if (o.pauseMs !== undefined) a.push('-d', String(o.pauseMs));
  if (o.limit !== undefined) a.push('-l', String(o.limit));
  if (o.mediaPort !== undefined) a.push('-mp', String(o.mediaPort));
  if (o.autoAnswer) a.push('-aa');
  if (o.recvTimeoutMs !== undefined) a.push('-recv_timeout', String(o.recvTimeoutMs));
  if (o.timeoutS !== undefined) a.push('-timeout', `${o.timeoutS}s`, '-timeout_error');
  a.push(...(o.extraArgs ?? []));
  if (o.remote !== undefined) a.push(o.remote);
  return a;
}

const num = (s: string | undefined): number => {
  const n = Number(s);
  return Number.isFinite(n) ? n : 0;
};

/** Parse SIPp's `-trace_stat` CSV (`;`-separated); the last data line holds the totals. */
export function parseSippStats(csv: string): SippStats | null {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  if (lines.length < 2) return null;
  const header = (lines[0] as string).split(';');
  const last = (lines[lines.length - 1] as string).split(';');
  const raw: Record<string, number> = {};
  header.forEach((h, i) => {
    if (h.endsWith('(C)')) raw[h.slice(0, -3)] = num(last[i]);
  });
  const g = (k: string) => raw[k] ?? 0;
  // TotalCallCreated and CurrentCall have no (P)/(C) twins: read them directly.
  const plain = (k: string) => num(last[header.indexOf(k)]);
  return {
    created: plain('TotalCallCreated'),
    incoming: g('IncomingCall'),
    outgoing: g('OutgoingCall'),
    successful: g('SuccessfulCall'),
    failed: g('FailedCall'),
    current: plain('CurrentCall'),
    failedUnexpectedMessage: g('FailedUnexpectedMessage'),
    failedMaxUdpRetrans: g('FailedMaxUDPRetrans'),
    failedTimeoutOnRecv: g('FailedTimeoutOnRecv'),
    failedCallRejected: g('FailedCallRejected'),
    outOfCallMsgs: g('OutOfCallMsgs'),
    deadCallMsgs: g('DeadCallMsgs'),
    retransmissions: g('Retransmissions'),
    autoAnswered: g('AutoAnswered'),
    raw,
  };
}

/** Count codes in `-trace_error_codes` output: lines `time;elapsed;486,486,`. */
export function parseSippErrorCodes(text: string): Record<number, number> {
  const out: Record<number, number> = {};
  for (const line of text.split('\n')) {
    const field = line.split(';')[2];
    if (!field) continue;
    for (const c of field.split(',')) {
      if (/^\d{3}$/.test(c.trim())) {
        const code = Number(c.trim());
        out[code] = (out[code] ?? 0) + 1;
      }
    }
  }
  return out;
}

/** `<log>` lines: SIPp prefixes nothing for -log_file, but skip its own warnings. */
export function parseSippLog(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !/^\d{4}-\d\d-\d\d\t/.test(l));
}

async function readIf(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return '';
  }
}

export function startSipp(o: SippOptions): SippProcess {
  const args = sippArgs(o);
  const t0 = performance.now();
  const child: ChildProcess = spawn(o.binary ?? 'sipp', args, { cwd: o.workDir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      stderr += err.code === 'ENOENT' ? `\n${o.binary ?? 'sipp'} not found — install Debian package sip-tester` : `\n${err.message}`;
      resolve({ code: null, signal: null });
    });
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });

  const readStats = async () => parseSippStats(await readIf(path.join(o.workDir, 'stats.csv')));

  const done = exited.then(async ({ code, signal }) => {
    let codesText = '';
    try {
      for (const f of await readdir(o.workDir)) {
        if (f.endsWith('_error_codes.csv')) codesText += await readIf(path.join(o.workDir, f));
      }
    } catch {
      // workDir gone: no codes
    }
    return {
      exitCode: code,
      signal,
      stats: await readStats(),
      unexpectedCodes: parseSippErrorCodes(codesText),
      logLines: parseSippLog(await readIf(path.join(o.workDir, 'log.txt'))),
      stderrTail: stderr
        .split('\n')
        .filter((l) => l.trim() !== '' && !/^Resolving remote host/.test(l))
        .slice(-8)
        .join('\n'),
      durationMs: performance.now() - t0,
    } satisfies SippResult;
  });

  const signalAndWait = async (sig: NodeJS.Signals, graceMs: number): Promise<SippResult> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(sig);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
    return done;
  };

  return {
    pid: child.pid,
    args,
    done,
    stop: (graceMs = 3000) => signalAndWait('SIGUSR1', graceMs),
    kill: () => signalAndWait('SIGKILL', 0),
    currentStats: readStats,
  };
}
