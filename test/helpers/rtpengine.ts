/**
 * A real rtpengine for tests: userspace, recording-method=pcap, its config
 * rendered by Vaktpost's own renderer (supervisor/src/audiolog/rtpengineConf.ts),
 * in the foreground on loopback with a dynamic ng port and media port range,
 * spooling into a scratch dir (or one the test gives, e.g. a tiny tmpfs).
 * Ready when it answers an ng ping. `kill('SIGKILL')` is a crash; `restart()`
 * starts it again on the same config (it remembers no calls: no redis).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RtpengineNg } from '../../hardware/rtpengine/ng.js';
import { rtpengineDaemonSchema } from '../../supervisor/src/config/audiolog.js';
import { renderRtpengineConf } from '../../supervisor/src/audiolog/rtpengineConf.js';
import { freePort, scratchDir, waitFor } from './util.js';
import { fileURLToPath } from 'node:url';
import { KamailioRpc } from '../../hardware/kamailio/rpc.js';
import { speakUlaw } from '../../hardware/sip/prompt.js';
import { type SippProcess, type SippResult, startSipp } from '../../hardware/sip/sipp.js';
import { controlKeys, controlSecretPathOf } from '../../supervisor/src/reconcilers/kamailio/controlSecret.js';
import { type KamailioRenderInput, renderKamailio } from '../../supervisor/src/reconcilers/kamailio/render.js';
import { callIdsFromLog, uacScenarioXml } from '../../hardware/sip/uacScenario.js';
import { OUR_TIMERS, writeTestControlSecret } from './kamailio.js';
import { startAnnouncement, waitSipReady, type UasHandle } from './sipp.js';
import { makeTestPrompt, type TestPrompt } from './audio/prompt.js';

export const RTPENGINE = process.env.RTPENGINE ?? '/usr/bin/rtpengine';

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export interface RtpengineHandle {
  readonly ngPort: number;
  readonly ng: RtpengineNg;
  readonly spoolDir: string;
  readonly confFile: string;
  readonly pid: number | undefined;
  log(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export interface RtpengineTestOptions {
  /** Spool dir to record into (default: a scratch dir). */
  spoolDir?: string;
  mediaTimeoutS?: number;
  /** rtpengine's delete-delay (default here: 0; rtpengine's own default is 30 s — the peer in the bench). */
  deleteDelayS?: number;
}

/**
 * 400 media ports below the kernel's ephemeral range (32768 up), where
 * freePort() never hands out a SIP or control port that rtpengine could take
 * in the middle of a call. Two rtpengines whose ranges overlap are fine:
 * rtpengine skips a port it cannot bind.
 */
function portRange(): { min: number; max: number } {
  const min = 12_000 + 2 * Math.floor(Math.random() * 9_800);
  return { min, max: min + 400 };
}

