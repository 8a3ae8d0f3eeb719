/**
 * `vaktpost apply` writes exactly where the shipped units read: for the example config
 * (default data dir), every rendered file is named by the unit it belongs to in ops/ —
 * directly (ExecStart, ConditionPathExists) or through a file that unit reads (the
 * dispatcher list through kamailio.cfg, the prompt through the scenario, chrony's file
 * through chrony.conf's confdir). A unit moved or renamed without apply following fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { planApply, UNITS } from '../../../supervisor/src/apply/plan.js';
import { loadConfigFile } from '../../../supervisor/src/config/load.js';
import { scratchDir } from '../../helpers/util.js';

const OPS = path.resolve(import.meta.dirname, '../../../ops');
const UNIT_FILES: Record<string, string> = {
  [UNITS.kamailio]: 'kamailio/systemd/vaktpost-kamailio.service',
  [UNITS.announcement]: 'kamailio/systemd/vaktpost-announcement.service',
  [UNITS.rtpengine]: 'rtpengine/systemd/vaktpost-rtpengine.service',
  [UNITS.firewall]: 'nftables/vaktpost-firewall.service',
  'chrony.service': 'chrony/chrony.conf',
};

t.test('every file apply renders for the example config is where its unit reads it', async (t) => {
  const s = await scratchDir('apply-paths');
  t.teardown(s.cleanup);
  const cfg = loadConfigFile(path.join(OPS, 'vaktpost.example.yaml'));
  t.equal(cfg.box.dataDir, '/var/lib/vaktpost', 'the example uses the default data dir, the one the units name');
  const plan = await planApply(cfg, { root: s.dir, dryRun: true });
  const byPath = new Map(plan.files.map((f) => [f.path, f]));
  const read = (unit: string) => readFileSync(path.join(OPS, UNIT_FILES[unit] ?? 'missing'), 'utf8');
  const named = (file: string) => {
    const f = byPath.get(file);
    const unit = f?.unit;
    if (!unit) return false;
    const text = read(unit);
    if (text.includes(file)) return true;
    if (unit === 'chrony.service') return text.includes(`confdir ${path.dirname(file)}`);
    // Read through another rendered file of the same unit (the list via the cfg, the prompt via the scenario).
    return plan.files.some((o) => o !== f && o.unit === unit && text.includes(o.path) && o.content.toString('utf8').includes(file));
  };
  t.same(
    plan.files.map((f) => f.unit),
    [UNITS.kamailio, UNITS.kamailio, UNITS.announcement, UNITS.announcement, UNITS.rtpengine, 'chrony.service', UNITS.firewall],
    'one file list: Kamailio ×2, announcement ×2, rtpengine, chrony, firewall',
  );
  for (const f of plan.files) t.ok(named(f.path), `${f.path} is read by ${f.unit} (${UNIT_FILES[f.unit ?? ''] ?? '?'})`);
  t.same(plan.notes, [], 'the example needs no notes');
});
