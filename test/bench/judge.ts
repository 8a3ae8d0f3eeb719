/**
 * Judges a bench run: every figure against its goal, every bench file by its exit.
 *
 * A figure is one JSON line `{"name","value","unit","goal"?,"better"?,…}`. A figure
 * with a goal must say which way is better (`"better": "lower"` — the value may be
 * at most the goal — or `"higher"` — at least the goal); a goal without a direction
 * is a miss, so that no figure is judged by a guessed direction. A figure without
 * a goal is informational. A value that is not a finite number (a bench that could
 * not measure: null, NaN) misses its goal.
 *
 * CLI (used by run-all.sh):
 *   node --import tsx test/bench/judge.ts <run dir>
 * reads <run dir>/runs.tsv (one line per bench file: `file<TAB>exit code<TAB>stdout file`),
 * writes <run dir>/latest.jsonl (every figure, with `file` and — where judged — `met`)
 * and <run dir>/summary.json, prints the verdict, and exits 1 on any miss or failed file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type Better = 'lower' | 'higher';

export interface Figure {
  name: string;
  value: unknown;
  unit?: unknown;
  goal?: unknown;
  better?: unknown;
  [k: string]: unknown;
}

export type Verdict = { kind: 'informational' } | { kind: 'met'; better: Better } | { kind: 'missed'; reason: string; better?: Better };

export interface BenchRun {
  /** The bench file, e.g. test/bench/ui.bench.ts. */
  file: string;
  /** Its exit code (124 from `timeout` = it did not stop by itself in time). */
  exitCode: number;
  /** Its stdout: the JSON lines, possibly mixed with other output. */
  stdout: string;
}

export interface Miss {
  name: string;
  file: string;
  value: unknown;
  goal: unknown;
  better?: Better;
  unit?: unknown;
  reason: string;
}

export interface Summary {
  ok: boolean;
  files: number;
  figures: number;
  judged: number;
  met: number;
  missed: number;
  informational: number;
  misses: Miss[];
  failedFiles: Array<{ file: string; exitCode: number; reason: string }>;
}

/** Judges one figure against its goal. */
export function verdict(f: Figure): Verdict {
  if (f.goal === undefined || f.goal === null) return { kind: 'informational' };
  if (typeof f.goal !== 'number' || !Number.isFinite(f.goal)) return { kind: 'missed', reason: `goal is not a number (${JSON.stringify(f.goal)})` };
  if (f.better !== 'lower' && f.better !== 'higher') {
    return { kind: 'missed', reason: `goal without a direction: add "better": "lower" or "higher" (got ${JSON.stringify(f.better)})` };
  }
  const better: Better = f.better;
  if (typeof f.value !== 'number' || !Number.isFinite(f.value)) return { kind: 'missed', better, reason: `no measurement (value ${JSON.stringify(f.value)})` };
  const ok = better === 'lower' ? f.value <= f.goal : f.value >= f.goal;
  return ok ? { kind: 'met', better } : { kind: 'missed', better, reason: `${f.value} ${better === 'lower' ? '>' : '<'} goal ${f.goal}` };
}

/** The JSON-object lines of a bench's stdout; anything else (progress text) is skipped. */
export function parseFigures(stdout: string): { figures: Figure[]; bad: string[] } {
  const figures: Figure[] = [];
  const bad: string[] = [];
  for (const raw of stdout.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as unknown;
      if (typeof o === 'object' && o !== null && !Array.isArray(o) && typeof (o as Figure).name === 'string' && 'value' in o) figures.push(o as Figure);
      else bad.push(line);
    } catch {
      bad.push(line);
    }
  }
  return { figures, bad };
}

export interface Judged {
  summary: Summary;
  /** Every figure, annotated with its file and (where judged) `met`. */
  figures: Array<Figure & { file: string; met?: boolean }>;
}