export async function startRtpengine(t: TeardownHost, o: RtpengineTestOptions = {}): Promise<RtpengineHandle> {
  const scratch = await scratchDir('rtpengine');
  const spoolDir = o.spoolDir ?? path.join(scratch.dir, 'spool');
  await mkdir(spoolDir, { recursive: true });
  const ngPort = await freePort();
  const range = portRange();
  const daemon = rtpengineDaemonSchema.parse({
    interface: '127.0.0.1',
    portMin: range.min,
    portMax: range.max,
    spoolDir,
    mediaTimeoutS: o.mediaTimeoutS ?? 30,
    logLevel: 6,
  });
  const confFile = path.join(scratch.dir, 'rtpengine.conf');
  let conf = renderRtpengineConf({ daemon, ng: { host: '127.0.0.1', port: ngPort } });
  if (o.deleteDelayS !== undefined) conf = conf.replace(/^delete-delay = 0$/m, `delete-delay = ${o.deleteDelayS}`);
  await writeFile(confFile, conf);
  const ng = new RtpengineNg({ port: ngPort, timeoutMs: 300, attempts: 1 });

  let child: ChildProcess | null = null;
  let logText = '';
  const launch = async () => {
    const c = spawn(RTPENGINE, [`--config-file=${confFile}`, '--config-section=rtpengine'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr?.on('data', (d: Buffer) => {
      logText = (logText + d.toString('utf8')).slice(-65_536);
    });
    let exited: string | null = null;
    c.on('exit', (code, sig) => {
      exited = `rtpengine exited (${sig ?? code})`;
    });
    c.on('error', (e) => {
      exited = `cannot start ${RTPENGINE}: ${e.message} — install the Debian package rtpengine-daemon`;
    });
    await waitFor(
      async () => {
        if (exited) throw new Error(`${exited}; log:\n${logText.slice(-2000)}`);
        await ng.ping();
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `rtpengine ng on 127.0.0.1:${ngPort}` },
    );
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const c = child as ChildProcess | null;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = once(c, 'exit');
    c.kill(signal);
    const timer = setTimeout(() => c.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  let stopped = false;
  const handle: RtpengineHandle = {
    ngPort,
    ng,
    spoolDir,
    confFile,
    get pid() {
      return (child as ChildProcess | null)?.pid;
    },
    log: () => logText,
    kill,
    restart: async () => {
      await kill();
      await launch();
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await kill();
      await scratch.cleanup();
    },
  };
  t.teardown(() => handle.stop());
  await launch();
  return handle;
}

// ---------------------------------------------------------------------------
// The recording lab: real Kamailio (cfg rendered by Vaktpost with the
// WITH_RTPENGINE blocks on) + real rtpengine + SIPp centres whose call-takers
// talk (Norwegian speech by espeak-ng) + SIPp callers that talk too.

const HERE = path.dirname(fileURLToPath(import.meta.url));
const UAS_SPEECH = path.resolve(HERE, '../integration/audiolog/sipp/uas-speech.xml');

export const CALLER_TEXT = 'Hei, jeg ringer fordi faren min har fått vondt i brystet og er kortpustet.';
export const CALL_TAKER_TEXT = 'Legevakten, du snakker med sykepleier. Hvor gammel er han, og når begynte smertene?';

export interface Speech {
  file: string;
  bytes: Buffer;
  durationMs: number;
}

/** Speak `text` (bokmål) into a raw µ-law file in `dir`. */
export async function makeSpeech(dir: string, name: string, text: string): Promise<Speech> {
  const bytes = await speakUlaw({ text, voice: 'nb' });
  const file = path.join(dir, `${name}.ulaw`);
  await writeFile(file, bytes);
  return { file, bytes, durationMs: (bytes.length / 8000) * 1000 };
}

export interface KamailioProc {
  /** Its cfg, list, pid file, ctl socket and `control.secret` (use as `calls.configDir`). */
  readonly dir: string;
  readonly sipPort: number;
  readonly rpcPort: number;
  readonly rpc: KamailioRpc;
  readonly input: KamailioRenderInput;
  readonly cfgPath: string;
  log(): string;
  stop(): Promise<void>;
}

/**
 * Start Kamailio on a rendered input (the caller fills ports/paths and the
 * control secret, e.g. from writeTestControlSecret(dir)). The cfg is 0600 (it
 * holds the secret); `<dir>/control.secret` is written if the caller has not.
 */
export async function startKamailioWith(t: TeardownHost, dir: string, input: KamailioRenderInput): Promise<KamailioProc> {
  const rendered = renderKamailio(input);
  const cfgPath = path.join(dir, 'kamailio.cfg');
  await writeFile(cfgPath, rendered.cfg, { mode: 0o600 });
  await writeFile(input.dispatcherListPath, rendered.dispatcherList);
  await writeFile(controlSecretPathOf({ configDir: dir }), `${input.controlSecret}\n`, { mode: 0o600 });
  const rpc = new KamailioRpc({ port: input.rpcPort, timeoutMs: 1000, secret: controlKeys(input.controlSecret).rpc });
  const c = spawn('/usr/sbin/kamailio', ['-DD', '-E', '-f', cfgPath, '-Y', dir, '-P', path.join(dir, 'kamailio.pid')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let logText = '';
  c.stderr?.on('data', (d: Buffer) => {
    logText = (logText + d.toString('utf8')).slice(-131_072);
  });
  let exited: string | null = null;
  c.on('exit', (code, sig) => {
    exited = `kamailio exited (${sig ?? code})`;
  });
  const stop = async () => {
    if (c.exitCode !== null || c.signalCode !== null) return;
    const done = once(c, 'exit');
    c.kill('SIGTERM');
    const timer = setTimeout(() => {
      try {
        if (c.pid) process.kill(-c.pid, 'SIGKILL');
      } catch {
        c.kill('SIGKILL');
      }
    }, 5000);
    await done;
    clearTimeout(timer);
  };
  t.teardown(stop);
  await waitFor(
    async () => {
      if (exited) throw new Error(`${exited}; log:\n${logText.slice(-3000)}`);
      await rpc.coreUptime();
      return true;
    },
    { timeoutMs: 30_000, intervalMs: 50, what: `Kamailio JSON-RPC on 127.0.0.1:${input.rpcPort}` },
  ).catch((e: Error) => {
    throw new Error(`${e.message}\nKamailio log:\n${logText.slice(-3000)}`);
  });
  return { dir, sipPort: input.listen.port, rpcPort: input.rpcPort, rpc, input, cfgPath, log: () => logText, stop };
}

export interface TalkingCentre {
  readonly uri: string;
  readonly port: number;
  readonly proc: SippProcess;
}

/**
 * A SIPp centre whose call-taker talks — or, `silent`, one whose phone answers
 * with an SDP and then sends no RTP at all (one-way audio: a muted or broken
 * handset, a NAT that eats the call-taker's media).
 */
export async function startTalkingCentre(t: TeardownHost, role: string, speechFile: string, o: { silent?: boolean } = {}): Promise<TalkingCentre> {
  const scratch = await scratchDir(`sipp-${role}-talks`);
  const port = await freePort();
  // SIPp caches rtp_stream files when it loads the scenario: -key is too late for the path.
  const scenarioFile = path.join(scratch.dir, 'uas-speech.xml');
  let xml = (await readFile(UAS_SPEECH, 'utf8')).replaceAll('@SPEECH_FILE@', speechFile);
  if (o.silent) xml = xml.replace(/<nop>\s*<action>\s*<exec rtp_stream="[^"]*"\/>\s*<\/action>\s*<\/nop>/, '');
  if (o.silent && xml.includes('rtp_stream=')) throw new Error('uas-speech.xml changed: the silent centre would still stream');
  await writeFile(scenarioFile, xml);
  const proc = startSipp({
    scenarioFile,
    workDir: scratch.dir,
    localIp: '127.0.0.1',
    localPort: port,
    keys: { role },
    autoAnswer: true,
  });
  t.teardown(async () => {
    await proc.kill();
    await scratch.cleanup();
  });
  await waitSipReady({ port, proc });
  return { uri: `sip:${role}@127.0.0.1:${port}`, port, proc };
}

export interface RecordingLab {
  dir: string;
  rtp: RtpengineHandle;
  kam: KamailioProc;
  local: TalkingCentre;
  backup: TalkingCentre;
  announcement: UasHandle;
  prompt: TestPrompt;
  callerSpeech: Speech;
  takerSpeech: Speech;
  eventsPort: number;
  testNumber: string;
}

export interface RecordingLabOptions {
  /** rtpengine spool dir (default: scratch). */
  spoolDir?: string;
  /** More rtpengine settings (e.g. its default delete-delay, for the bench's peer). */
  rtpengine?: Omit<RtpengineTestOptions, 'spoolDir'>;
  /** UDP port the cfg sends call events to (default: a fresh one). */
  eventsPort?: number;
  children?: number;
  /** The centres answer but their call-takers send no RTP (one-way audio). */
  silentCentres?: boolean;
}

export async function startRecordingLab(t: TeardownHost, o: RecordingLabOptions = {}): Promise<RecordingLab> {
  const scratch = await scratchDir('reclab');
  t.teardown(() => scratch.cleanup());
  const [callerSpeech, takerSpeech, prompt] = await Promise.all([
    makeSpeech(scratch.dir, 'caller', CALLER_TEXT),
    makeSpeech(scratch.dir, 'calltaker', CALL_TAKER_TEXT),
    makeTestPrompt(t),
  ]);
  const rtp = await startRtpengine(t, { ...o.rtpengine, ...(o.spoolDir ? { spoolDir: o.spoolDir } : {}) });
  const [local, backup, announcement] = await Promise.all([
    startTalkingCentre(t, 'local', takerSpeech.file, { silent: o.silentCentres ?? false }),
    startTalkingCentre(t, 'backup', takerSpeech.file, { silent: o.silentCentres ?? false }),
    startAnnouncement(t, prompt.file),
  ]);
  await waitSipReady(announcement);
  const sipPort = await freePort();
  let rpcPort = await freePort();
  while (rpcPort === sipPort) rpcPort = await freePort();
  const eventsPort = o.eventsPort ?? (await freePort());
  const testNumber = 'vaktpost-lydlogg-test';
  const input: KamailioRenderInput = {
    listen: { address: '127.0.0.1', port: sipPort, transports: ['udp'] },
    trunkSources: [],
    centres: { local: [local.uri], backup: [backup.uri] },
    announcement: { uris: [announcement.uri], answerTimeoutMs: 3000 },
    finalReply: { code: 480, reason: 'Temporarily Unavailable' },
    timers: OUR_TIMERS,
    rpcPort,
    controlSecret: await writeTestControlSecret(scratch.dir),
    runDir: scratch.dir,
    dispatcherListPath: path.join(scratch.dir, 'dispatcher.list'),
    children: o.children ?? 4,
    rtpengine: {
      ng: { host: '127.0.0.1', port: rtp.ngPort },
      offerTimeoutMs: 300,
      retryAfterS: 2,
      eventsPort,
      testNumber,
    },
  };
  const kam = await startKamailioWith(t, scratch.dir, input);
  return { dir: scratch.dir, rtp, kam, local, backup, announcement, prompt, callerSpeech, takerSpeech, eventsPort, testNumber };
}

export interface TalkingCallOptions {
  caller?: string;
  number?: string;
  calls?: number;
  rate?: number;
  /** Hold after ACK (default: the caller's speech + 300 ms). */
  holdMs?: number;
  probe?: boolean;
  audioFile?: string;
}

export interface TalkingCallResult {
  result: SippResult;
  /** Call number → Call-ID. */
  callIds: Map<number, string>;
  /** Call number → epoch ms answered / done (from SIPp's own log). */
  answeredAt: Map<number, number>;
  doneAt: Map<number, number>;
}

function epochOf(rest: string): number | undefined {
  const n = Number(rest.trim().split(/\s+/).pop());
  return Number.isFinite(n) && n > 1e9 ? Math.round(n * 1000) : undefined;
}

export interface TalkingCallRun {
  proc: SippProcess;
  done: Promise<TalkingCallResult>;
}

/** Place talking calls through the lab's Kamailio (SIPp UAC streaming speech). */
export async function startTalkingCalls(t: TeardownHost, lab: Pick<RecordingLab, 'kam' | 'callerSpeech'>, o: TalkingCallOptions = {}): Promise<TalkingCallRun> {
  const scratch = await scratchDir('sipp-talker');
  const scenarioFile = path.join(scratch.dir, 'uac.xml');
  const audioFile = o.audioFile ?? lab.callerSpeech.file;
  await writeFile(
    scenarioFile,
    uacScenarioXml({
      name: 'Vaktpost streaming caller',
      caller: o.caller ?? '4791234567',
      subject: 'Vaktpost streaming call',
      probe: o.probe ?? false,
      streamFile: audioFile,
      holdMs: o.holdMs ?? lab.callerSpeech.durationMs + 300,
    }),
  );
  const calls = o.calls ?? 1;
  const proc = startSipp({
    scenarioFile,
    workDir: scratch.dir,
    localIp: '127.0.0.1',
    localPort: await freePort(),
    remote: `127.0.0.1:${lab.kam.sipPort}`,
    service: o.number ?? '116117',
    calls,
    rate: o.rate ?? 10,
    limit: Math.max(calls, 10),
    recvTimeoutMs: 30_000,
    timeoutS: 120,
  });
  t.teardown(async () => {
    await proc.kill();
    await scratch.cleanup();
  });
  const done = proc.done.then((result) => {
    const answeredAt = new Map<number, number>();
    const doneAt = new Map<number, number>();
    for (const l of result.logLines) {
      const a = /^answered (\d+) \S* ?(.*)$/.exec(l);
      if (a) {
        const ms = epochOf(a[2] ?? '');
        if (ms) answeredAt.set(Number(a[1]), ms);
      }
      const d = /^done (\d+) (.*)$/.exec(l);
      if (d) {
        const ms = epochOf(d[2] ?? '');
        if (ms) doneAt.set(Number(d[1]), ms);
      }
    }
    return { result, callIds: callIdsFromLog(result.logLines), answeredAt, doneAt };
  });
  return { proc, done };
}

export async function talkingCalls(t: TeardownHost, lab: Pick<RecordingLab, 'kam' | 'callerSpeech'>, o: TalkingCallOptions = {}): Promise<TalkingCallResult> {
  return (await startTalkingCalls(t, lab, o)).done;
}
