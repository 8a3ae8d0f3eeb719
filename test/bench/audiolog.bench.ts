/**
 * Audio log bench (real Kamailio + rtpengine + SIPp on loopback for 1):
 *  1. Call end → archived and chained: Kamailio's BYE (its `ended` event) to
 *     the recording's chain entry. Peer: rtpengine's default delete-delay (30 s:
 *     the metadata file only appears then), same ingest, side by side.
 *  2. A 60-minute call (two sides, 360 000 RTP packets, ~77 MB pcap) converted
 *     while the event loop is watched (perf_hooks): max event-loop delay with the
 *     worker thread vs converting on the main thread (the peer).
 *  3. `verify` of 1000 archived recordings (chain + index + SHA-256 of 2000
 *     files): ms per 1000 records. Peer: `sha256sum -c` over the same files.
 *
 *   npx tsx test/bench/audiolog.bench.ts      (~1.5 min)
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { recordingId, relativeDir, sha256File } from '../../supervisor/src/audiolog/archive.js';
import { convertFile } from '../../supervisor/src/audiolog/convertFile.js';
import { Converter } from '../../supervisor/src/audiolog/converter.js';
import { verifyAudiolog } from '../../supervisor/src/audiolog/verify.js';
import { wavHeader } from '../../supervisor/src/audiolog/wav.js';
import { AudiologStore } from '../../supervisor/src/store/audiologStore.js';
import { openDb } from '../../supervisor/src/store/db.js';
import { startTalkingCalls } from '../helpers/rtpengine.js';
import { percentiles, scratchDir, waitFor } from '../helpers/util.js';
import { startHarness } from '../integration/audiolog/harness.js';
import { metadataText, pcapFile, type TestPacket } from '../unit/audiolog/pcapBuilder.js';

const run = promisify(execFile);

class Scope {
  private fns: Array<() => unknown> = [];
  teardown(fn: () => unknown): void {
    this.fns.push(fn);
  }
  async close(): Promise<void> {
    for (const fn of this.fns.reverse()) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
  }
}

function line(name: string, value: number, unit: string, goal: number, peer?: Record<string, unknown>): void {
  // Every audiolog figure is a time: lower is better.
  process.stdout.write(`${JSON.stringify({ name, value: Math.round(value * 10) / 10, unit, goal, better: 'lower', ...(peer ? { peer } : {}) })}\n`);
}

/** Kamailio's BYE → chain entry, per call (ms). */
async function endToArchived(deleteDelayS: number | undefined, calls: number): Promise<number[]> {
  const scope = new Scope();
  try {
    const h = await startHarness(scope, {
      lab: deleteDelayS === undefined ? {} : { rtpengine: { deleteDelayS } },
      audiolog: { checks: { recordingGraceMs: 60_000 } },
    });
    const run1 = await startTalkingCalls(scope, h.lab, { calls, rate: 2, holdMs: 1500 });
    const res = await run1.done;
    const ids = [...res.callIds.values()];
    await waitFor(() => ids.every((id) => h.audiolog.store.recordingsByCallId(id).length > 0), { timeoutMs: 90_000, what: 'every call archived' });
    return ids.map((id) => {
      const call = h.audiolog.store.call(id);
      const rec = h.audiolog.store.recordingsByCallId(id)[0];
      const entry = rec ? h.audiolog.store.entry(rec.chainSeq) : null;
      if (!call?.endedAt || !entry) throw new Error(`no end or no chain entry for ${id}`);
      return entry.at - call.endedAt;
    });
  } finally {
    await scope.close();
  }
}

async function sixtyMinutes(dir: string): Promise<{ pcap: string; meta: string }> {
  const pkts: TestPacket[] = [];
  const start = 1_795_000_000_000;
  const payloadA = Buffer.alloc(160, 0x35);
  const payloadB = Buffer.alloc(160, 0xb5);
  for (let i = 0; i < 180_000; i++) {
    pkts.push({ tsUs: (start + i * 20) * 1000, srcPort: 4000, dstPort: 30014, seq: i, ts: i * 160, ssrc: 1, payload: payloadA });
    pkts.push({ tsUs: (start + i * 20) * 1000 + 3, srcPort: 5000, dstPort: 30000, seq: i, ts: i * 160, ssrc: 2, payload: payloadB });
  }
  const pcap = path.join(dir, 'hour.pcap');
  await writeFile(pcap, pcapFile(pkts));
  const meta = metadataText({ offerPort: 30000, answerPort: 30014, startMs: start, endMs: start + 3_600_000 });
  return { pcap, meta };
}

/** Max gap between ticks of a 2 ms interval timer: how long the event loop was unable to run. */
function loopWatch(): { stop: () => number } {
  let last = performance.now();
  let max = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    max = Math.max(max, now - last - 2);
    last = now;
  }, 2);
  return {
    stop: () => {
      clearInterval(timer);
      return Math.max(max, performance.now() - last - 2);
    },
  };
}

