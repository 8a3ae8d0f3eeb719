import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { type BenchRun, judge, parseFigures, report, verdict } from '../../bench/judge.js';

const fig = (o: Record<string, unknown>) => `${JSON.stringify({ name: 'x', unit: 'ms', ...o })}\n`;

t.test('verdict: the direction decides, the goal itself is met', async (t) => {
  t.same(verdict({ name: 'a', value: 100, goal: 100, better: 'lower' }), { kind: 'met', better: 'lower' });
  t.same(verdict({ name: 'a', value: 99.9, goal: 100, better: 'lower' }), { kind: 'met', better: 'lower' });
  t.match(verdict({ name: 'a', value: 100.1, goal: 100, better: 'lower' }), { kind: 'missed', better: 'lower', reason: /100\.1 > goal 100/ });
  t.same(verdict({ name: 'a', value: 1000, goal: 1000, better: 'higher' }), { kind: 'met', better: 'higher' });
  t.match(verdict({ name: 'a', value: 999, goal: 1000, better: 'higher' }), { kind: 'missed', reason: /999 < goal 1000/ });
  t.same(verdict({ name: 'a', value: 0, goal: 0, better: 'lower' }), { kind: 'met', better: 'lower' }, 'zero false downs meets a goal of 0');
  t.match(verdict({ name: 'a', value: 1, goal: 0, better: 'lower' }), { kind: 'missed' });
});

t.test('verdict: no goal is informational; a goal without a direction is a miss', async (t) => {
  t.same(verdict({ name: 'a', value: 5 }), { kind: 'informational' });
  t.same(verdict({ name: 'a', value: 5, goal: null }), { kind: 'informational' });
  t.match(verdict({ name: 'a', value: 5, goal: 10 }), { kind: 'missed', reason: /without a direction/ });
  t.match(verdict({ name: 'a', value: 5, goal: 10, better: 'smaller' }), { kind: 'missed', reason: /without a direction/ });
  t.match(verdict({ name: 'a', value: 5, goal: '10', better: 'lower' }), { kind: 'missed', reason: /goal is not a number/ });
});

t.test('verdict: a value that is not a number misses (the bench could not measure)', async (t) => {
  for (const value of [null, 'n/a', Number.NaN, Number.POSITIVE_INFINITY, undefined]) {
    t.match(verdict({ name: 'a', value, goal: 10, better: 'lower' }), { kind: 'missed', reason: /no measurement/ }, String(value));
  }
});

t.test('parseFigures: JSON object lines only; progress text skipped, broken JSON reported', async (t) => {
  const { figures, bad } = parseFigures(`progress 1/3\n${fig({ value: 1 })}  ${fig({ name: 'y', value: 2 }).trim()}  \n{not json\n[1,2]\n{"no":"name"}\n`);
  t.same(
    figures.map((f) => f.name),
    ['x', 'y'],
  );
  t.equal(bad.length, 2, 'broken JSON and an object without name/value are reported; the array is not a figure line');
});

t.test('judge: counts, misses with value vs goal, failed files', async (t) => {
  const runs: BenchRun[] = [
    {
      file: 'a.bench.ts',
      exitCode: 0,
      stdout:
        fig({ name: 'fast', value: 10, goal: 50, better: 'lower' }) +
        fig({ name: 'slow', value: 498, goal: 250, better: 'lower' }) +
        fig({ name: 'rate', value: 2000, goal: 1000, better: 'higher', unit: 'lines/s' }) +
        fig({ name: 'info', value: 3 }),
    },
    { file: 'b.bench.ts', exitCode: 1, stdout: fig({ name: 'partial', value: 1, goal: 2, better: 'lower' }) },
    { file: 'c.bench.ts', exitCode: 0, stdout: 'nothing measured\n' },
    { file: 'd.bench.ts', exitCode: 124, stdout: '' },
    { file: 'e.bench.ts', exitCode: 0, stdout: fig({ name: 'nodir', value: 1, goal: 2 }) },
  ];
  const j = judge(runs);
  t.match(j.summary, { ok: false, files: 5, figures: 6, judged: 5, met: 3, missed: 2, informational: 1 });
  t.same(
    j.summary.misses.map((m) => [m.name, m.file, m.value, m.goal]),
    [
      ['slow', 'a.bench.ts', 498, 250],
      ['nodir', 'e.bench.ts', 1, 2],
    ],
  );
  t.same(
    j.summary.failedFiles.map((f) => [f.file, f.reason]),
    [
      ['b.bench.ts', 'exited with code 1'],
      ['c.bench.ts', 'printed no figure'],
      ['d.bench.ts', 'did not finish in time (killed by timeout)'],
    ],
  );
  t.same(
    j.figures.map((f) => [f.name, f.file, f.met]),
    [
      ['fast', 'a.bench.ts', true],
      ['slow', 'a.bench.ts', false],
      ['rate', 'a.bench.ts', true],
      ['info', 'a.bench.ts', undefined],
      ['partial', 'b.bench.ts', true],
      ['nodir', 'e.bench.ts', false],
    ],
  );
  const text = report(j);
  t.match(text, /✗ MISS slow: 498 ms \(goal ≤ 250\)/);
  t.match(text, /ok {3}rate: 2000 lines\/s \(goal ≥ 1000\)/);
  t.match(text, /bench summary: 6 figures, 3 met, 2 missed, 1 informational; 5 files, 3 failed/);
  t.match(text, /missed slow \(a\.bench\.ts\): 498 ms vs goal 250/);
  t.match(text, /failed d\.bench\.ts: did not finish in time/);
});

t.test('judge: all met and every file fine is ok', async (t) => {
  const j = judge([{ file: 'a.bench.ts', exitCode: 0, stdout: fig({ value: 1, goal: 2, better: 'lower' }) + fig({ name: 'i', value: 7 }) }]);
  t.match(j.summary, { ok: true, met: 1, missed: 0, informational: 1, misses: [], failedFiles: [] });
});

t.test('CLI: reads runs.tsv, writes latest.jsonl and summary.json, exit code says it', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'judge-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'a.jsonl'), `warming up\n${fig({ name: 'a', value: 300, goal: 250, better: 'lower' })}`);
  await writeFile(path.join(dir, 'runs.tsv'), 'test/bench/a.bench.ts\t0\ta.jsonl\ntest/bench/b.bench.ts\t0\tmissing.jsonl\n');
  const judgeTs = path.resolve(import.meta.dirname, '../../bench/judge.ts');
  const err = await promisify(execFile)(process.execPath, ['--import', 'tsx', judgeTs, dir]).then(
    () => null,
    (e: { code: number; stdout: string }) => e,
  );
  t.equal(err?.code, 1, 'a miss makes the exit non-zero');
  t.match(err?.stdout, /missed a \(test\/bench\/a\.bench\.ts\): 300 ms vs goal 250/);
  t.match(err?.stdout, /failed test\/bench\/b\.bench\.ts: printed no figure/);
  const summary = JSON.parse(await readFile(path.join(dir, 'summary.json'), 'utf8')) as { missed: number; failedFiles: unknown[] };
  t.equal(summary.missed, 1);
  t.equal(summary.failedFiles.length, 1);
  const latest = (await readFile(path.join(dir, 'latest.jsonl'), 'utf8')).trim().split('\n');
  t.same(JSON.parse(latest[0] ?? '{}'), { name: 'a', unit: 'ms', value: 300, goal: 250, better: 'lower', file: 'test/bench/a.bench.ts', met: false });
});
