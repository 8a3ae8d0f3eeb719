/**
 * `vaktpost apply` (supervisor/src/apply/): renders every daemon's config from a config,
 * checks it with the daemon's own checker, writes what changed and reloads only those
 * units. Driven through the real CLI (spawned) for what an operator sees, and in-process
 * with a recording UnitControl where the question is which units would be reloaded (the
 * real systemctl path runs in the appliance test). Real kamailio, nft, chronyd, espeak-ng.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import YAML from 'yaml';
import { runApplyCli } from '../../../supervisor/src/apply/cli.js';
import type { UnitControl } from '../../../supervisor/src/apply/unitControl.js';
import { loadConfigFile } from '../../../supervisor/src/config/load.js';
import { openDb } from '../../../supervisor/src/store/db.js';
import { Store } from '../../../supervisor/src/store/store.js';
import { loadControlSecret } from '../../../supervisor/src/reconcilers/kamailio/controlSecret.js';
import { renderInputFromConfig, renderKamailio } from '../../../supervisor/src/reconcilers/kamailio/render.js';
import { KAMAILIO } from '../../helpers/kamailio.js';
import { scratchDir } from '../../helpers/util.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', 'supervisor/src/cli/main.ts'];
/** A data dir that is not the default: every rendered path must follow it. */
const DATA = '/srv/vaktpost-test';

function testConfig(over: { noReplyMs?: number; mgmt?: string[]; audioFile?: string } = {}) {
  return {
    box: { dataDir: DATA },
    api: { listen: '0.0.0.0', port: 8080 },
    calls: {
      sip: { address: '0.0.0.0', port: 5060, transports: ['udp', 'tcp'] },
      trunk: { sources: ['195.18.10.0/28'] },
      centres: { local: { uris: ['sip:116117@10.20.0.10:5060'] }, backup: { uris: ['sip:116117@10.30.0.10:5060'] } },
      announcement: { uris: ['sip:announcement@127.0.0.1:5090'], ...(over.audioFile ? { audioFile: over.audioFile } : {}) },
      timers: { noReplyMs: over.noReplyMs ?? 2000 },
      runDir: '/run/vaktpost-test/kamailio',
      configDir: `${DATA}/kamailio`,
      callRecords: { dir: `${DATA}/kamailio/calls` },
      recording: { enabled: true },
    },
    audiolog: { rtpengine: { interface: '10.20.0.5' } },
    time: { chronyd: { sources: [{ kind: 'pool', host: 'no.pool.ntp.org' }] } },
    firewall: { lanNetworks: ['10.20.0.0/24'], managementNetworks: over.mgmt ?? ['10.20.9.0/24'] },
  };
}

const EXPECTED = [
  `${DATA}/kamailio/kamailio.cfg`,
  `${DATA}/kamailio/dispatcher.list`,
  `${DATA}/announcement/ring-113.ulaw`,
  `${DATA}/announcement/announcement.xml`,
  `${DATA}/rtpengine/rtpengine.conf`,
  '/etc/chrony/conf.d/vaktpost.conf',
  '/etc/vaktpost/vaktpost.nft',
];

class RecordingUnits implements UnitControl {
  readonly unavailable = null;
  readonly reloaded: string[] = [];
  async reloadOrRestart(unit: string): Promise<void> {
    this.reloaded.push(unit);
  }
}

async function applyInProcess(cfgFile: string, root: string, units: UnitControl, extra: string[] = []) {
  let out = '';
  let err = '';
  const code = await runApplyCli(['-c', cfgFile, '--root', root, ...extra], cfgFile, { out: (s) => (out += s), err: (s) => (err += s), units });
  return { code, out, err };
}

/** Every file under dir, relative, sorted. */
async function tree(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true }).catch(() => [])) {
    const p = path.join(rel, e.name);
    if (e.isDirectory()) out.push(...(await tree(dir, p)));
    else out.push(`/${p}`);
  }
  return out.sort();
}

