/**
 * One real test call through Kamailio with SIPp: INVITE to the configured test
 * number, expect 200, hold briefly, BYE. The INVITE carries `X-Vaktpost-Probe`
 * so the rendered Kamailio cfg stamps `X-Vaktpost-Route: local|backup|announcement`
 * on the answer: the caller learns which destination actually took the call.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describeSippExit, startSipp } from './sipp.js';
import { answeredRoute, callDone, uacScenarioXml } from './uacScenario.js';

/** Holds for SIPp's `-d` (TestCallOptions.holdMs); no RTP is sent. */
export const TEST_CALL_SCENARIO = uacScenarioXml({
  name: 'Vaktpost verification call',
  caller: 'vaktpost-test',
  display: 'Vaktpost test',
  subject: 'Vaktpost verification call',
  probe: true,
});

export interface TestCallOptions {
  /** Kamailio's SIP address as seen from the box (usually 127.0.0.1). */
  kamailioHost: string;
  kamailioPort: number;
  /** Request-URI user: the number the centres answer without alerting anyone. */
  number: string;
  /** Whole call deadline. */
  timeoutMs: number;
  /** How long to hold the answered call before BYE. Default 300 ms. */
  holdMs?: number;
  /** Source address for SIPp (default 127.0.0.1: Kamailio honours the probe header only from there). */
  localIp?: string;
  binary?: string;
  /** Aborted → the SIPp child is killed at once and the result is a failed call. */
  signal?: AbortSignal;
}

export interface TestCallResult {
  ok: boolean;
  /** What Kamailio says took the call: `local`, `backup`, `announcement`, or undefined if unanswered. */
  answeredBy?: string;
  /** Final response codes SIPp did not expect (e.g. 480). */
  unexpectedCodes: Record<number, number>;
  durationMs: number;
  detail: string;
}

export async function runTestCall(o: TestCallOptions): Promise<TestCallResult> {
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-testcall-'));
  const t0 = performance.now();
  try {
    const scenarioFile = path.join(workDir, 'testcall.xml');
    await writeFile(scenarioFile, TEST_CALL_SCENARIO);
    const proc = startSipp({
      scenarioFile,
      workDir,
      localIp: o.localIp ?? '127.0.0.1',
      remote: `${o.kamailioHost}:${o.kamailioPort}`,
      service: o.number,
      calls: 1,
      // -r 1 would make SIPp wait up to a whole rate period before the first call.
      rate: 100,
      pauseMs: o.holdMs ?? 300,
      recvTimeoutMs: o.timeoutMs,
      timeoutS: Math.ceil(o.timeoutMs / 1000) + 1,
      ...(o.binary !== undefined ? { binary: o.binary } : {}),
    });
    const hard = setTimeout(() => void proc.kill(), o.timeoutMs + 3000);
    const onAbort = () => void proc.kill();
    if (o.signal?.aborted) onAbort();
    else o.signal?.addEventListener('abort', onAbort, { once: true });
    const r = await proc.done;
    clearTimeout(hard);
    o.signal?.removeEventListener('abort', onAbort);
    const answeredBy = answeredRoute(r.logLines);
    const completed = callDone(r.logLines);
    const ok = r.exitCode === 0 && completed && !o.signal?.aborted;
    const durationMs = performance.now() - t0;
    const codes = Object.entries(r.unexpectedCodes)
      .map(([c, n]) => `${c}×${n}`)
      .join(', ');
    const target = `sip:${o.number}@${o.kamailioHost}:${o.kamailioPort}`;
    const detail = o.signal?.aborted
      ? `test call ${target} aborted after ${durationMs.toFixed(0)} ms (no longer wanted)`
      : ok
        ? `test call ${target} answered by ${answeredBy ?? 'an unnamed destination'} and hung up cleanly in ${durationMs.toFixed(0)} ms`
        : `test call ${target} failed: SIPp ${describeSippExit(r.exitCode, r.signal)}` +
          (answeredBy ? `, answered by ${answeredBy}` : ', never answered') +
          (codes ? `, unexpected replies ${codes}` : '') +
          (r.stderrTail ? ` (${r.stderrTail.split('\n').pop()})` : '');
    const out: TestCallResult = { ok, unexpectedCodes: r.unexpectedCodes, durationMs, detail };
    if (answeredBy !== undefined) out.answeredBy = answeredBy;
    return out;
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
