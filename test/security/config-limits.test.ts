/**
 * Attacks and traps on the config loader (issue #17, item 11), through the real
 * `vaktpost check-config` process where the issue describes one:
 *  - a 50 MB file (the old loader read and parsed it: over 20 s, no answer);
 *  - a "billion laughs" alias bomb (the old loader let yaml's ReferenceError out: a stack
 *    trace instead of a `file:line:` message);
 *  - 40 000 unknown keys (quadratic before: 11 s); here only the answer is checked, the
 *    time is a figure in test/bench/config-load.bench.ts;
 *  - misleading messages: "expected ≥ 0, found 0" for a positive-only number, and YAML's
 *    `.inf` reported as "found null".
 * Each refusal is one `file:line:` line on stderr and exit 1. The issue states a 2-s bound
 * for refusing the two hostile files: the refusal's time is measured as the CLI's run on
 * that file minus its run on a small valid file (Node and tsx start-up are not the
 * loader's).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { parseConfigText } from '../../supervisor/src/config/load.js';
import { scratchDir } from '../helpers/util.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

/** CLI processes still running; killed when the file ends (a regression could parse for minutes). */
const running = new Set<ChildProcess>();
t.teardown(() => {
  for (const c of running) c.kill('SIGKILL');
});

function checkConfig(file: string): Promise<{ code: number | null; out: string; err: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'check-config', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // The old loader never finished a 50 MB file: never let one outlive the test.
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    running.add(c);
    c.once('exit', () => running.delete(c));
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.once('error', reject);
    c.once('close', (code) => resolve({ code, out, err, ms: performance.now() - t0 }));
  });
}

const lines = (s: string) => s.split('\n').filter((l) => l !== '');

t.test('check-config refuses hostile files fast, in one file:line: line', async (t) => {
  const { dir, cleanup } = await scratchDir('sec-config');
  t.teardown(cleanup);
  const small = path.join(dir, 'small.yaml');
  writeFileSync(small, 'box:\n  name: small\n  hardware: simulated\n');
  const baseline = await checkConfig(small);
  t.equal(baseline.code, 0, `a small valid config passes: ${baseline.err}`);

  await t.test('a 50 MB config', async (t) => {
    const big = path.join(dir, 'big.yaml');
    const key = (i: number) => `  k${i}: 1\n`;
    const chunks: string[] = ['box:\n  name: big\n'];
    let size = chunks[0]?.length ?? 0;
    for (let i = 0; size < 50 * 1024 * 1024; i++) {
      chunks.push(key(i));
      size += key(i).length;
    }
    writeFileSync(big, chunks.join(''));
    const r = await checkConfig(big);
    t.equal(r.code, 65, 'refused (EX_DATAERR)');
    t.equal(lines(r.err).length, 1, `one line: ${r.err.slice(0, 300)}`);
    t.match(r.err, /^big\.yaml:0: file is larger than 1024 KiB/, 'says what and how big');
    t.ok(r.ms - baseline.ms < 2000, `refused within 2 s of start-up (${Math.round(r.ms - baseline.ms)} ms over a valid file's ${Math.round(baseline.ms)} ms)`);
  });

  await t.test('a billion-laughs alias bomb', async (t) => {
    const bomb = path.join(dir, 'bomb.yaml');
    const levels = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'];
    let text = 'box:\n  name: bomb\nlaughs:\n  a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i < levels.length; i++)
      text += `  ${levels[i]}: &${levels[i]} [${Array(9)
        .fill(`*${levels[i - 1]}`)
        .join(',')}]\n`;
    writeFileSync(bomb, text);
    const r = await checkConfig(bomb);
    t.equal(r.code, 65, 'refused (EX_DATAERR)');
    t.equal(lines(r.err).length, 1, `one line, no stack trace: ${r.err.slice(0, 300)}`);
    t.match(r.err, /^bomb\.yaml:5: YAML aliases \(\*name\) expand to too many nodes/, 'file:line: of the first alias, and why');
    t.notMatch(r.err, /ReferenceError|at .*\.js:\d+/, 'not an exception');
    t.ok(r.ms - baseline.ms < 2000, `refused within 2 s of start-up (${Math.round(r.ms - baseline.ms)} ms)`);
  });

  await t.test('40 000 unknown keys: every one found, the list capped', async (t) => {
    const many = path.join(dir, 'many.yaml');
    let text = 'box:\n  name: many\n';
    for (let i = 0; i < 40_000; i++) text += `k${i}: ${i}\n`;
    writeFileSync(many, text);
    const r = await checkConfig(many);
    t.equal(r.code, 65);
    const l = lines(r.err);
    t.equal(l.length, 101, 'the first 100 problems and one line counting the rest');
    t.equal(l[0], 'many.yaml:3: k0: unknown key "k0" (ukjent nøkkel) — check the spelling against ops/vaktpost.example.yaml');
    t.match(l[99], /^many\.yaml:102: k99: unknown key/);
    t.match(l[100], /^many\.yaml:103: … and 39900 more problems \(og 39900 til\)/);
  });

  await t.test('duplicate keys are still found (now in one pass)', async (t) => {
    const r = parseConfigText('box:\n  name: a\n  name: b\napi:\n  port: 1\n', 'dup.yaml');
    t.same(r.ok ? [] : r.problems.map((p) => `${p.line}: ${p.message}`), ['3: duplicate key "name" (nøkkelen står to ganger): keep one']);
  });

  await t.test('number messages say what is wrong', async (t) => {
    const zero = parseConfigText('api:\n  sessionHours: 0\n', 'n.yaml');
    t.same(
      zero.ok ? [] : zero.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`),
      ['2: api.sessionHours: expected > 0, found 0'],
      'exclusive minimum: > 0, not ≥ 0',
    );
    const inf = parseConfigText('api:\n  sessionHours: .inf\npolicy:\n  holdDownS: -.inf\n  failbackHoldS: .nan\n', 'n.yaml');
    const msgs = inf.ok ? [] : inf.problems.map((p) => `${p.line}: ${p.path}: ${p.message}`);
    t.ok(msgs.length === 3, msgs.join('\n'));
    t.match(msgs.join('\n'), /2: api\.sessionHours: .*found \.inf \(infinity\)/);
    t.match(msgs.join('\n'), /4: policy\.holdDownS: .*found -\.inf \(infinity\)/);
    t.match(msgs.join('\n'), /5: policy\.failbackHoldS: .*found \.nan \(not a number\)/);
    t.notMatch(msgs.join('\n'), /found null/, 'never "found null" for a number');
  });
});
