/**
 * Restart a test chronyd in place: same config, same command socket, same
 * drift file (as `systemctl restart chrony` does), so a ChronycClient pointed
 * at the socket sees chronyd go away and come back. The first instance must
 * already be stopped (`chronyd.kill()`); the new one is killed in teardown.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Test } from 'tap';
import { CHRONYD, type ChronydHandle } from '../../helpers/chronyd.js';

export function respawnChronyd(t: Test, chronyd: ChronydHandle): ChildProcess {
  const child = spawn(CHRONYD, ['-x', '-d', '-f', chronyd.confPath], { stdio: ['ignore', 'ignore', 'ignore'] });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });
  return child;
}
