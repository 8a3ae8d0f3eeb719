/**
 * Whether this process's stdout is the systemd journal (JOURNAL_STREAM, systemd.exec(5)):
 * "device:inode" of the stream systemd connected, compared with what fd 1 really is, so
 * a shell that inherited the variable but redirects stdout is not mistaken for it.
 * Secrets shown "once" on a terminal (the first admin password) must never land there.
 */
import { fstatSync } from 'node:fs';

export function stdoutIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(1);
    return String(st.dev) === m[1] && String(st.ino) === m[2];
  } catch {
    return false;
  }
}
