/**
 * The chaos lab: everything of the call path real, with recording and call
 * records on — rtpengine (recording into a spool), talking SIPp centres
 * (local, backup), the shipped announcement server, a Kamailio rendered by
 * Vaktpost with the rtpengine AND call-record blocks on — and a `vaktpost.yaml`
 * for the real supervisor (calls.recording, calls.callRecords, audiolog).
 *
 * Unlike test/helpers/supervisorProcess.ts, `spawnSupervisor` does not wait for
 * the supervisor to listen: the chaos test kills it at any moment, start-up
 * included. Also here: a seeded PRNG, a streaming SIPp caller for long runs,
 * and the read-only store checks.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { KamailioRpc } from '../../../hardware/kamailio/rpc.js';
import { type SippProcess, type SippResult, startSipp } from '../../../hardware/sip/sipp.js';
import { callIdsFromLog, uacScenarioXml } from '../../../hardware/sip/uacScenario.js';
import { commandedRoute } from '../../../supervisor/src/reconcilers/kamailio/kamailioActuator.js';
import { controlKeys } from '../../../supervisor/src/reconcilers/kamailio/controlSecret.js';
import type { KamailioRenderInput } from '../../../supervisor/src/reconcilers/kamailio/render.js';
import { makeTestPrompt } from '../../helpers/audio/prompt.js';
import { OUR_TIMERS, writeTestControlSecret } from '../../helpers/kamailio.js';
import {
  CALL_TAKER_TEXT,
  type KamailioProc,
  makeSpeech,
  type RtpengineHandle,
  type Speech,
  startKamailioWith,
  startRtpengine,
  startTalkingCentre,
  type TalkingCentre,
} from '../../helpers/rtpengine.js';
import { startAnnouncement, type UasHandle, waitSipReady } from '../../helpers/sipp.js';
import { writeCallsConfig } from '../../helpers/supervisorCallLab.js';
import { freePort, scratchDir } from '../../helpers/util.js';

const run = promisify(execFile);
export const REPO = path.resolve(import.meta.dirname, '../../..');

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

// ---------------------------------------------------------------------------
// Seeded PRNG (mulberry32): a run is repeated with VAKTPOST_CHAOS_SEED.

export function prng(seed: number): { next: () => number; between: (lo: number, hi: number) => number; pick: <T>(xs: readonly T[]) => T } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    next,
    between: (lo, hi) => Math.round(lo + next() * (hi - lo)),
    pick: (xs) => xs[Math.floor(next() * xs.length)] as (typeof xs)[number],
  };
}

// ---------------------------------------------------------------------------
// The lab.

export interface ChaosLab {
  dir: string;
  dataDir: string;
  dbFile: string;
  configFile: string;
  apiPort: number;
  recordsDir: string;
  rtp: RtpengineHandle;
  kam: KamailioProc;
  local: TalkingCentre;
  backup: TalkingCentre;
  announcement: UasHandle;
  callerSpeech: Speech;
  centres: { local: string[]; backup: string[] };
}

export async function startChaosLab(t: TeardownHost): Promise<ChaosLab> {
  const scratch = await scratchDir('chaos-kill');
  t.teardown(() => scratch.cleanup());
  const dir = scratch.dir;
  // A short caller utterance (~1 s): the calls are short, and both sides talk.
  const [callerSpeech, takerSpeech, prompt] = await Promise.all([
    makeSpeech(dir, 'caller', 'Hei, faren min har vondt i brystet.'),
    makeSpeech(dir, 'calltaker', CALL_TAKER_TEXT),
    makeTestPrompt(t),
  ]);
  const rtp = await startRtpengine(t);
  const [local, backup, announcement] = await Promise.all([
    startTalkingCentre(t, 'local', takerSpeech.file),
    startTalkingCentre(t, 'backup', takerSpeech.file),
    startAnnouncement(t, prompt.file),
  ]);
  await waitSipReady(announcement);
  const sipPort = await freePort();
  let rpcPort = await freePort();
  while (rpcPort === sipPort) rpcPort = await freePort();
  const eventsPort = await freePort();
  const recordsDir = path.join(dir, 'calls');
  await mkdir(recordsDir, { recursive: true });
  const kamDir = path.join(dir, 'kamailio');
  await mkdir(kamDir, { recursive: true });
  const testNumber = 'vaktpost-lydlogg-test';
  const centres = { local: [local.uri], backup: [backup.uri] };
  const input: KamailioRenderInput = {
    listen: { address: '127.0.0.1', port: sipPort, transports: ['udp'] },
    trunkSources: [],
    centres,
    announcement: { uris: [announcement.uri], answerTimeoutMs: 3000 },
    finalReply: { code: 480, reason: 'Temporarily Unavailable' },
    timers: OUR_TIMERS,
    rpcPort,
    controlSecret: await writeTestControlSecret(kamDir),
    runDir: kamDir,
    dispatcherListPath: path.join(kamDir, 'dispatcher.list'),
    children: 4,
    callRecords: { dir: recordsDir },
    rtpengine: { ng: { host: '127.0.0.1', port: rtp.ngPort }, offerTimeoutMs: 300, retryAfterS: 2, eventsPort, testNumber },
  };
  const kam = await startKamailioWith(t, kamDir, input);

  const supDir = path.join(dir, 'sup');
  await mkdir(supDir);
  const { file, port } = await writeCallsConfig(supDir, {
    name: 'chaos-kill',
    kam,
    centres: { local: local.uri, backup: backup.uri, announcement: announcement.uri },
    calls: [
      // No routing test calls of the supervisor's own: every call in the store is SIPp's.
      '  verify: { optionsTimeoutMs: 1000, testCall: { enabled: false } }',
      `  callRecords: { enabled: true, dir: ${recordsDir} }`,
      `  recording: { enabled: true, rtpengine: { port: ${rtp.ngPort} }, eventsPort: ${eventsPort}, testNumber: ${testNumber} }`,
    ],
    extra: [
      'audiolog:',
      `  rtpengine: { spoolDir: ${rtp.spoolDir} }`,
      '  checks: { pollMs: 500, minFreeMb: 0 }',
      '  testCall: { enabled: false }',
      'evidence: { ingestEveryMs: 500 }',
    ],
  });
  const dataDir = path.join(supDir, 'data');
  return {
    dir,
    dataDir,
    dbFile: path.join(dataDir, 'vaktpost.db'),
    configFile: file,
    apiPort: port,
    recordsDir,
    rtp,
    kam,
    local,
    backup,
    announcement,
    callerSpeech,
    centres,
  };
}

// ---------------------------------------------------------------------------
// The supervisor process, spawned without waiting for it.

export interface SpawnedSupervisor {
  child: ChildProcess;
  pid: number;
  /** performance.now() at spawn. */
  spawnedAt: number;
  output(): string;
  /** Resolves with ms from spawn to "Vaktpost is running"; rejects if it exits first. */
  listening: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isListening(): boolean;
  /** Resolves when `re` matches output written after this call. */
  nextOutput(re: RegExp, timeoutMs: number): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnSupervisor(configFile: string, env: NodeJS.ProcessEnv = {}): SpawnedSupervisor {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'run', '-c', configFile], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let listenedAt: number | null = null;
  let onListen: (ms: number) => void = () => undefined;
  const listening = new Promise<number>((resolve) => {
    onListen = resolve;
  });
  const watchers = new Set<{ from: number; re: RegExp; resolve: () => void }>();
  const onData = (d: Buffer) => {
    out += d.toString();
    if (listenedAt === null && out.includes('Vaktpost is running')) {
      listenedAt = performance.now();
      onListen(listenedAt - spawnedAt);
    }
    for (const w of [...watchers]) {
      if (w.re.test(out.slice(w.from))) {
        watchers.delete(w);
        w.resolve();
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null }));
  const listeningOrExit = Promise.race([
    listening,
    exited.then((e) => {
      if (listenedAt !== null) return listenedAt - spawnedAt;
      throw new Error(`supervisor exited (${e.signal ?? e.code}) before it listened: ${out.slice(-2000)}`);
    }),
  ]);
  listeningOrExit.catch(() => undefined);
  return {
    child,
    pid: child.pid ?? -1,
    spawnedAt,
    output: () => out,
    listening: listeningOrExit,
    exited,
    isListening: () => listenedAt !== null,
    nextOutput(re, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(w);
          reject(new Error(`no ${re} in the supervisor's output within ${timeoutMs} ms`));
        }, timeoutMs);
        const w = {
          from: out.length,
          re,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
        watchers.add(w);
        void exited.then(() => {
          if (watchers.delete(w)) {
            clearTimeout(timer);
            reject(new Error(`supervisor exited before ${re}`));
          }
        });
      });
    },
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** An authenticated call to the supervisor's API (the CLI token in the data dir). */
export async function api<T>(lab: Pick<ChaosLab, 'apiPort' | 'dataDir'>, method: string, p: string): Promise<{ status: number; json: T }> {
  const token = (await readFile(path.join(lab.dataDir, 'cli.token'), 'utf8')).trim();
  const res = await fetch(`http://127.0.0.1:${lab.apiPort}${p}`, { method, headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, json: (await res.json()) as T };
}

/** What `vaktpost audiolog verify --json` reports (supervisor/src/audiolog/verify.ts VerifyReport). */
export interface VerifyJson {
  ok: boolean;
  entries: number;
  recordings: number;
  files: number;
  headSeq: number;
  problems: Array<{ recordingId: string | null; seq: number | null; message: string }>;
}

/** `vaktpost audiolog verify --json -c <config>` as an operator runs it. */
export async function audiologVerifyCli(configFile: string): Promise<{ code: number; out: string; report: VerifyJson | null }> {
  let code = 0;
  let out: string;
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'audiolog', 'verify', '--json', '-c', configFile], {
      cwd: REPO,
      maxBuffer: 64 << 20,
    });
    out = r.stdout + r.stderr;
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string; message: string };
    code = typeof e.code === 'number' ? e.code : -1;
    out = `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message;
  }
  let report: VerifyJson | null = null;
  try {
    report = JSON.parse(out.slice(out.indexOf('{'))) as VerifyJson;
  } catch {
    // not JSON: the CLI failed before verifying (out says why)
  }
  return { code, out, report };
}

export type ProblemClass = 'committed during the verify' | 'source still in the spool' | 'unexplained';

/**
 * Why verify reported each problem, judged from the store and the spool AFTER it
 * ran: a recording committed after verify read the chain (its chain seq is past
 * the head verify saw) is an ingest that was in flight; a folder whose rtpengine
 * file is still in the spool is an ingest not yet committed (or cut short by the
 * kill, redone by the restarted supervisor). Anything else is unexplained.
 */
export async function classifyVerifyProblems(
  lab: Pick<ChaosLab, 'dbFile' | 'dataDir' | 'rtp'>,
  report: VerifyJson,
): Promise<Array<{ cls: ProblemClass; message: string }>> {
  const spool = new Set(await readdir(path.join(lab.rtp.spoolDir, 'metadata')).catch(() => [] as string[]));
  const out: Array<{ cls: ProblemClass; message: string }> = [];
  for (const p of report.problems) {
    let cls: ProblemClass = 'unexplained';
    if (p.recordingId) {
      const id = p.recordingId;
      const seq = withDb(
        lab.dbFile,
        (db) =>
          (
            db
              .prepare(`SELECT c.seq AS seq FROM audiolog_recordings r JOIN audiolog_chain c ON c.seq = r.chain_seq AND c.recording_id = r.id WHERE r.id = ?`)
              .get(id) as { seq: number } | undefined
          )?.seq,
      );
      if (seq !== undefined && seq > report.headSeq) cls = 'committed during the verify';
      else {
        const folder = /in the archive \(([^)]+)\)/.exec(p.message)?.[1];
        if (folder) {
          const rec = await readFile(path.join(lab.dataDir, 'audiolog', folder, 'record.json'), 'utf8')
            .then((s) => JSON.parse(s) as { source?: string })
            .catch(() => null);
          if (rec?.source && spool.has(rec.source)) cls = 'source still in the spool';
        }
      }
    }
    out.push({ cls, message: p.message });
  }
  return out;
}

// ---------------------------------------------------------------------------
// The store, read-only.

export function withDb<T>(dbFile: string, f: (db: Database.Database) => T): T {
  const db = new Database(dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    return f(db);
  } finally {
    db.close();
  }
}

export function integrityCheck(dbFile: string): string {
  return withDb(dbFile, (db) => (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; '));
}

// ---------------------------------------------------------------------------
// Kamailio's dispatcher, watched throughout: what the switch reads at every sample.

export interface DispatcherWatch {
  samples: number;
  errors: number;
  /** Every sample that did not read `local`, with its time. */
  notLocal: Array<{ at: number; route: string }>;
  stop(): Promise<void>;
}

export function watchDispatcher(lab: Pick<ChaosLab, 'kam' | 'centres'>, everyMs = 100): DispatcherWatch {
  const rpc = new KamailioRpc({ port: lab.kam.rpcPort, timeoutMs: 1000, secret: controlKeys(lab.kam.input.controlSecret).rpc });
  const w: DispatcherWatch = {
    samples: 0,
    errors: 0,
    notLocal: [],
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const route = commandedRoute(await rpc.dispatcherList(), lab.centres);
        w.samples++;
        if (route !== 'local') w.notLocal.push({ at: Date.now(), route });
      } catch {
        w.errors++;
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return w;
}

// ---------------------------------------------------------------------------
// The caller: SIPp streaming speech through Kamailio at a rate, for as long as
// the test needs (bounded by `maxCalls`), stopped smoothly (SIGUSR1: no new calls,
// the running ones finish).

export interface ChaosCaller {
  proc: SippProcess;
  /** Smooth stop; resolves with SIPp's final accounting. */
  finish(): Promise<ChaosCallerResult>;
  done: Promise<ChaosCallerResult>;
}

export interface ChaosCallerResult {
  result: SippResult;
  /** Call number → Call-ID. */
  callIds: Map<number, string>;
  /** Call number → the X-Vaktpost-Role of whoever answered 200. */
  answeredBy: Map<number, string>;
  /** Call number → epoch ms of the 200 (SIPp's own timestamp). */
  answeredAt: Map<number, number>;
  /** Call numbers whose BYE was answered. */
  done: Set<number>;
}

export async function startChaosCaller(
  t: TeardownHost,
  lab: Pick<ChaosLab, 'kam' | 'callerSpeech'>,
  o: { rate: number; maxCalls: number; holdMs: number; caller: string },
): Promise<ChaosCaller> {
  const scratch = await scratchDir('sipp-chaos-caller');
  const scenarioFile = path.join(scratch.dir, 'uac.xml');
  // The shipped caller scenario; its answer regexp reads who answered (the centres
  // stamp X-Vaktpost-Role) instead of Kamailio's probe-only X-Vaktpost-Route.
  const xml = uacScenarioXml({
    name: 'Vaktpost chaos caller',
    caller: o.caller,
    subject: 'Vaktpost chaos call',
    probe: false,
    streamFile: lab.callerSpeech.file,
    holdMs: o.holdMs,
  });
  if (!xml.includes('header="X-Vaktpost-Route:"')) throw new Error('uacScenarioXml no longer reads X-Vaktpost-Route: update the chaos caller');
  await writeFile(scenarioFile, xml.replace('header="X-Vaktpost-Route:"', 'header="X-Vaktpost-Role:"'));
  const proc = startSipp({
    scenarioFile,
    workDir: scratch.dir,
    localIp: '127.0.0.1',
    localPort: await freePort(),
    remote: `127.0.0.1:${lab.kam.sipPort}`,
    service: '116117',
    calls: o.maxCalls,
    rate: o.rate,
    limit: Math.max(50, o.rate * 10),
    recvTimeoutMs: 30_000,
  });
  t.teardown(async () => {
    await proc.kill();
    await scratch.cleanup();
  });
  const done = proc.done.then((result) => {
    const answeredBy = new Map<number, string>();
    const answeredAt = new Map<number, number>();
    const ended = new Set<number>();
    for (const l of result.logLines) {
      const a = /^answered (\d+) (\S*)/.exec(l);
      if (a) answeredBy.set(Number(a[1]), /^\d{4}-/.test(a[2] ?? '') || !a[2] ? '(none)' : a[2]);
      const secs = Number(l.trim().split(/\s+/).pop());
      if (a && Number.isFinite(secs) && secs > 1e9) answeredAt.set(Number(a[1]), Math.round(secs * 1000));
      const d = /^done (\d+) /.exec(l);
      if (d) ended.add(Number(d[1]));
    }
    return { result, callIds: callIdsFromLog(result.logLines), answeredBy, answeredAt, done: ended };
  });
  return {
    proc,
    done,
    finish: async () => {
      await proc.stop(60_000);
      return done;
    },
  };
}
