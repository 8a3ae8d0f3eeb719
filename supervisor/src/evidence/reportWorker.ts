/**
 * Worker thread body: builds one report from its own read-only connection to
 * the store (WAL lets it read while the supervisor writes) and posts it back.
 * See reportOffThread.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { EvidenceConfig } from '../config/evidence.js';
import { EvidenceStore } from '../store/evidenceStore.js';
import { buildReport } from './report.js';

interface Input {
  dbFile: string;
  cfg: EvidenceConfig;
  box: string;
  callRecordsEnabled: boolean;
  period: { from: number; to: number };
  now: number;
}

const i = workerData as Input;
try {
  const db = new Database(i.dbFile, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const report = buildReport({ evidence: new EvidenceStore(db), cfg: i.cfg, box: i.box, callRecordsEnabled: i.callRecordsEnabled }, i.period, i.now);
    parentPort?.postMessage({ ok: true, report });
  } finally {
    db.close();
  }
} catch (err) {
  parentPort?.postMessage({ ok: false, error: (err as Error).message });
}
