/**
 * The data directory (box.dataDir) holds health data and secrets: the store (call
 * records, events, the audio-log index), the CLI token, the first admin password, the
 * TLS key, the flows' credential secret and the audio archive. It is owner-only
 * (issue #17: `make run` left vaktpost.db 0644 in a 0755 directory, readable by every
 * local user).
 *
 * At start: the directory is created 0700; if it (or anything directly in it) is open
 * to group or others — a data dir from an older version, a restored backup, a manual
 * mkdir — those bits are taken away and the caller logs what was tightened. Entries owned
 * by another user are left alone (a helper process with its own account owns its own
 * directory). New files are owner-only through the process umask (cli `run`:
 * 0077, like UMask= in ops/systemd/vaktpost.service) and explicit modes.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Creates `dir` 0700 if missing; tightens it and its direct entries; returns what it tightened. */
export function secureDataDir(dir: string): Array<{ path: string; from: string }> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tightened: Array<{ path: string; from: string }> = [];
  const me = process.getuid?.();
  const tighten = (p: string) => {
    const st = lstatSync(p);
    // Symlinks have no modes of their own; another user's entry is theirs to keep.
    if (st.isSymbolicLink() || (me !== undefined && st.uid !== me)) return;
    if ((st.mode & 0o077) === 0) return;
    chmodSync(p, st.mode & 0o700);
    tightened.push({ path: p, from: (st.mode & 0o777).toString(8).padStart(4, '0') });
  };
  tighten(dir);
  for (const name of readdirSync(dir)) tighten(path.join(dir, name));
  return tightened;
}

/** The umask for the supervisor process: every file and directory it creates is owner-only. */
export const OWNER_ONLY_UMASK = 0o077;