async function conversionDelay(dir: string, hour: { pcap: string; meta: string }, inWorker: boolean): Promise<{ maxDelayMs: number; ms: number }> {
  const job = { pcapFile: hour.pcap, metadataText: hour.meta, wavFile: path.join(dir, inWorker ? 'w.wav' : 'm.wav') };
  const conv = new Converter();
  await conv.convert({ ...job, wavFile: path.join(dir, 'warm.wav'), pcapFile: path.join(dir, 'nope.pcap') }); // start the worker outside the measurement
  await new Promise((r) => setTimeout(r, 50));
  const watch = loopWatch();
  await new Promise((r) => setTimeout(r, 10));
  const t0 = performance.now();
  if (inWorker) await conv.convert(job);
  else convertFile(job);
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 10));
  const maxDelayMs = watch.stop();
  await conv.close();
  return { maxDelayMs, ms };
}

async function verify1000(dir: string): Promise<{ perThousandMs: number; chainOnlyMs: number; peerMs: number }> {
  const archive = path.join(dir, 'archive');
  const db = openDb(path.join(dir, 'v.db'));
  const store = new AudiologStore(db);
  const sums: string[] = [];
  const audio = Buffer.alloc(3 * 8000 * 2, 0x55); // a 3-second stereo call
  for (let i = 0; i < 1000; i++) {
    const id = recordingId(`bench-${i}`, Date.UTC(2026, 0, 1) + i * 60_000);
    const rel = relativeDir(id);
    await mkdir(path.join(archive, rel), { recursive: true });
    audio.writeUInt32LE(i, 100);
    const wav = Buffer.concat([wavHeader('mulaw', 2, 8000, 24_000), audio]);
    await writeFile(path.join(archive, rel, 'audio.wav'), wav);
    await writeFile(path.join(archive, rel, 'metadata.txt'), `bench ${i}\n`);
    const files = {
      'audio.wav': await sha256File(path.join(archive, rel, 'audio.wav')),
      'metadata.txt': await sha256File(path.join(archive, rel, 'metadata.txt')),
    };
    for (const [n, h] of Object.entries(files)) sums.push(`${h}  ${rel}/${n}`);
    store.insertRecording(
      {
        id,
        source: `bench-${i}`,
        callId: `b${i}`,
        kind: 'call',
        status: 'complete',
        startedAt: i,
        endedAt: i,
        caller: '1',
        called: '2',
        route: 'local',
        centre: null,
        audioMs: 3000,
        connectedMs: 3000,
        dir: rel,
        bytes: wav.length,
        summary: { files },
      },
      { id, dir: rel, files, callId: `b${i}` },
      i,
    );
  }
  await writeFile(path.join(archive, 'SUMS'), `${sums.join('\n')}\n`);
  const t0 = performance.now();
  const r = await verifyAudiolog({ store, archiveDir: archive });
  const full = performance.now() - t0;
  if (!r.ok || r.recordings !== 1000) throw new Error(`verify failed: ${JSON.stringify(r.problems.slice(0, 3))}`);
  const t1 = performance.now();
  await verifyAudiolog({ store, archiveDir: archive, chainOnly: true });
  const chainOnly = performance.now() - t1;
  const t2 = performance.now();
  await run('sha256sum', ['-c', '--quiet', 'SUMS'], { cwd: archive });
  const peer = performance.now() - t2;
  db.close();
  return { perThousandMs: full, chainOnlyMs: chainOnly, peerMs: peer };
}

async function main(): Promise<void> {
  const scratch = await scratchDir('audiolog-bench');
  try {
    // 1. Call end → archived and chained.
    const [ours, peer] = await Promise.all([endToArchived(undefined, 10), endToArchived(30, 3)]);
    const p = percentiles(ours);
    const q = percentiles(peer);
    line('audiolog.call_end_to_archived_p50', p.median, 'ms', 1000, {
      name: 'rtpengine default delete-delay 30 s',
      value: q.median,
      ratio: Math.round((q.median / p.median) * 10) / 10,
    });
    line('audiolog.call_end_to_archived_p95', p.p95, 'ms', 2000, { name: 'rtpengine default delete-delay 30 s', value: q.p95 });

    // 2. 60-minute call conversion vs the event loop.
    const hour = await sixtyMinutes(scratch.dir);
    const w = await conversionDelay(scratch.dir, hour, true);
    const m = await conversionDelay(scratch.dir, hour, false);
    line('audiolog.convert_60min_max_event_loop_delay', w.maxDelayMs, 'ms', 50, {
      name: 'converted on the main thread',
      value: Math.round(m.maxDelayMs),
      ratio: Math.round(m.maxDelayMs / Math.max(1, w.maxDelayMs)),
    });
    line('audiolog.convert_60min_duration', w.ms, 'ms', 30_000, { name: 'main thread', value: Math.round(m.ms) });

    // 3. verify per 1000 records.
    const v = await verify1000(scratch.dir);
    line('audiolog.verify_per_1000_records', v.perThousandMs, 'ms', 10_000, {
      name: 'sha256sum -c (files only, no chain)',
      value: Math.round(v.peerMs),
      ratio: Math.round((v.perThousandMs / v.peerMs) * 100) / 100,
    });
    line('audiolog.verify_chain_only_per_1000_records', v.chainOnlyMs, 'ms', 1000);
  } finally {
    await scratch.cleanup();
  }
}

await main();