export function judge(runs: readonly BenchRun[]): Judged {
  const figures: Judged['figures'] = [];
  const misses: Miss[] = [];
  const failedFiles: Summary['failedFiles'] = [];
  let met = 0;
  let informational = 0;
  for (const run of runs) {
    const { figures: fs, bad } = parseFigures(run.stdout);
    if (run.exitCode !== 0) {
      const reason = run.exitCode === 124 ? 'did not finish in time (killed by timeout)' : `exited with code ${run.exitCode}`;
      failedFiles.push({ file: run.file, exitCode: run.exitCode, reason });
    } else if (fs.length === 0) {
      failedFiles.push({ file: run.file, exitCode: run.exitCode, reason: 'printed no figure' });
    } else if (bad.length > 0) {
      failedFiles.push({ file: run.file, exitCode: run.exitCode, reason: `unreadable figure line: ${bad[0]?.slice(0, 120)}` });
    }
    for (const f of fs) {
      const v = verdict(f);
      if (v.kind === 'informational') {
        informational++;
        figures.push({ ...f, file: run.file });
      } else if (v.kind === 'met') {
        met++;
        figures.push({ ...f, file: run.file, met: true });
      } else {
        misses.push({ name: f.name, file: run.file, value: f.value, goal: f.goal, unit: f.unit, reason: v.reason, ...(v.better ? { better: v.better } : {}) });
        figures.push({ ...f, file: run.file, met: false });
      }
    }
  }
  const summary: Summary = {
    ok: misses.length === 0 && failedFiles.length === 0,
    files: runs.length,
    figures: figures.length,
    judged: met + misses.length,
    met,
    missed: misses.length,
    informational,
    misses,
    failedFiles,
  };
  return { summary, figures };
}

/** The human verdict: one line per figure (misses marked), then the totals and every miss. */
export function report(j: Judged): string {
  const out: string[] = [];
  const fmt = (x: unknown) => (typeof x === 'number' ? String(x) : JSON.stringify(x));
  for (const f of j.figures) {
    const mark = f.met === undefined ? '  info' : f.met ? '  ok  ' : '✗ MISS';
    const goal = f.goal === undefined || f.goal === null ? '' : ` (goal ${f.better === 'higher' ? '≥' : f.better === 'lower' ? '≤' : '?'} ${fmt(f.goal)})`;
    out.push(`${mark} ${f.name}: ${fmt(f.value)} ${typeof f.unit === 'string' ? f.unit : ''}${goal}`);
  }
  const s = j.summary;
  out.push('');
  out.push(
    `bench summary: ${s.figures} figures, ${s.met} met, ${s.missed} missed, ${s.informational} informational; ${s.files} files, ${s.failedFiles.length} failed`,
  );
  for (const m of s.misses)
    out.push(`  missed ${m.name} (${m.file}): ${fmt(m.value)} ${typeof m.unit === 'string' ? m.unit : ''} vs goal ${fmt(m.goal)} — ${m.reason}`);
  for (const f of s.failedFiles) out.push(`  failed ${f.file}: ${f.reason}`);
  return `${out.join('\n')}\n`;
}

/** Reads a run directory written by run-all.sh (runs.tsv + one stdout file per bench). */
export function readRuns(dir: string): BenchRun[] {
  const tsv = readFileSync(path.join(dir, 'runs.tsv'), 'utf8');
  return tsv
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [file = '', code = '', out = ''] = l.split('\t');
      let stdout = '';
      try {
        stdout = readFileSync(path.resolve(dir, out), 'utf8');
      } catch {
        // no output file: judged as "printed no figure"
      }
      return { file, exitCode: Number(code), stdout };
    });
}

function main(dir: string): number {
  const j = judge(readRuns(dir));
  writeFileSync(path.join(dir, 'latest.jsonl'), j.figures.map((f) => `${JSON.stringify(f)}\n`).join(''));
  writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(j.summary, null, 2)}\n`);
  process.stdout.write(report(j));
  return j.summary.ok ? 0 : 1;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node --import tsx test/bench/judge.ts <run dir with runs.tsv>\n');
    process.exit(2);
  }
  process.exit(main(dir));
}
