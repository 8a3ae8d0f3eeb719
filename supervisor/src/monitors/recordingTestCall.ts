/**
 * The end-to-end proof that recording works: every `intervalMin` the box calls
 * itself through Kamailio (probe header, the configured test number → the
 * announcement, so no nurse is rung), streams known audio (tones), hangs up,
 * and waits for the archive to hold that call with the caller channel equal to
 * the known audio byte for byte and the other channel carrying the prompt.
 * Anything short of that is `recording.testCall` fail, with the step that broke.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeSippExit, startSipp } from '../../../hardware/sip/sipp.js';
import { knownAudio } from '../audiolog/g711.js';
import { callIdsFromLog, uacScenarioXml } from '../../../hardware/sip/uacScenario.js';
import { channelOf, readWavInfo } from '../audiolog/wav.js';
import type { Signal } from '../core/signal.js';
import type { RecordingRow } from '../store/audiologStore.js';
import { type Clock, type Monitor, type SignalSink, systemTimers, type TimerHandle, timersOf } from './monitor.js';
import { type Repeating, repeatEvery } from '../../../hardware/timers.js';

export interface RecordingTestCallDeps {
  kamailio: { host: string; port: number };
  testNumber: string;
  intervalMs: number;
  durationMs: number;
  timeoutMs: number;
  /** Delay before the first test after start (ms). */
  firstAfterMs?: number;
  clock: Clock;
  /** Resolves with the archived recording of `callId`, or null at the deadline. */
  waitForRecording: (callId: string, timeoutMs: number) => Promise<RecordingRow | null>;
  /** Kamailio's reason a call went unrecorded, if it gave one. */
  whyNotRecorded?: (callId: string) => string | null;
  /** Absolute path of an archived file. */
  archivePath: (rec: RecordingRow, file: string) => string;
  sippBinary?: string;
}

export interface TestCallResult {
  ok: boolean;
  callId: string | null;
  recordingId: string | null;
  detail: string;
  durationMs: number;
}

/** Where `needle` sits in `hay` exactly (first 160-byte frame found, then all of it), or -1. */
export function findExact(hay: Buffer, needle: Buffer): number {
  const head = needle.subarray(0, Math.min(160, needle.length));
  for (let at = hay.indexOf(head); at >= 0; at = hay.indexOf(head, at + 1)) {
    if (hay.subarray(at, at + needle.length).equals(needle)) return at;
  }
  return -1;
}

export class RecordingTestCallMonitor implements Monitor {
  readonly name = 'recording-test-call';
  private first: TimerHandle | null = null;
  private every: Repeating | null = null;
  private emit: SignalSink | null = null;
  private running: Promise<TestCallResult> | null = null;
  last: TestCallResult | null = null;

  constructor(private readonly d: RecordingTestCallDeps) {}

  async start(emit: SignalSink): Promise<void> {
    this.emit = emit;
    const timers = timersOf(this.d.clock) ?? systemTimers;
    this.first = timers.setTimeout(() => {
      this.first = null;
      void this.runNow();
    }, this.d.firstAfterMs ?? 10_000);
    this.every = repeatEvery(timers, this.d.intervalMs, () => void this.runNow());
  }

  async stop(): Promise<void> {
    // The first test call too: a stopped monitor must not place one 10 s later.
    if (this.first) (timersOf(this.d.clock) ?? systemTimers).clearTimeout(this.first);
    this.first = null;
    this.every?.stop();
    this.every = null;
    this.emit = null;
  }

  /** Run one test call now (or join the one running). */
  runNow(): Promise<TestCallResult> {
    if (!this.running) {
      this.running = this.once().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async once(): Promise<TestCallResult> {
    const t0 = this.d.clock.monotonic();
    const r = await this.call().catch((err: Error) => ({ ok: false, callId: null, recordingId: null, detail: err.message }));
    const result: TestCallResult = { ...r, durationMs: Math.round(this.d.clock.monotonic() - t0) };
    this.last = result;
    const sig: Signal = {
      subsystem: 'recording',
      source: 'audiolog-test-call',
      key: 'recording.testCall',
      status: result.ok ? 'ok' : 'fail',
      value: result.ok,
      observedAt: this.d.clock.now(),
      // Trusted until the next test is overdue.
      ttlMs: this.d.intervalMs * 2 + this.d.timeoutMs,
      detail: result.detail,
    };
    this.emit?.(sig);
    return result;
  }

  private async call(): Promise<Omit<TestCallResult, 'durationMs'>> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-rectest-'));
    try {
      const audio = knownAudio(this.d.durationMs);
      const audioFile = path.join(dir, 'known.ulaw');
      await writeFile(audioFile, audio);
      const scenarioFile = path.join(dir, 'uac.xml');
      await writeFile(
        scenarioFile,
        uacScenarioXml({
          name: 'Vaktpost recording test call',
          caller: 'vaktpost-test',
          subject: 'Vaktpost recording test call',
          probe: true,
          streamFile: audioFile,
          holdMs: this.d.durationMs + 400,
        }),
      );
      const proc = startSipp({
        scenarioFile,
        workDir: dir,
        localIp: '127.0.0.1',
        remote: `${this.d.kamailio.host}:${this.d.kamailio.port}`,
        service: this.d.testNumber,
        calls: 1,
        recvTimeoutMs: Math.min(this.d.timeoutMs, 15_000),
        timeoutS: Math.ceil(this.d.timeoutMs / 1000),
        ...(this.d.sippBinary ? { binary: this.d.sippBinary } : {}),
      });
      const res = await proc.done;
      const callId = callIdsFromLog(res.logLines).get(1) ?? null;
      if (res.stats?.successful !== 1) {
        return {
          ok: false,
          callId,
          recordingId: null,
          detail: `the test call through Kamailio failed (${describeSippExit(res.exitCode, res.signal)}${res.stderrTail ? `: ${res.stderrTail.split('\n').pop()}` : ''})`,
        };
      }
      if (!callId) return { ok: false, callId, recordingId: null, detail: 'the test call left no Call-ID in its log' };
      const rec = await this.d.waitForRecording(callId, this.d.timeoutMs);
      if (!rec) {
        const why = this.d.whyNotRecorded?.(callId);
        return {
          ok: false,
          callId,
          recordingId: null,
          detail: why
            ? `the test call ${callId} was not recorded: ${why}`
            : `the test call ${callId} was not archived within ${Math.round(this.d.timeoutMs / 1000)} s — rtpengine, the spool or the ingest is not working`,
        };
      }
      const wav = await readFile(this.d.archivePath(rec, 'audio.wav'));
      const info = readWavInfo(wav);
      if (info.format !== 'mulaw') return { ok: false, callId, recordingId: rec.id, detail: `the test recording is ${info.format}, expected µ-law` };
      const caller = channelOf(wav, info, 0);
      if (findExact(caller, audio) < 0) {
        return {
          ok: false,
          callId,
          recordingId: rec.id,
          detail: `the test recording ${rec.id} does not hold the known audio bit for bit (caller channel) — audio is being altered or lost`,
        };
      }
      const other = channelOf(wav, info, 1);
      const heard = other.some((b) => b !== 0xff && b !== 0x7f);
      if (!heard)
        return {
          ok: false,
          callId,
          recordingId: rec.id,
          detail: `the test recording ${rec.id} has a silent call-taker channel (the announcement was not recorded)`,
        };
      return { ok: true, callId, recordingId: rec.id, detail: `test call ${callId} archived as ${rec.id}: known audio bit-exact, both channels present` };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}
