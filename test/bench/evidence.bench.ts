/**
 * Bench (issue #10): how long a month's report takes on the box, and how fast
 * Kamailio's call-record lines are read into the store — a busy legevakt month
 * (300 calls a day, 31 days, 60 s availability intervals), in a real SQLite
 * file with the real migrations. No peer runs here (there is no stock tool that
 * computes KoKom figures); the goal is what a person waiting for a page accepts.
 *
 *   npx tsx test/bench/evidence.bench.ts        (TRIALS=5 by default)
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { evidenceSchema } from '../../supervisor/src/config/evidence.js';
import { localTime } from '../../supervisor/src/core/evidence.js';
import { CallRecordIngester } from '../../supervisor/src/evidence/ingest.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildReport } from '../../supervisor/src/evidence/report.js';
import { reportOffThread } from '../../supervisor/src/evidence/reportOffThread.js';
import { reportCsv } from '../../supervisor/src/evidence/reportCsv.js';
import { reportHtml } from '../../supervisor/src/evidence/reportHtml.js';
import { openDb } from '../../supervisor/src/store/db.js';
import { EvidenceStore } from '../../supervisor/src/store/evidenceStore.js';
import { percentiles, scratchDir } from '../helpers/util.js';

const TRIALS = Number(process.env.TRIALS ?? 5);
const TZ = 'Europe/Oslo';
const CALLS_PER_DAY = 300;

function line(callId: string, event: string, code: string, atMs: number, role: string, caller: string): string {
  const s = Math.floor(atMs / 1000);
  const us = String((atMs % 1000) * 1000).padStart(6, '0');
  return `INVITE|tag-${callId}||${callId}|${code}|${event}|${s}|${s}.${us}|${role}|${caller}|${caller}|116117|0\n`;
}

async function main(): Promise<void> {
  const s = await scratchDir('bench-evidence');
  try {
    const records = path.join(s.dir, 'calls');
    const db = openDb(path.join(s.dir, 'vaktpost.db'));
    const store = new EvidenceStore(db);
    const from = localTime(TZ, 2025, 1, 1);
    const to = localTime(TZ, 2025, 2, 1);
    // A month of calls: ~97 % answered by local (wait 5–120 s), 2 % backup, 1 % announcement.
    let text = '';
    let n = 0;
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let day = 0; day < 31; day++) {
      for (let i = 0; i < CALLS_PER_DAY; i++) {
        const at = from + day * 86_400_000 + Math.floor(rnd() * 86_400_000);
        const id = `${n++}-bench@127.0.0.1`;
        const r = rnd();
        const role = r < 0.97 ? 'local' : r < 0.99 ? 'backup' : 'announcement';
        text += line(id, 'arrived', '', at, '', '4790000000');
        text += line(id, 'answered', '200', at + 5000 + Math.floor(rnd() * 115_000), role, '4790000000');
      }
    }
    const { mkdir } = await import('node:fs/promises');
    await mkdir(records, { recursive: true });
    await writeFile(path.join(records, 'vaktpost_calls_129.log'), text);
    const lines = n * 2;
    const t0 = performance.now();
    const r = await new CallRecordIngester({ dir: records, store, now: () => to }).ingestNow();
    const ingestMs = performance.now() - t0;
    if (r.added !== lines) throw new Error(`ingested ${r.added} of ${lines} lines`);
    // Observed the whole month.
    const cov = store.beginCoverage(from);
    store.extendCoverage(cov, to);

    const cfg = evidenceSchema.parse({ timeZone: TZ });
    const times: number[] = [];
    let report = buildReport({ evidence: store, cfg, box: 'bench', callRecordsEnabled: true }, { from, to }, to + 1);
    for (let i = 0; i < TRIALS; i++) {
      const a = performance.now();
      report = buildReport({ evidence: store, cfg, box: 'bench', callRecordsEnabled: true }, { from, to }, to + 1);
      reportCsv(report);
      reportHtml(report);
      times.push(performance.now() - a);
    }
    const p = percentiles(times);

    // What the supervisor's loop feels while a month's report is made: the longest
    // event-loop stall, built in the worker (ours) vs in the loop (the naive way).
    const stall = async (fn: () => Promise<unknown>) => {
      const h = monitorEventLoopDelay({ resolution: 5 });
      h.enable();
      await fn();
      h.disable();
      return h.max / 1e6;
    };
    const offStalls: number[] = [];
    const inStalls: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      offStalls.push(
        await stall(() =>
          reportOffThread({ dbFile: path.join(s.dir, 'vaktpost.db'), cfg, box: 'bench', callRecordsEnabled: true, period: { from, to }, now: to + 1 }),
        ),
      );
      inStalls.push(
        await stall(async () => {
          await new Promise((r) => setTimeout(r, 20));
          buildReport({ evidence: store, cfg, box: 'bench', callRecordsEnabled: true }, { from, to }, to + 1);
          await new Promise((r) => setTimeout(r, 20));
        }),
      );
    }
    const off = percentiles(offStalls);
    const inl = percentiles(inStalls);
    const out = [
      {
        name: 'evidence.month_report_ms',
        value: Number(p.median.toFixed(1)),
        unit: 'ms',
        goal: 2000,
        better: 'lower',
        peer: null,
        detail: { calls: n, intervals: report.total.availability.buckets, p95: Number(p.p95.toFixed(1)), trials: TRIALS },
      },
      {
        name: 'evidence.report_loop_stall_ms',
        value: Number(off.median.toFixed(1)),
        unit: 'ms',
        goal: 50,
        better: 'lower',
        peer: {
          name: 'report built on the event loop',
          value: Number(inl.median.toFixed(1)),
          ratio: Number((inl.median / Math.max(off.median, 0.1)).toFixed(1)),
        },
        detail: { p95: Number(off.p95.toFixed(1)), trials: TRIALS },
      },
      {
        name: 'evidence.ingest_lines_per_s',
        value: Math.round(lines / (ingestMs / 1000)),
        unit: 'lines/s',
        goal: 1000,
        better: 'higher',
        peer: null,
        detail: { lines, ms: Number(ingestMs.toFixed(1)) },
      },
    ];
    for (const o of out) process.stdout.write(`${JSON.stringify(o)}\n`);
    db.close();
  } finally {
    await s.cleanup();
  }
}

await main();
