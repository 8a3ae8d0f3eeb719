/**
 * Runs conversions in a worker thread (one at a time, queued): the supervisor
 * keeps probing and answering while an hour of audio is converted. A worker
 * that dies (out of memory, a bug) fails only the job it was running and is
 * replaced for the next one.
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ConvertJob, ConvertSummary } from './convertFile.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Under tsx (tests, running from source) this file is .ts and so is the worker. */
const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');

interface Pending {
  resolve: (s: ConvertSummary) => void;
  reject: (e: Error) => void;
}

export class Converter {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private chain: Promise<unknown> = Promise.resolve();

  /** Queue one conversion; resolves with the summary written by the worker. */
  convert(job: ConvertJob): Promise<ConvertSummary> {
    const run = this.chain.then(() => this.runOne(job));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const file = path.join(here, fromSource ? 'convertWorker.ts' : 'convertWorker.js');
    // From source, the worker registers tsx itself: Node 20 does not pass the parent's
    // loader hooks (or `--import` in execArgv) on to worker threads.
    const w = fromSource
      ? new Worker(
          `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((m) => { m.register(); return import(${JSON.stringify(pathToFileURL(file).href)}); });`,
          { eval: true },
        )
      : new Worker(file);
    w.unref();
    w.on('message', (m: { id: number; ok: boolean; summary?: ConvertSummary; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok && m.summary) p.resolve(m.summary);
      else p.reject(new Error(m.error ?? 'conversion failed'));
    });
    const fail = (why: string) => {
      if (this.worker === w) this.worker = null;
      for (const [id, p] of this.pending) {
        this.pending.delete(id);
        p.reject(new Error(`the conversion worker ${why}`));
      }
    };
    w.on('error', (err) => fail(`crashed: ${err.message}`));
    w.on('exit', (code) => fail(`exited (code ${code})`));
    this.worker = w;
    return w;
  }

  private runOne(job: ConvertJob): Promise<ConvertSummary> {
    const id = this.nextId++;
    return new Promise<ConvertSummary>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ensureWorker().postMessage({ id, job });
    });
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    if (w) await w.terminate();
  }
}
