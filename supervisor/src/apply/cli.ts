/**
 * `vaktpost apply [-c FILE] [--root DIR] [--dry-run] [--no-reload]` — render every
 * daemon's config from vaktpost.yaml, check, write what changed, reload its units.
 * One line per file (created / changed / unchanged) and per unit; exit codes from
 * cli/exitCodes.ts.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from '../config/load.js';
import { CliError, EXIT, exitForErrno } from '../cli/exitCodes.js';
import { type ApplyReport, applyConfig } from './apply.js';
import { CheckFailed } from './checkers.js';
import { FirewallConfigError } from './firewall.js';
import { NoUnitControl, SystemctlUnitControl, type UnitControl } from './unitControl.js';

export interface ApplyIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Tests pass a recording fake; default: systemctl (or none, with the reason). */
  units?: UnitControl;
}

export const APPLY_USAGE = 'usage: vaktpost apply [-c FILE] [--root DIR] [--dry-run] [--no-reload]';

/** The text printed for a report: what changed, what was reloaded, what to know. */
export function formatReport(r: ApplyReport): string {
  const verbOf = (status: string) => (r.dryRun && status !== 'unchanged' ? `would be ${status}` : status);
  const width = Math.max(...r.files.map((f) => verbOf(f.status).length), 'reloaded'.length);
  const lines: string[] = [];
  for (const f of r.files) lines.push(`${verbOf(f.status).padEnd(width)}  ${f.path}${f.check ? `  (${f.check})` : ''}`);
  for (const u of r.units) {
    if (u.result === 'reloaded') lines.push(`${'reloaded'.padEnd(width)}  ${u.unit}`);
    else if (u.result === 'failed') lines.push(`${'FAILED'.padEnd(width)}  ${u.unit}: ${u.detail}`);
    else if (r.dryRun) lines.push(`${'would reload'.padEnd(width)}  ${u.unit}`);
    else lines.push(`not reloaded ${u.unit} (${u.detail}) — to load it: systemctl reload-or-restart ${u.unit}`);
  }
  if (r.units.length === 0) lines.push(r.dryRun ? 'nothing would change (ingenting å endre)' : 'no unit reloaded: nothing changed (ingenting endret)');
  for (const n of r.notes) lines.push(`note: ${n}`);
  return `${lines.join('\n')}\n`;
}

/** Returns the exit code. */
export async function runApplyCli(argv: readonly string[], defaultConfig: string, io: ApplyIo): Promise<number> {
  let values: { config: string; root: string; 'dry-run': boolean; 'no-reload': boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        config: { type: 'string', short: 'c', default: defaultConfig },
        root: { type: 'string', default: '/' },
        'dry-run': { type: 'boolean', default: false },
        'no-reload': { type: 'boolean', default: false },
      },
    }));
  } catch (err) {
    io.err(`vaktpost apply: ${(err as Error).message}\n${APPLY_USAGE}\n`);
    return EXIT.usage;
  }
  const root = path.resolve(values.root);
  try {
    const cfg = loadConfigFile(values.config);
    // Writing into an image or a test folder: the box's systemd is not the one to ask.
    let units: UnitControl;
    if (values['no-reload']) units = new NoUnitControl('--no-reload');
    else if (io.units) units = io.units;
    else units = root === '/' ? new SystemctlUnitControl() : new NoUnitControl(`--root ${root}: not this box's units`);
    const report = await applyConfig(cfg, { root, dryRun: values['dry-run'], units });
    io.out(formatReport(report));
    return report.units.some((u) => u.result === 'failed') ? EXIT.unavailable : EXIT.ok;
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(`vaktpost apply: invalid config (ugyldig konfigurasjon):\n${err.message}\n`);
      return EXIT.dataErr;
    }
    if (err instanceof CheckFailed || err instanceof FirewallConfigError) {
      io.err(`vaktpost apply: ${err.message}\n`);
      return EXIT.dataErr;
    }
    if (err instanceof CliError) {
      io.err(`vaktpost apply: ${err.message}\n`);
      return err.code;
    }
    const code = exitForErrno((err as NodeJS.ErrnoException).code);
    io.err(`vaktpost apply: ${(err as Error).message}${code === EXIT.noPerm ? ' — run as root' : ''}\n`);
    return code ?? EXIT.software;
  }
}
