/**
 * `vaktpost apply`: make the box's daemons run what vaktpost.yaml says.
 *
 * Guarantees:
 * - all or nothing for the checks: every file that would change is first written next to
 *   its target and passed through its daemon's checker; only when all pass are they
 *   renamed into place (rename is atomic: a daemon starting meanwhile reads the old file
 *   or the new one, never half of one). A refused file leaves the box as it was. (A rename
 *   failing half-way — a disk error — leaves the earlier files renamed; apply again.)
 * - an unchanged file is not rewritten (its mode is put right) and reloads nothing;
 * - only the units whose files changed are reloaded, each once, in dependency order
 *   (firewall, chrony, rtpengine, announcement, Kamailio last: it uses the other two);
 * - as root, what it writes inside box.dataDir is given to the data dir's owner (the units'
 *   user), so a daemon running as that user can read it (dataDirOwner.ts);
 * - with `root` every path is written under that folder (an image, a test); the files'
 *   contents still name the box's own paths.
 */
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { VaktpostConfig } from '../config/schema.js';
import { CHECK_LABEL, type CheckResult, runChecker } from './checkers.js';
import { giveToDataDirOwner } from './dataDirOwner.js';
import { type DesiredFile, planApply, rooted, UNITS } from './plan.js';
import type { UnitControl } from './unitControl.js';

export type FileStatus = 'created' | 'changed' | 'unchanged';

export interface FileOutcome {
  path: string;
  status: FileStatus;
  /** `kamailio -c: ok`, `nft -c: not checked (nft is not installed)`, … */
  check: string | null;
  unit: string | null;
}

export interface UnitOutcome {
  unit: string;
  /** reloaded, or why not */
  result: 'reloaded' | 'skipped' | 'failed';
  detail: string;
}

export interface ApplyReport {
  files: FileOutcome[];
  units: UnitOutcome[];
  notes: string[];
  dryRun: boolean;
}

/** Reload order: what others depend on first. */
function unitOrder(chronyUnit: string): string[] {
  return [UNITS.firewall, chronyUnit, UNITS.rtpengine, UNITS.announcement, UNITS.kamailio];
}

async function current(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

interface Staged {
  file: DesiredFile;
  target: string;
  tmp: string;
  status: FileStatus;
  check: CheckResult | null;
}

/** `kamailio -c: ok`, or why it was not checked (the checker is not installed). */
function checkText(s: Staged): string | null {
  if (!s.file.check) return null;
  const r = s.check;
  return `${CHECK_LABEL[s.file.check]}: ${r === null ? 'not run' : r.checked ? 'ok' : `not checked (${r.why})`}`;
}

export async function applyConfig(cfg: VaktpostConfig, opts: { root: string; dryRun: boolean; units: UnitControl }): Promise<ApplyReport> {
  const plan = await planApply(cfg, opts);
  const outcomes: FileOutcome[] = [];
  const staged: Staged[] = [];
  // A dry run stages in a scratch folder and never touches the box's folders.
  const scratch = opts.dryRun ? await mkdtemp(path.join(os.tmpdir(), 'vaktpost-apply-')) : null;
  try {
    // 1. Stage and check every file that would change.
    for (const file of plan.files) {
      const target = rooted(opts.root, file.path);
      const old = await current(target);
      if (old?.equals(file.content)) {
        if (!opts.dryRun) await chmod(target, file.mode);
        outcomes.push({ path: file.path, status: 'unchanged', check: null, unit: file.unit ?? null });
        continue;
      }
      const tmp = scratch ? path.join(scratch, `${staged.length}-${path.basename(target)}`) : `${target}.apply-tmp-${process.pid}`;
      if (!scratch) await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await rm(tmp, { force: true });
      // Created with its mode: a secret never readable by others, not even for a moment.
      await writeFile(tmp, file.content, { mode: file.mode });
      await chmod(tmp, file.mode);
      const s: Staged = { file, target, tmp, status: old === null ? 'created' : 'changed', check: null };
      staged.push(s);
      if (file.check) s.check = await runChecker(file.check, tmp, file.path);
    }
    // 2. All accepted: into place.
    if (!opts.dryRun) {
      for (const dir of plan.dirs) await mkdir(rooted(opts.root, dir), { recursive: true, mode: 0o700 });
      for (const s of staged) await rename(s.tmp, s.target);
      giveToDataDirOwner(rooted(opts.root, cfg.box.dataDir), [
        ...plan.files.map((f) => rooted(opts.root, f.path)),
        ...plan.dirs.map((d) => rooted(opts.root, d)),
        ...plan.ownedExtra.map((p) => rooted(opts.root, p)),
      ]);
    }
  } finally {
    if (scratch) await rm(scratch, { recursive: true, force: true });
    else for (const s of staged) await rm(s.tmp, { force: true });
  }
  for (const s of staged) outcomes.push({ path: s.file.path, status: s.status, check: checkText(s), unit: s.file.unit ?? null });
  // The report lists the files in the plan's order.
  const order = new Map(plan.files.map((f, i) => [f.path, i]));
  outcomes.sort((a, b) => (order.get(a.path) ?? 0) - (order.get(b.path) ?? 0));

  // 3. Reload what changed.
  const changedUnits = new Set(staged.map((s) => s.file.unit).filter((u): u is string => u !== undefined));
  const units: UnitOutcome[] = [];
  const known = unitOrder(cfg.time.chronyd.unit);
  const ordered = [...known.filter((u) => changedUnits.has(u)), ...[...changedUnits].filter((u) => !known.includes(u))];
  for (const unit of ordered) {
    if (opts.dryRun) units.push({ unit, result: 'skipped', detail: 'dry run' });
    else if (opts.units.unavailable !== null) units.push({ unit, result: 'skipped', detail: opts.units.unavailable });
    else {
      try {
        await opts.units.reloadOrRestart(unit);
        units.push({ unit, result: 'reloaded', detail: 'reload-or-restart' });
      } catch (err) {
        units.push({ unit, result: 'failed', detail: (err as Error).message });
      }
    }
  }
  return { files: outcomes, units, notes: plan.notes, dryRun: opts.dryRun };
}
