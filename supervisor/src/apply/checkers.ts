/**
 * Each daemon's own config checker, run on a rendered file before it replaces the
 * live one: `kamailio -c -f`, `nft -c -f`, `chronyd -p -f`. rtpengine has no checker
 * (its --config-file is only read at start), nor has SIPp for a scenario. A checker that
 * is not installed is reported as "not checked", never as "ok".
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';

export type CheckerName = 'kamailio' | 'nft' | 'chronyd';

const ARGS: Record<CheckerName, (file: string) => string[]> = {
  kamailio: (f) => ['-c', '-f', f],
  nft: (f) => ['-c', '-f', f],
  chronyd: (f) => ['-p', '-f', f],
};

/** Display form of the check, e.g. `kamailio -c`. */
export const CHECK_LABEL: Record<CheckerName, string> = { kamailio: 'kamailio -c', nft: 'nft -c', chronyd: 'chronyd -p' };

export type CheckResult = { checked: true } | { checked: false; why: string };

export class CheckFailed extends Error {}

/** The binary on PATH or in the sbin folders (root's PATH on Debian has them; a sudo-less shell may not). */
export function findBinary(name: string): string | null {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

export function runChecker(name: CheckerName, file: string, shownAs: string): Promise<CheckResult> {
  const bin = findBinary(name);
  if (bin === null) return Promise.resolve({ checked: false, why: `${name} is not installed` });
  return new Promise((resolve, reject) => {
    execFile(bin, ARGS[name](file), { timeout: 30_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve({ checked: true });
      // The checkers name the temporary file; the operator knows the file by its real name.
      const out = `${stderr}${stdout}`.split(file).join(shownAs).trim().split('\n').slice(-12).join('\n');
      reject(new CheckFailed(`${CHECK_LABEL[name]} refused the rendered ${shownAs} — nothing was written:\n${out}`));
    });
  });
}
