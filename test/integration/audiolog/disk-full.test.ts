/**
 * Acceptance 4 (issue #7): the spool disk fills up during a call (a tiny tmpfs
 * as rtpengine's recording dir). rtpengine keeps answering "ok" and writes no
 * log line (measured, ops/rtpengine/README.md); rtpengine's own per-stream
 * packet counters (more packets received than the file holds) and the captured
 * audio against the call's length tell. The call must come out as "recording
 * incomplete", and the spool disk signal must say it is full.
 */
import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { talkingCalls } from '../../helpers/rtpengine.js';
import { scratchDir, waitFor } from '../../helpers/util.js';
import { startHarness } from './harness.js';

const run = promisify(execFile);

t.test('a full spool disk → "recording incomplete" for that call', async (t) => {
  const scratch = await scratchDir('tinyspool');
  t.teardown(() => scratch.cleanup());
  const spoolDir = path.join(scratch.dir, 'spool');
  await mkdir(spoolDir);
  // 64 kB: room for rtpengine's folders and metadata, and ~2 s of a call's pcap (≈21 kB/s).
  await run('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', spoolDir]);
  t.teardown(() => run('umount', ['-l', spoolDir]).catch(() => undefined));

  const h = await startHarness(t, { lab: { spoolDir }, audiolog: { checks: { minFreeMb: 1 } } });
  const { lab, audiolog } = h;
  const calls = await talkingCalls(t, lab, { caller: '4790000004' });
  t.equal(calls.result.stats?.successful, 1, 'the call itself went fine (the caller noticed nothing)');
  const callId = calls.callIds.get(1) as string;

  const rec = await audiolog.waitForRecording(callId, 30_000);
  t.ok(rec, 'what fitted on the disk is archived');
  if (!rec) return;
  t.equal(rec.status, 'incomplete', `the recording is judged incomplete: ${JSON.stringify(rec.summary.reasons)}`);
  t.ok(
    rec.audioMs < (calls.doneAt.get(1) ?? 0) - (calls.answeredAt.get(1) ?? 0) - 1500,
    `it holds clearly less audio (${rec.audioMs} ms) than the call lasted`,
  );

  await waitFor(() => audiolog.store.call(callId)?.state === 'incomplete', { timeoutMs: 30_000, what: 'the audit to judge the call incomplete' });
  const ev = h.events.find((e) => e.kind === 'recording.incomplete' && JSON.stringify(e.data).includes(callId));
  t.ok(ev, `"recording incomplete" alarm: ${ev?.en}`);
  t.equal(ev?.severity, 'alarm');
  await waitFor(() => h.latest('recording.incomplete')?.status === 'warn', { timeoutMs: 30_000, what: 'recording.incomplete to warn' });
  t.match(h.latest('recording.incomplete')?.detail ?? '', callId, 'the signal names the call');
  await waitFor(() => h.latest('recording.disk.spool')?.status === 'fail', { timeoutMs: 30_000, what: 'the spool disk signal to fail' });
  t.match(h.latest('recording.disk.spool')?.detail ?? '', /below the 1 MB minimum/, `spool disk: ${h.latest('recording.disk.spool')?.detail}`);
});
