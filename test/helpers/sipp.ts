/**
 * SIPp processes for call tests: test centres (UAS that answer, are busy, or
 * ring without answer), the announcement server exactly as it ships, and
 * callers (UAC) — each on a dynamic loopback port, in its own scratch dir, and
 * killed in teardown. Results are SIPp's OWN counts (hardware/sip/sipp.ts).
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { startAnnouncementServer } from '../../hardware/sip/announcement.js';
import { sipOptions } from '../../hardware/net/sipOptions.js';
import { describeSippExit, type SippProcess, type SippResult, startSipp } from '../../hardware/sip/sipp.js';
import { freePort, scratchDir, waitFor } from './util.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const SCENARIO_DIR = path.join(HERE, 'sipp');

export const SCENARIOS = {
  caller: path.join(SCENARIO_DIR, 'uac.xml'),
  callerWaitsForBye: path.join(SCENARIO_DIR, 'uac-wait-bye.xml'),
  callerHangsUpWhileRinging: path.join(SCENARIO_DIR, 'uac-cancel-after-ring.xml'),
  answer: path.join(SCENARIO_DIR, 'uas-answer.xml'),
  busy: path.join(SCENARIO_DIR, 'uas-busy.xml'),
  ringNoAnswer: path.join(SCENARIO_DIR, 'uas-ring-no-answer.xml'),
  /** Answers OPTIONS (-aa), refuses every INVITE with 503. */
  refuse503: path.join(SCENARIO_DIR, 'uas-refuse-503.xml'),
  /** Answers OPTIONS (-aa), never answers an INVITE. */
  dropInvite: path.join(SCENARIO_DIR, 'uas-drop-invite.xml'),
} as const;

export type CentreBehaviour = 'answer' | 'busy' | 'ringNoAnswer' | 'refuse503' | 'dropInvite';

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export interface UasHandle {
  readonly port: number;
  /** `sip:<role>@127.0.0.1:<port>` — what goes into the dispatcher list. */
  readonly uri: string;
  readonly proc: SippProcess;
  /** Graceful stop; SIPp writes its final counts. */
  stop(): Promise<SippResult>;
  /** SIGKILL: the centre dies. */
  kill(): Promise<SippResult>;
}

/**
 * Resolves once a SIPp UAS on 127.0.0.1 answers OPTIONS with 200 (its socket is
 * up). If SIPp exits first (a port taken, a bad scenario) it fails at once with
 * SIPp's own reason, instead of timing out on "nothing listens".
 */
export async function waitSipReady(sipp: { port: number; proc: SippProcess }, timeoutMs = 30_000): Promise<void> {
  const exit: { result?: SippResult } = {};
  void sipp.proc.done.then((r) => {
    exit.result = r;
  });
  const outcome = await waitFor(
    async () => {
      if (exit.result) return 'exited' as const;
      const r = await sipOptions({ host: '127.0.0.1', port: sipp.port, timeoutMs: 300 });
      if (!r.ok) throw new Error(r.detail);
      return r.status === 200 ? ('ready' as const) : null;
    },
    { timeoutMs, intervalMs: 30, what: `SIPp on 127.0.0.1:${sipp.port} to answer OPTIONS` },
  );
  if (outcome === 'exited' && exit.result) {
    const r = exit.result;
    throw new Error(
      `SIPp for 127.0.0.1:${sipp.port} exited before it answered: ${describeSippExit(r.exitCode, r.signal)}${r.stderrTail ? `\n${r.stderrTail}` : ''}`,
    );
  }
}

/** Start a test centre (SIPp UAS with `-aa` so keepalives get 200). */
export async function startCentre(t: TeardownHost, role: string, behaviour: CentreBehaviour = 'answer', port?: number): Promise<UasHandle> {
  const scratch = await scratchDir(`sipp-${role}`);
  const p = port ?? (await freePort());
  const proc = startSipp({
    scenarioFile: SCENARIOS[behaviour],
    workDir: scratch.dir,
    localIp: '127.0.0.1',
    localPort: p,
    keys: { role },
    autoAnswer: true,
  });
  t.teardown(async () => {
    await proc.kill();
    await scratch.cleanup();
  });
  return { port: p, uri: `sip:${role}@127.0.0.1:${p}`, proc, stop: () => proc.stop(), kill: () => proc.kill() };
}

/** The shipped announcement server (hardware/sip/announcement.ts) on a dynamic port. */
export async function startAnnouncement(t: TeardownHost, promptFile: string, maxPlayMs = 20_000): Promise<UasHandle> {
  const scratch = await scratchDir('sipp-announcement');
  const p = await freePort();
  const proc = await startAnnouncementServer({
    workDir: scratch.dir,
    listenIp: '127.0.0.1',
    listenPort: p,
    promptFile,
    maxPlayMs,
  });
  t.teardown(async () => {
    await proc.kill();
    await scratch.cleanup();
  });
  return { port: p, uri: `sip:announcement@127.0.0.1:${p}`, proc, stop: () => proc.stop(), kill: () => proc.kill() };
}

