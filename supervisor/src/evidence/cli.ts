/**
 * `vaktpost report | deviations | deviation ack|close|open | duties` — the
 * evidence commands, called from cli/main.ts. Reading commands work straight
 * from the store (like `vaktpost events`), so a report can be made while the
 * supervisor is down; they read Kamailio's newest call records first.
 * Signing a deviation goes through the running supervisor's API (the
 * sign-off is an audited event there), naming the person with --as.
 *
 *   vaktpost report [--month YYYY-MM | --from D --to D] [--format csv|html|json] [--out FILE]
 *   vaktpost deviations [--state open|acknowledged|closed|notClosed|all] [--format csv|html|json] [--out FILE]
 *   vaktpost deviation ack ID --as NAME [--comment TEXT]
 *   vaktpost deviation close ID --as NAME --comment TEXT
 *   vaktpost deviation open --as NAME --comment TITLE
 *   vaktpost duties [--json | --format csv]
 * `report` exits 4 when a target was missed in the period (for scripts).
 */
import { oneLine } from '../cli/terminalText.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { CallsConfig } from '../config/calls.js';
import type { EvidenceConfig } from '../config/evidence.js';
import { openDb } from '../store/db.js';
import { type DeviationState, EvidenceStore } from '../store/evidenceStore.js';
import { localTimestamp } from './format.js';
import { CallRecordIngester } from './ingest.js';
import { parsePeriod } from './period.js';
import { buildReport } from './report.js';
import { deviationsCsv, dutiesCsv, reportCsv } from './reportCsv.js';
import { deviationsHtml, reportHtml } from './reportHtml.js';

export interface EvidenceCliConfig {
  box: { name: string; dataDir: string };
  calls?: CallsConfig | undefined;
  evidence: EvidenceConfig;
}

export interface EvidenceCliValues {
  month?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  format?: string | undefined;
  out?: string | undefined;
  state?: string | undefined;
  comment?: string | undefined;
  as?: string | undefined;
  json?: boolean | undefined;
}

/** The CLI's authenticated call to the running supervisor (cli/main.ts `api`). */
export type CliApi = (method: string, p: string, body?: unknown) => Promise<unknown>;

export class EvidenceUsageError extends Error {}

export const EVIDENCE_COMMANDS = ['report', 'deviations', 'deviation', 'duties'] as const;

function output(text: string, out: string | undefined, write: (s: string) => void): void {
  if (out) {
    writeFileSync(out, text);
    write(`written: ${path.resolve(out)}\n`);
  } else write(text);
}

function format<T extends string>(v: string | undefined, allowed: readonly T[], dflt: T): T {
  const f = (v ?? dflt) as T;
  if (!allowed.includes(f)) throw new EvidenceUsageError(`--format must be one of ${allowed.join(', ')}`);
  return f;
}