t.test('apply into an empty root: every file created, checked, at the path its unit reads; again: all unchanged', async (t) => {
  const s = await scratchDir('apply');
  t.teardown(s.cleanup);
  const cfgFile = path.join(s.dir, 'vaktpost.yaml');
  await writeFile(cfgFile, YAML.stringify(testConfig()));
  const root = path.join(s.dir, 'root');

  const first = spawnSync(process.execPath, [...CLI, 'apply', '-c', cfgFile, '--root', root], { encoding: 'utf8' });
  t.equal(first.status, 0, first.stderr);
  for (const f of EXPECTED) t.match(first.stdout, new RegExp(`^created\\s+${f.replace(/\./g, '\\.')}`, 'm'), `created ${f}`);
  t.match(first.stdout, /kamailio\.cfg {2}\(kamailio -c: ok\)/, 'kamailio -c accepted the cfg');
  t.match(first.stdout, /vaktpost\.nft {2}\(nft -c: ok\)/, 'nft -c accepted the ruleset');
  t.match(first.stdout, /chrony\/conf\.d\/vaktpost\.conf {2}\(chronyd -p: ok\)/, 'chronyd -p accepted the chrony file');
  t.match(first.stdout, /^not reloaded vaktpost-kamailio\.service \(--root .*\) — to load it: systemctl reload-or-restart vaktpost-kamailio\.service$/m);
  t.match(
    first.stdout,
    new RegExp(`^note: box\\.dataDir is ${DATA}, but the shipped units read /var/lib/vaktpost/.*systemctl edit vaktpost-announcement\\.service`, 'm'),
    'says the shipped units need a drop-in',
  );
  t.match(
    first.stdout,
    new RegExp(`^note: calls\\.configDir is ${DATA}/kamailio, but vaktpost-kamailio\\.service reads /var/lib/vaktpost/kamailio/kamailio\\.cfg`, 'm'),
  );

  // Paths follow box.dataDir: nothing lands in the default /var/lib/vaktpost.
  const files = await tree(root);
  t.same(files, [...EXPECTED, `${DATA}/kamailio/control.secret`].sort(), `exactly these files: ${files.join(' ')}`);
  t.ok((await stat(path.join(root, DATA, 'kamailio/calls'))).isDirectory(), 'the call-records folder Kamailio needs exists');
  t.equal((await stat(path.join(root, DATA, 'kamailio/kamailio.cfg'))).mode & 0o777, 0o600, 'kamailio.cfg 0600: it holds the control keys');
  t.equal((await stat(path.join(root, '/etc/vaktpost/vaktpost.nft'))).mode & 0o777, 0o600);
  t.match(
    await readFile(path.join(root, DATA, 'announcement/announcement.xml'), 'utf8'),
    new RegExp(`${DATA}/announcement/ring-113\\.ulaw`),
    'the scenario plays the prompt from the data dir',
  );
  t.match(await readFile(path.join(root, DATA, 'rtpengine/rtpengine.conf'), 'utf8'), /^interface = 10\.20\.0\.5$/m);
  t.ok((await stat(path.join(root, DATA, 'announcement/ring-113.ulaw'))).size > 8000, 'the prompt was recorded');

  // The daemons' own checkers on the written files, independently of apply.
  const k = await run(KAMAILIO, ['-c', '-f', path.join(root, DATA, 'kamailio/kamailio.cfg')]);
  t.match(`${k.stdout}${k.stderr}`, /config file ok/, 'kamailio -c accepts the written cfg');
  await run('nft', ['-c', '-f', path.join(root, '/etc/vaktpost/vaktpost.nft')]);
  t.pass('nft -c accepts the written ruleset');

  const second = spawnSync(process.execPath, [...CLI, 'apply', '-c', cfgFile, '--root', root], { encoding: 'utf8' });
  t.equal(second.status, 0, second.stderr);
  t.equal(second.stdout.match(/^unchanged /gm)?.length, EXPECTED.length, `all ${EXPECTED.length} unchanged (the prompt too: sox -R)`);
  t.match(second.stdout, /^no unit reloaded: nothing changed/m);
  t.notMatch(second.stdout, /reload-or-restart/);

  // The same with a recording UnitControl: nothing to reload means no call at all.
  const units = new RecordingUnits();
  const third = await applyInProcess(cfgFile, root, units);
  t.equal(third.code, 0, third.err);
  t.same(units.reloaded, [], 'unchanged: no unit touched');

  // audiolog render-rtpengine follows box.dataDir too (it wrote /var/lib/vaktpost/… whatever the config said).
  const cfgHere = path.join(s.dir, 'here.yaml');
  await writeFile(cfgHere, YAML.stringify({ ...testConfig(), box: { dataDir: path.join(s.dir, 'data') } }));
  const r = spawnSync(process.execPath, [...CLI, 'audiolog', 'render-rtpengine', '-c', cfgHere], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.ok(existsSync(path.join(s.dir, 'data/rtpengine/rtpengine.conf')), 'render-rtpengine wrote under box.dataDir');
});

t.test('a changed file reloads only its unit; a persisted failover in the dispatcher list is kept', async (t) => {
  const s = await scratchDir('apply-reload');
  t.teardown(s.cleanup);
  const cfgFile = path.join(s.dir, 'vaktpost.yaml');
  const root = path.join(s.dir, 'root');
  // A supplied recording (calls.announcement.audioFile): no prompt to speak on every run.
  const audioFile = path.join(s.dir, 'ring-113.ulaw');
  await writeFile(audioFile, Buffer.alloc(8000, 0xff));
  const conf = (o: { noReplyMs?: number; mgmt?: string[] } = {}) => YAML.stringify(testConfig({ ...o, audioFile }));
  await writeFile(cfgFile, conf());
  const initial = new RecordingUnits();
  t.equal((await applyInProcess(cfgFile, root, initial)).code, 0);
  t.same(
    initial.reloaded,
    ['vaktpost-firewall.service', 'chrony.service', 'vaktpost-rtpengine.service', 'vaktpost-announcement.service', 'vaktpost-kamailio.service'],
    'first apply: every unit, Kamailio last (it uses rtpengine and the announcement)',
  );

  // A Kamailio timer: only the cfg changes, only Kamailio reloads.
  await writeFile(cfgFile, conf({ noReplyMs: 3000 }));
  const timer = new RecordingUnits();
  const a = await applyInProcess(cfgFile, root, timer);
  t.equal(a.code, 0, a.err);
  t.match(a.out, new RegExp(`^changed\\s+${DATA}/kamailio/kamailio\\.cfg`, 'm'));
  t.equal(a.out.match(/^unchanged /gm)?.length, EXPECTED.length - 2, 'everything else unchanged (no prompt file: audioFile is used)');
  t.match(a.out, /^reloaded\s+vaktpost-kamailio\.service$/m);
  t.same(timer.reloaded, ['vaktpost-kamailio.service'], 'only Kamailio');

  // A management network: the firewall and chrony's allow change, nothing else.
  await writeFile(cfgFile, conf({ noReplyMs: 3000, mgmt: ['10.20.9.0/24', '10.40.0.0/24'] }));
  const nets = new RecordingUnits();
  const b = await applyInProcess(cfgFile, root, nets);
  t.equal(b.code, 0, b.err);
  t.same(nets.reloaded, ['vaktpost-firewall.service', 'chrony.service'], 'only the firewall and chrony');
  t.match(await readFile(path.join(root, '/etc/vaktpost/vaktpost.nft'), 'utf8'), /10\.40\.0\.0\/24/);
  t.match(await readFile(path.join(root, 'etc/chrony/conf.d/vaktpost.conf'), 'utf8'), /^allow 10\.40\.0\.0\/24$/m);

  // The supervisor persisted a failover into the list (route=backup): apply must not undo it.
  const cfg = loadConfigFile(cfgFile);
  if (!cfg.calls) throw new Error('test config has calls');
  const secret = loadControlSecret(path.join(root, DATA, 'kamailio/control.secret'));
  const input = renderInputFromConfig(cfg.calls, { dispatcherListPath: `${DATA}/kamailio/dispatcher.list`, controlSecret: secret });
  const backupList = renderKamailio(input, 'backup').dispatcherList;
  await writeFile(path.join(root, DATA, 'kamailio/dispatcher.list'), backupList);
  const kept = new RecordingUnits();
  const c = await applyInProcess(cfgFile, root, kept);
  t.equal(c.code, 0, c.err);
  t.equal(await readFile(path.join(root, DATA, 'kamailio/dispatcher.list'), 'utf8'), backupList, 'the backup route stays in the list');
  t.same(kept.reloaded, [], 'and nothing is reloaded');

  // The config changes the centres while the box is failed over: the list on disk is no
  // rendering of the new config, so the supervisor's last stored decision (backup) decides.
  const store = new Store(openDb(path.join(root, DATA, 'vaktpost.db')));
  store.insertDecision(
    {
      at: Date.now(),
      mode: 'failover',
      route: 'backup',
      previousMode: 'normal',
      previousRoute: 'local',
      routeChanged: true,
      reasons: [],
      override: null,
      decidedBy: 'builtin',
    },
    [],
  );
  store.close();
  const moved = { ...testConfig({ noReplyMs: 3000, mgmt: ['10.20.9.0/24', '10.40.0.0/24'], audioFile }) };
  moved.calls.centres.backup.uris = ['sip:116117@10.30.0.10:5060', 'sip:116117@10.30.0.11:5060'];
  await writeFile(cfgFile, YAML.stringify(moved));
  const afterMove = await applyInProcess(cfgFile, root, new RecordingUnits());
  t.equal(afterMove.code, 0, afterMove.err);
  const movedCfg = loadConfigFile(cfgFile);
  if (!movedCfg.calls) throw new Error('test config has calls');
  const movedInput = renderInputFromConfig(movedCfg.calls, { dispatcherListPath: `${DATA}/kamailio/dispatcher.list`, controlSecret: secret });
  t.equal(
    await readFile(path.join(root, DATA, 'kamailio/dispatcher.list'), 'utf8'),
    renderKamailio(movedInput, 'backup').dispatcherList,
    'new centres, still on backup (from the stored decision)',
  );
  await writeFile(cfgFile, conf({ noReplyMs: 3000, mgmt: ['10.20.9.0/24', '10.40.0.0/24'] }));
  t.equal((await applyInProcess(cfgFile, root, new RecordingUnits())).code, 0);

  // A file whose mode was loosened is put right without a reload.
  await chmod(path.join(root, DATA, 'kamailio/kamailio.cfg'), 0o644);
  const modes = new RecordingUnits();
  t.equal((await applyInProcess(cfgFile, root, modes)).code, 0);
  t.equal((await stat(path.join(root, DATA, 'kamailio/kamailio.cfg'))).mode & 0o777, 0o600, 'kamailio.cfg back to 0600');
  t.same(modes.reloaded, []);

  // --no-reload: written, the units left alone, and the line says what to run.
  await writeFile(cfgFile, conf({ noReplyMs: 3500 }));
  const left = new RecordingUnits();
  const nr = await applyInProcess(cfgFile, root, left, ['--no-reload']);
  t.equal(nr.code, 0, nr.err);
  t.same(left.reloaded, [], '--no-reload: no unit touched');
  t.match(nr.out, /^not reloaded vaktpost-kamailio\.service \(--no-reload\) — to load it: systemctl reload-or-restart vaktpost-kamailio\.service$/m);

  // A unit that fails to reload: said, and exit 69.
  await writeFile(cfgFile, conf({ noReplyMs: 4000 }));
  const failing: UnitControl = {
    unavailable: null,
    reloadOrRestart: (u) => Promise.reject(new Error(`systemctl reload-or-restart ${u} failed: Job failed — see journalctl -u ${u}`)),
  };
  const d = await applyInProcess(cfgFile, root, failing);
  t.equal(d.code, 69, 'EX_UNAVAILABLE: written, but a unit did not reload');
  t.match(d.out, /^FAILED\s+vaktpost-kamailio\.service: systemctl reload-or-restart vaktpost-kamailio\.service failed/m);
});

t.test('dry run writes nothing; a refused file leaves the box as it was; bad input exits 64/65', async (t) => {
  const s = await scratchDir('apply-dry');
  t.teardown(s.cleanup);
  const cfgFile = path.join(s.dir, 'vaktpost.yaml');
  const audioFile = path.join(s.dir, 'ring-113.ulaw');
  await writeFile(audioFile, Buffer.alloc(8000, 0xff));
  await writeFile(cfgFile, YAML.stringify(testConfig({ audioFile })));
  const root = path.join(s.dir, 'root');
  const dry = await applyInProcess(cfgFile, root, new RecordingUnits(), ['--dry-run']);
  t.equal(dry.code, 0, dry.err);
  t.equal(dry.out.match(/^would be created /gm)?.length, EXPECTED.length - 1, 'every file (no prompt: audioFile)');
  t.match(dry.out, /\(nft -c: ok\)/, 'checked all the same');
  t.match(dry.out, /^would reload\s+vaktpost-kamailio\.service$/m);
  t.same(await tree(root), [], 'nothing written (not even the control secret)');

  // A checker that refuses: the real apply with a kamailio that says no (first on PATH).
  const bin = path.join(s.dir, 'bin');
  await mkdir(bin);
  await writeFile(path.join(bin, 'kamailio'), '#!/bin/sh\necho "ERROR: bad config file (1 errors)" >&2\nexit 255\n', { mode: 0o755 });
  const refused = spawnSync(process.execPath, [...CLI, 'apply', '-c', cfgFile, '--root', root], {
    encoding: 'utf8',
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
  });
  t.equal(refused.status, 65, 'EX_DATAERR');
  t.match(refused.stderr, new RegExp(`kamailio -c refused the rendered ${DATA}/kamailio/kamailio\\.cfg — nothing was written:\\nERROR: bad config file`));
  t.same(await tree(root), [`${DATA}/kamailio/control.secret`], 'no rendered file written (all or nothing); only the secret exists');

  const units = new RecordingUnits();
  const usage = await applyInProcess(cfgFile, root, units, ['--bogus']);
  t.equal(usage.code, 64, 'EX_USAGE');
  t.match(usage.err, /usage: vaktpost apply/);
  await writeFile(cfgFile, 'calls: 12\n');
  const bad = await applyInProcess(cfgFile, root, units);
  t.equal(bad.code, 65, 'EX_DATAERR for an invalid config');
  t.match(bad.err, /invalid config \(ugyldig konfigurasjon\)/);
  const base = testConfig();
  await writeFile(
    cfgFile,
    YAML.stringify({ ...base, calls: { ...base.calls, centres: { local: { uris: ['sip:lv@pbx.kommune.no'] }, backup: { uris: ['sip:b@10.30.0.10'] } } } }),
  );
  const named = await applyInProcess(cfgFile, root, units);
  t.equal(named.code, 65);
  t.match(named.err, /names a host — write the IPv4 address in the URI, or set firewall\.enabled: false/);
  t.same(units.reloaded, []);

  const help = spawnSync(process.execPath, [...CLI, 'apply', '--help'], { encoding: 'utf8' });
  t.equal(help.status, 0);
  t.match(help.stdout, /^vaktpost apply \[-c FILE\] \[--root DIR\] \[--dry-run\] \[--no-reload\]/);
});

t.test("as root, what apply writes inside the data dir belongs to the data dir's owner (the units' user)", async (t) => {
  const s = await scratchDir('apply-owner');
  t.teardown(s.cleanup);
  const cfgFile = path.join(s.dir, 'vaktpost.yaml');
  await writeFile(cfgFile, YAML.stringify(testConfig()));
  const root = path.join(s.dir, 'root');
  // The packaged box: /var/lib/vaktpost exists, owned by the service user, before apply runs.
  const NOBODY = 65534;
  await mkdir(path.join(root, DATA), { recursive: true, mode: 0o700 });
  await chown(path.join(root, DATA), NOBODY, NOBODY);
  const r = await applyInProcess(cfgFile, root, new RecordingUnits());
  t.equal(r.code, 0, r.err);
  for (const f of [...EXPECTED.filter((p) => p.startsWith(DATA)), `${DATA}/kamailio/control.secret`, `${DATA}/kamailio/calls`, `${DATA}/kamailio`]) {
    const st = await stat(path.join(root, f));
    t.same([st.uid, st.gid], [NOBODY, NOBODY], `${f} is the data dir owner's`);
  }
  t.equal((await stat(path.join(root, '/etc/chrony/conf.d/vaktpost.conf'))).uid, 0, "chrony's file, outside the data dir, stays root's");
});