export interface CallerOptions {
  kamailioPort: number;
  calls: number;
  /** Calls per second. */
  rate: number;
  /** How long each answered call is held before BYE (ms). */
  holdMs: number;
  /** Where the caller says it receives RTP (default: a port nobody listens on). */
  rtpPort?: number;
  /** Number dialled (Request-URI user). */
  number?: string;
  /** Never hang up: wait for the far end's BYE (uac-wait-bye.xml). */
  waitForBye?: boolean;
  /**
   * Hang up while it rings: wait for the 180, let it ring this long (ms), CANCEL
   * (uac-cancel-after-ring.xml). `holdMs` is ignored.
   */
  hangUpAfterRingingMs?: number;
  /** A call waiting longer than this for an answer fails (ms). */
  recvTimeoutMs?: number;
  /** Whole-run deadline (s). */
  timeoutS?: number;
}

export interface CallerRun {
  readonly proc: SippProcess;
  /** Wall-clock ms (performance.now) when SIPp was started. */
  readonly startedAt: number;
  readonly done: Promise<CallerResult>;
}

export interface CallRecord {
  n: number;
  /** Epoch ms the INVITE was sent / the 200 arrived / the BYE's 200 arrived. */
  sentAt?: number;
  answeredAt?: number;
  /** X-Vaktpost-Role of whoever sent the 200 (`local`, `backup`, `announcement`). */
  answeredBy?: string;
  doneAt?: number;
}

export interface CallerResult extends SippResult {
  /** Every call SIPp logged, by call number. */
  calls: Map<number, CallRecord>;
  /** Count of answers per role. */
  answersPerRole: Record<string, number>;
  /** Calls that completed (BYE answered 200). */
  completed: number;
  /** Calls that rang at the caller (180 received) / were cancelled (487 received), hangUpAfterRingingMs only. */
  rang: number;
  cancelled: number;
}

/** Epoch ms from SIPp's [timestamp] ("date\ttime\tseconds.micros"). */
function epochMs(ts: string | undefined): number | undefined {
  const last = ts?.trim().split(/\s+/).pop();
  const n = Number(last);
  return Number.isFinite(n) && n > 1e9 ? Math.round(n * 1000) : undefined;
}

/** Read the caller scenario's `sent` / `answered` / `done` log lines. */
export function summarizeCaller(r: SippResult): CallerResult {
  const calls = new Map<number, CallRecord>();
  const rec = (n: number) => {
    let c = calls.get(n);
    if (!c) {
      c = { n };
      calls.set(n, c);
    }
    return c;
  };
  const answersPerRole: Record<string, number> = {};
  let completed = 0;
  let rang = 0;
  let cancelled = 0;
  for (const line of r.logLines) {
    if (/^ringing \d+/.test(line)) rang++;
    if (/^cancelled \d+/.test(line)) cancelled++;
    const m = /^(sent|answered|done) (\d+) ?(.*)$/.exec(line);
    if (!m) continue;
    const c = rec(Number(m[2]));
    const rest = m[3] ?? '';
    if (m[1] === 'sent') c.sentAt = epochMs(rest);
    else if (m[1] === 'done') {
      c.doneAt = epochMs(rest);
      completed++;
    } else {
      const [role, ...ts] = rest.split(' ');
      c.answeredBy = role && !/^\d{4}-/.test(role) ? role : '(none)';
      c.answeredAt = epochMs(ts.join(' '));
      answersPerRole[c.answeredBy] = (answersPerRole[c.answeredBy] ?? 0) + 1;
    }
  }
  return { ...r, calls, answersPerRole, completed, rang, cancelled };
}

/** Start a caller (SIPp UAC) against Kamailio. */
export async function startCaller(t: TeardownHost, o: CallerOptions): Promise<CallerRun> {
  const scratch = await scratchDir('sipp-caller');
  const startedAt = performance.now();
  const proc = startSipp({
    scenarioFile: o.hangUpAfterRingingMs !== undefined ? SCENARIOS.callerHangsUpWhileRinging : o.waitForBye ? SCENARIOS.callerWaitsForBye : SCENARIOS.caller,
    workDir: scratch.dir,
    localIp: '127.0.0.1',
    localPort: await freePort(),
    remote: `127.0.0.1:${o.kamailioPort}`,
    service: o.number ?? '116117',
    calls: o.calls,
    rate: o.rate,
    pauseMs: o.hangUpAfterRingingMs ?? o.holdMs,
    limit: Math.max(50, o.rate * 10),
    keys: { rtp_port: String(o.rtpPort ?? 9) },
    recvTimeoutMs: o.recvTimeoutMs ?? 30_000,
    ...(o.timeoutS !== undefined ? { timeoutS: o.timeoutS } : {}),
  });
  t.teardown(async () => {
    await proc.kill();
    await scratch.cleanup();
  });
  return { proc, startedAt, done: proc.done.then(summarizeCaller) };
}

/** Run a caller to the end and return its summary. */
export async function runCaller(t: TeardownHost, o: CallerOptions): Promise<CallerResult> {
  return (await startCaller(t, o)).done;
}

/** One line for assertion messages: SIPp's counts and the answers per role. */
export function describeCaller(r: CallerResult): string {
  const s = r.stats;
  const codes = Object.entries(r.unexpectedCodes)
    .map(([c, n]) => `${c}×${n}`)
    .join(',');
  return (
    `exit=${r.exitCode}${r.signal ? `/${r.signal}` : ''} ` +
    (s ? `created=${s.created} ok=${s.successful} failed=${s.failed} ` : 'no stats ') +
    `answers=${JSON.stringify(r.answersPerRole)} unexpected=[${codes}]` +
    (r.stderrTail ? ` stderr=${r.stderrTail.split('\n').slice(-2).join(' | ')}` : '')
  );
}