/** Runs one evidence command; returns the process exit code. */
export async function runEvidenceCli(
  cmd: string,
  positionals: readonly string[],
  v: EvidenceCliValues,
  d: { cfg: EvidenceCliConfig; api: CliApi; write?: (s: string) => void; now?: () => number },
): Promise<number> {
  const write = d.write ?? ((s: string) => void process.stdout.write(s));
  const now = (d.now ?? Date.now)();
  const tz = d.cfg.evidence.timeZone;
  const withStore = async <R>(fn: (s: EvidenceStore) => Promise<R> | R): Promise<R> => {
    const db = openDb(path.join(d.cfg.box.dataDir, 'vaktpost.db'));
    try {
      return await fn(new EvidenceStore(db));
    } finally {
      db.close();
    }
  };

  switch (cmd) {
    case 'report': {
      const f = format(v.format, ['csv', 'html', 'json'] as const, 'html');
      let period: { from: number; to: number };
      try {
        period = parsePeriod({ month: v.month, from: v.from, to: v.to }, tz, now);
      } catch (err) {
        throw new EvidenceUsageError((err as Error).message);
      }
      const records = d.cfg.calls?.callRecords.enabled ? d.cfg.calls.callRecords.dir : null;
      const report = await withStore(async (store) => {
        // Read what Kamailio wrote since the supervisor last did (it may be down).
        if (records) await new CallRecordIngester({ dir: records, store, now: () => now }).ingestNow().catch(() => undefined);
        return buildReport({ evidence: store, cfg: d.cfg.evidence, box: d.cfg.box.name, callRecordsEnabled: records !== null }, period, now);
      });
      output(f === 'csv' ? reportCsv(report) : f === 'html' ? reportHtml(report) : `${JSON.stringify(report, null, 2)}\n`, v.out, write);
      const a = report.total.availability;
      return a.targetMet === false || report.total.answer.shareMet === false || !report.total.answer.maxMet ? 4 : 0;
    }
    case 'deviations': {
      const f = format(v.format, ['text', 'csv', 'html', 'json'] as const, 'text');
      const states = ['open', 'acknowledged', 'closed', 'notClosed', 'all'] as const;
      const state = (v.state ?? 'all') as (typeof states)[number];
      if (!states.includes(state)) throw new EvidenceUsageError(`--state must be one of ${states.join(', ')}`);
      const ds = await withStore((s) => s.deviations({ state: state as DeviationState | 'all' | 'notClosed', limit: 100_000 }));
      if (f === 'csv') output(deviationsCsv(ds, tz), v.out, write);
      else if (f === 'html') output(deviationsHtml(d.cfg.box.name, ds, tz, null, now), v.out, write);
      else if (f === 'json') output(`${JSON.stringify(ds, null, 2)}\n`, v.out, write);
      else {
        for (const x of ds) {
          // Stored text stays on its line: a title with a line break cannot forge another entry.
          const who = x.closed
            ? `closed ${localTimestamp(x.closed.at, tz)} by ${oneLine(x.closed.by)}: ${oneLine(x.closed.comment)}`
            : x.ack
              ? `acknowledged ${localTimestamp(x.ack.at, tz)} by ${oneLine(x.ack.by)}`
              : 'OPEN';
          write(`#${x.id} ${localTimestamp(x.openedAt, tz)} ${oneLine(x.kind)} ×${x.occurrences} — ${oneLine(x.titleEn)}\n    ${who}\n`);
        }
        if (ds.length === 0) write('no deviations\n');
      }
      return 0;
    }
    case 'deviation': {
      const [action, idText] = positionals;
      if (!v.as) throw new EvidenceUsageError('--as NAME is required: a deviation is signed by a person (hvem signerer)');
      if (action === 'open') {
        if (!v.comment) throw new EvidenceUsageError('--comment TITLE is required: what happened');
        const r = (await d.api('POST', '/api/deviations', { title: v.comment, by: v.as })) as { deviation: { id: number } };
        write(`deviation ${r.deviation.id} recorded\n`);
        return 0;
      }
      const id = Number(idText);
      if (!Number.isInteger(id) || id < 1) throw new EvidenceUsageError('usage: vaktpost deviation ack|close ID --as NAME [--comment TEXT]');
      if (action === 'ack') {
        await d.api('POST', `/api/deviations/${id}/ack`, { by: v.as, ...(v.comment ? { comment: v.comment } : {}) });
        write(`deviation ${id} acknowledged by ${v.as}\n`);
        return 0;
      }
      if (action === 'close') {
        if (!v.comment) throw new EvidenceUsageError('--comment is required to close a deviation: what was done (hva ble gjort)');
        await d.api('POST', `/api/deviations/${id}/close`, { by: v.as, comment: v.comment });
        write(`deviation ${id} closed by ${v.as}\n`);
        return 0;
      }
      throw new EvidenceUsageError('usage: vaktpost deviation ack|close|open …');
    }
    case 'duties': {
      const runs = await withStore((s) => s.dutyRuns({ limit: 200 }));
      if (v.json) write(`${JSON.stringify(runs, null, 2)}\n`);
      else if (v.format === 'csv') output(dutiesCsv(runs, tz), v.out, write);
      else {
        for (const r of runs.reverse()) {
          write(`${localTimestamp(r.scheduledFor ?? r.startedAt, tz)} ${r.duty.padEnd(15)} ${r.trigger.padEnd(9)} ${r.outcome.padEnd(7)} ${r.detail}\n`);
        }
      }
      return 0;
    }
    default:
      throw new EvidenceUsageError(`unknown evidence command ${cmd}`);
  }
}
