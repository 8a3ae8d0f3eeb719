import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { formatProblem, loadConfigFile, parseConfigText } from '../../../supervisor/src/config/load.js';
import { scratchDir } from '../../helpers/util.js';

const BROKEN: Array<{ name: string; yaml: string; line: number; match: RegExp }> = [
  { name: 'wrong type', yaml: 'policy:\n  holdDownS: thirty\n', line: 2, match: /policy\.holdDownS: expected a number, found "thirty"/ },
  { name: 'unknown key', yaml: 'box:\n  name: x\n  hardwear: real\n', line: 3, match: /box\.hardwear: unknown key "hardwear"/ },
  { name: 'unknown section', yaml: 'box:\n  name: x\npolicey:\n  holdDownS: 3\n', line: 3, match: /policey: unknown key/ },
  { name: 'section of the wrong shape (missing mapping)', yaml: 'box:\npolicy: 12\n', line: 2, match: /policy: expected a mapping, found 12/ },
  { name: 'bad YAML syntax (reported where the parser finds it)', yaml: 'box:\n  name: [unclosed\n  dataDir: /x\n', line: 3, match: /YAML syntax error/ },
  { name: 'duplicate key', yaml: 'api:\n  port: 8080\n  port: 8081\n', line: 3, match: /duplicate key "port"/ },
  { name: 'value out of range', yaml: 'api:\n  port: 70000\n', line: 2, match: /api\.port: expected ≤ 65535, found 70000/ },
  { name: 'bad enum value', yaml: 'box:\n  hardware: fake\n', line: 2, match: /box\.hardware: expected one of "real", "simulated", found "fake"/ },
  {
    name: 'bad list entry',
    yaml: 'policy:\n  failoverOn:\n    - power\n    - weather\n',
    line: 4,
    match: /policy\.failoverOn\.1: expected one of .*found "weather"/,
  },
  { name: 'empty required value', yaml: 'api:\n  listen:\n', line: 2, match: /api\.listen: expected a text, found an empty value/ },
  { name: 'top level is a list', yaml: '- box\n- api\n', line: 1, match: /expected a mapping of sections/ },
  { name: 'tab indentation', yaml: 'box:\n\tname: x\n', line: 2, match: /YAML syntax error/ },
];

for (const c of BROKEN) {
  t.test(`broken config: ${c.name}`, async (t) => {
    const r = parseConfigText(c.yaml, 'vaktpost.yaml');
    t.notOk(r.ok, 'rejected');
    if (r.ok) return;
    const first = r.problems[0];
    t.ok(first, 'has a problem');
    if (!first) return;
    t.equal(first.line, c.line, 'names the line');
    const line = formatProblem(first);
    t.notMatch(line, /\n/, 'one line');
    t.match(line, new RegExp(`^vaktpost\\.yaml:${c.line}: `), 'file:line prefix');
    t.match(line, c.match);
  });
}

t.test('the documented example and the make-run config are valid', async (t) => {
  const ex = loadConfigFile(path.resolve('ops/vaktpost.example.yaml'));
  t.equal(ex.box.hardware, 'real');
  const sim = loadConfigFile(path.resolve('ops/sim/vaktpost.sim.yaml'));
  t.equal(sim.box.hardware, 'simulated');
  t.equal(sim.power.policy.minRuntimeS, 300, 'nested defaults are filled in');
});

t.test('vaktpost check-config exits non-zero with the one-line error, 0 when fine', async (t) => {
  const { dir, cleanup } = await scratchDir('cfg');
  t.teardown(cleanup);
  const bad = path.join(dir, 'bad.yaml');
  writeFileSync(bad, 'policy:\n  holdDownS: -5\n');
  const cli = ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'check-config'];
  const r = spawnSync(process.execPath, [...cli, bad], { encoding: 'utf8' });
  t.equal(r.status, 65, 'EX_DATAERR');
  t.match(r.stderr, /^bad\.yaml:2: policy\.holdDownS: expected ≥ 0, found -5$/m);
  t.notMatch(r.stderr, /at .*\.ts:\d+/, 'no stack trace');
  // The example's webhook takes its token from the environment, as the service would have it.
  const env = { ...process.env, VAKTPOST_UPSTREAM_TOKEN: 'example-token' };
  const ok = spawnSync(process.execPath, [...cli, 'ops/vaktpost.example.yaml'], { encoding: 'utf8', env });
  t.equal(ok.status, 0, ok.stderr);
  const missing = spawnSync(process.execPath, [...cli, path.join(dir, 'nope.yaml')], { encoding: 'utf8' });
  t.equal(missing.status, 65, 'EX_DATAERR');
  t.match(missing.stderr, /cannot read config: file not found/);
});
