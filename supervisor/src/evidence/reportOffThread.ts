/**
 * A report is built in a worker thread (DESIGN: long reads run off the event
 * loop, so probes and the policy never stall) — a month of calls with 60 s
 * intervals is ~0.5 s of CPU (test/bench/evidence.bench.ts). One short-lived
 * worker per report; reports are rare.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { EvidenceConfig } from '../config/evidence.js';
import type { EvidenceReport } from './report.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Under tsx (tests, running from source) this file is .ts and so is the worker. */
const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');

export interface OffThreadInput {
  dbFile: string;
  cfg: EvidenceConfig;
  box: string;
  callRecordsEnabled: boolean;
  period: { from: number; to: number };
  now: number;
}

export function reportOffThread(input: OffThreadInput, timeoutMs = 120_000): Promise<EvidenceReport> {
  const file = path.join(here, fromSource ? 'reportWorker.ts' : 'reportWorker.js');
  // Node 20 does not hand the parent's loader hooks to worker threads: from source,
  // the worker registers tsx itself (as audiolog/converter.ts does).
  const w = fromSource
    ? new Worker(
        `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); });`,
        { eval: true, workerData: input },
      )
    : new Worker(file, { workerData: input });
  return new Promise<EvidenceReport>((resolve, reject) => {
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
      void w.terminate();
    };
    const timer = setTimeout(() => done(() => reject(new Error(`the report took longer than ${timeoutMs / 1000} s — ask for a shorter period`))), timeoutMs);
    w.on('message', (m: { ok: boolean; report?: EvidenceReport; error?: string }) =>
      done(() => (m.ok && m.report ? resolve(m.report) : reject(new Error(`the report could not be built: ${m.error ?? 'unknown error'}`)))),
    );
    w.on('error', (err) => done(() => reject(new Error(`the report worker crashed: ${err.message}`))));
    w.on('exit', (code) => done(() => reject(new Error(`the report worker exited (code ${code}) without a report`))));
  });
}
