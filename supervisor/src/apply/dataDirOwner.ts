/**
 * Files `vaktpost apply` (run as root) writes inside box.dataDir belong to whoever owns
 * the data dir — the `vaktpost` user on a packaged box — so the units that run as that
 * user can read them: a root-owned 0600 kamailio.cfg would stop Kamailio. Outside the
 * data dir (chrony's conf.d) files stay root's. Nothing is done when apply is not root
 * (it can only create files as itself) or the data dir does not exist yet.
 */
import { chownSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';

export function giveToDataDirOwner(dataDir: string, written: readonly string[]): void {
  if (process.getuid?.() !== 0 || !existsSync(dataDir)) return;
  const { uid, gid } = statSync(dataDir);
  if (uid === 0) return;
  const done = new Set<string>();
  for (const file of written) {
    const rel = path.relative(dataDir, file);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    // The file and every folder between it and the data dir (apply may have created them).
    for (let p = file; p !== dataDir && !done.has(p); p = path.dirname(p)) {
      done.add(p);
      if (existsSync(p)) chownSync(p, uid, gid);
    }
  }
}
