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

export const TEST_CALL_SCENARIO = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- Vaktpost verification call (hardware/sip/testCall.ts). -->
<scenario name="vaktpost test call">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Vaktpost test" <sip:vaktpost-test@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:vaktpost-test@[local_ip]:[local_port]>
      Max-Forwards: 70
      Subject: Vaktpost verification call
      X-Vaktpost-Probe: 1
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=vaktpost 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>

  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>

  <recv response="200" rtd="true" rrs="true">
    <action>
      <ereg regexp="[A-Za-z0-9_-]+" search_in="hdr" header="X-Vaktpost-Route:" check_it="false" assign_to="route"/>
      <log message="route [$route]"/>
    </action>
  </recv>

  <send>
    <![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Vaktpost test" <sip:vaktpost-test@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      [routes]
      Contact: <sip:vaktpost-test@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <pause/>

  <send retrans="500">
    <![CDATA[

      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Vaktpost test" <sip:vaktpost-test@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      [routes]
      Contact: <sip:vaktpost-test@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" crlf="true">
    <action>
      <log message="done"/>
    </action>
  </recv>
</scenario>
`;

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
    const r = await proc.done;
    clearTimeout(hard);
    const routeLine = r.logLines.find((l) => l.startsWith('route '));
    const answeredBy = routeLine?.slice('route '.length).trim() || undefined;
    const completed = r.logLines.includes('done');
    const ok = r.exitCode === 0 && completed;
    const durationMs = performance.now() - t0;
    const codes = Object.entries(r.unexpectedCodes)
      .map(([c, n]) => `${c}×${n}`)
      .join(', ');
    const target = `sip:${o.number}@${o.kamailioHost}:${o.kamailioPort}`;
    const detail = ok
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
