/**
 * Issue 16 #4: a failover trigger in `policy.failoverOn` that nothing monitors can never
 * fire. `check-config` warns (stderr, exit 0, naming the trigger, why and the fix); `run`
 * logs the same and raises a warn event (config.warning).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { configWarnings, loadConfigFileWithWarnings, monitoredSubsystems, parseConfigText } from '../../../supervisor/src/config/load.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';
import { startSupervisor } from '../../helpers/supervisorProcess.js';

const WAN = ['wan:', '  links:', '    - { name: wan1, interface: eth1, sourceAddress: 10.0.1.2, targets: [{ kind: udp, host: 10.0.1.1, port: 53 }] }'].join(
  '\n',
);

function parse(yaml: string) {
  const r = parseConfigText(yaml, 'vaktpost.yaml');
  if (!r.ok) throw new Error(r.problems.map((p) => p.message).join('; '));
  return r;
}

/** A real box's config without a `wan:` section (the shipped example has one since issue 18). */
const NO_WAN = ['box:', '  hardware: real', 'policy:', '  failoverOn: [power, wan, centres]', 'power:', '  ups: [{ name: ups1 }]', ''].join('\n');

t.test('a config without wan: — "wan" and "centres" cannot fire — named, why, fix, line', async (t) => {
  const { dir, cleanup } = await scratchDir('cfg-nowan');
  t.teardown(cleanup);
  const file = path.join(dir, 'no-wan.yaml');
  writeFileSync(file, NO_WAN);
  const { config, warnings } = loadConfigFileWithWarnings(file);
  t.equal(config.wan, undefined, 'no wan: section');
  t.same(
    warnings.map((w) => w.path),
    ['policy.failoverOn.1', 'policy.failoverOn.2'],
  );
  for (const [w, trigger] of [
    [warnings[0], 'wan'],
    [warnings[1], 'centres'],
  ] as const) {
    t.match(w?.message, new RegExp(`failover trigger "${trigger}" can never fire`), 'names the trigger');
    t.match(w?.message, /only when a `wan:` section is configured/, 'says why');
    t.match(w?.message, new RegExp(`Fix: add a \`wan:\` section.*or remove "${trigger}" from policy\\.failoverOn`), 'says the fix');
    t.equal(w?.line, 4, 'the line of failoverOn in the file');
  }
});

t.test('a wan: section makes wan and centres fire; power needs a UPS or GPIO; telephony needs calls or a heartbeat', async (t) => {
  const withWan = parse(`box: { hardware: real }\npolicy: { failoverOn: [wan, centres] }\n${WAN}\n`);
  t.same(
    withWan.warnings.filter((w) => w.path.startsWith('policy.')),
    [],
    'wan + centres monitored with a wan: section (its own one-target advice aside)',
  );

  const power = parse('box: { hardware: real }\npolicy: { failoverOn: [power, telephony, time] }\n');
  t.same(
    power.warnings.map((w) => w.path),
    ['policy.failoverOn.0', 'policy.failoverOn.1'],
    'power and telephony cannot fire; time always can',
  );
  t.match(power.warnings[0]?.message, /no UPS \(`power\.ups`\) and no GPIO contacts/);
  t.match(power.warnings[1]?.message, /neither a `calls:` section/);
  t.equal(power.warnings[0]?.line, 2);

  const ups = parse('box: { hardware: real }\npolicy: { failoverOn: [power] }\npower: { ups: [{ name: ups1 }] }\n');
  t.same(ups.warnings, [], 'a UPS makes power fire');
});

t.test('failoverOn left at its default still warns (at the policy line, or line 1)', async (t) => {
  const noPolicy = parse('box: { hardware: real }\n');
  t.same(
    noPolicy.warnings.map((w) => [w.path, w.line]),
    [
      ['policy.failoverOn.0', 1],
      ['policy.failoverOn.1', 1],
      ['policy.failoverOn.2', 1],
    ],
  );
});

t.test('the simulated box simulates every source but the flows', async (t) => {
  const sim = parse('box: { hardware: simulated }\npolicy: { failoverOn: [power, wan, centres, telephony, recording, flows] }\n');
  t.same(
    sim.warnings.map((w) => w.path),
    ['policy.failoverOn.5'],
    'only flows (not enabled)',
  );
  t.same(configWarnings(sim.config)[0]?.trigger, 'flows');
  t.ok(monitoredSubsystems(sim.config).includes('centres'));
});

t.test('vaktpost check-config: the warning on stderr, exit 0, OK on stdout', async (t) => {
  const { dir, cleanup } = await scratchDir('cfg-nowan-cli');
  t.teardown(cleanup);
  const file = path.join(dir, 'no-wan.yaml');
  writeFileSync(file, NO_WAN);
  const cli = ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'check-config'];
  const r = spawnSync(process.execPath, [...cli, file], { encoding: 'utf8' });
  t.equal(r.status, 0, 'exit 0: a warning is not an error');
  t.match(r.stdout, /no-wan\.yaml: OK \(2 warnings\)/);
  t.match(r.stderr, /^no-wan\.yaml:4: policy\.failoverOn\.2: warning \(advarsel\): failover trigger "centres" can never fire: .* Fix: /m);
  t.equal(r.stderr.trim().split('\n').length, 2, 'one line per warning');
});

t.test('vaktpost run: the same warning logged and raised as a warn event', async (t) => {
  const { dir, cleanup } = await scratchDir('cfg-warn');
  t.teardown(cleanup);
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    [
      'box:',
      '  name: warn-box',
      `  dataDir: ${path.join(dir, 'data')}`,
      '  hardware: simulated',
      'api:',
      '  listen: 127.0.0.1',
      `  port: ${port}`,
      'policy: { failoverOn: [power, flows], tickMs: 100 }',
      'sim: { reportMs: 200 }',
      '',
    ].join('\n'),
  );
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));
  const ev = await waitFor(
    async () =>
      (await sup.api<{ events: Array<{ kind: string; severity: string; en: string; nb: string }> }>('GET', '/api/events?kind=config.warning')).json.events[0],
    { timeoutMs: 30_000, what: 'a config.warning event' },
  );
  t.equal(ev.severity, 'warn');
  t.match(ev.en, /^Config: policy\.failoverOn\.1: failover trigger "flows" can never fire: .*Fix: set `flows\.enabled: true`/);
  t.match(ev.nb, /failovertrigger "flows" kan aldri utløses/);
  t.match(sup.output(), /failover trigger \\?"flows\\?" can never fire/, 'logged too');
  t.notMatch(sup.output(), /disagrees with app\.ts/, 'check-config and run agree on what is monitored');
});
