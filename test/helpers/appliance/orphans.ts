/**
 * Containers whose test process died without `stop()` (SIGKILL, tap's timeout,
 * a crash) are found and removed by the next boot, so a failed run never leaves
 * a running systemd, an overlay mount or a network namespace behind for good.
 *
 * - Each container's scratch dir holds `owner.json`: the test process's PID
 *   and its start time (so a reused PID is not taken for the owner), the
 *   nspawn PID and the container's PID 1.
 * - Only dirs whose owner is gone are touched: containers of other live test
 *   processes (tap runs files in parallel) are left alone.
 * - A PID is killed only if it still is what was recorded (comm `systemd` /
 *   `systemd-nspawn`, PID > 1).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '../util.js';

const run = promisify(execFile);

export const SCRATCH_PREFIX = 'vaktpost-appliance-';

interface Owner {
  name: string;
  ownerPid: number;
  ownerStart: string;
  nspawnPid?: number;
  leaderPid?: number;
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or null when the process is gone. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function comm(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

export function writeOwner(scratch: string, o: Omit<Owner, 'ownerPid' | 'ownerStart'>): void {
  const owner: Owner = { ...o, ownerPid: process.pid, ownerStart: startTime(process.pid) ?? '' };
  writeFileSync(path.join(scratch, 'owner.json'), JSON.stringify(owner));
}

/** Remove every appliance container left by a test process that no longer exists. Returns the names removed. */
export async function reapOrphans(log: (line: string) => void): Promise<string[]> {
  const reaped: string[] = [];
  const tmp = os.tmpdir();
  for (const entry of readdirSync(tmp).filter((n) => n.startsWith(SCRATCH_PREFIX))) {
    const scratch = path.join(tmp, entry);
    let o: Owner;
    try {
      o = JSON.parse(readFileSync(path.join(scratch, 'owner.json'), 'utf8')) as Owner;
    } catch {
      continue; // being created right now, or not ours
    }
    if (startTime(o.ownerPid) === o.ownerStart) continue; // its test process is alive
    log(`removing ${o.name}, left behind by test process ${o.ownerPid} (gone): ${scratch}`);
    for (const [pid, expected] of [
      [o.leaderPid, 'systemd'],
      [o.nspawnPid, 'systemd-nspawn'],
    ] as const) {
      if (pid && pid > 1 && comm(pid) === expected) process.kill(pid, 'SIGKILL');
    }
    if (o.leaderPid && o.leaderPid > 1)
      await waitFor(() => comm(o.leaderPid as number) !== 'systemd', { timeoutMs: 10_000, what: `the orphaned container ${o.name} to die` });
    const root = path.join(scratch, 'root');
    if (readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${root} `)) await run('umount', ['-l', root]);
    for (const ns of [`${o.name}-box`, `${o.name}-out`]) if (existsSync(`/run/netns/${ns}`)) await run('ip', ['netns', 'del', ns]);
    await rm(scratch, { recursive: true, force: true });
    reaped.push(o.name);
  }
  return reaped;
}
