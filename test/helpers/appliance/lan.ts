/**
 * A two-ended network for one appliance container: the box's own network
 * namespace with `eth0` (198.51.100.2/24, TEST-NET-2) and an "outside"
 * namespace (198.51.100.1/24) at the other end of a veth pair — the LAN the
 * box sits on, from which a test can probe which ports answer.
 *
 * - The box needs a real (non-loopback) interface: Debian's stock rtpengine
 *   (`interface = any`) fails to start in a namespace with only `lo`, which
 *   leaves systemd `degraded` for a reason a real box never has.
 * - Nothing is shared with the host's network: Debian starts stock kamailio and
 *   rtpengine at boot, and on the host's network they would take 5060 and 2223
 *   from the other tests.
 * - `remove()` deletes both namespaces (which deletes the veth pair); it is
 *   idempotent and has a synchronous twin for process exit.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const BOX_ADDRESS = '198.51.100.2';
export const OUTSIDE_ADDRESS = '198.51.100.1';

export interface ApplianceLan {
  /** `ip netns` name of the box's namespace; nspawn joins /run/netns/<box>. */
  readonly box: string;
  /** `ip netns` name of the outside namespace (run probes with `ip netns exec <outside> …`). */
  readonly outside: string;
  readonly boxAddress: string;
  readonly outsideAddress: string;
  remove(): Promise<void>;
  removeSync(): void;
}

/** Create the pair of namespaces for the container `name` (≤ 11 chars keeps interface names within 15). */
export async function createLan(name: string): Promise<ApplianceLan> {
  const box = `${name}-box`;
  const outside = `${name}-out`;
  const vethBox = `${name}b`;
  const vethOut = `${name}o`;
  const steps: string[][] = [
    ['netns', 'add', box],
    ['netns', 'add', outside],
    ['-n', box, 'link', 'set', 'lo', 'up'],
    ['-n', outside, 'link', 'set', 'lo', 'up'],
    ['link', 'add', vethBox, 'netns', box, 'type', 'veth', 'peer', 'name', vethOut, 'netns', outside],
    ['-n', box, 'link', 'set', vethBox, 'name', 'eth0'],
    ['-n', box, 'addr', 'add', `${BOX_ADDRESS}/24`, 'dev', 'eth0'],
    ['-n', outside, 'addr', 'add', `${OUTSIDE_ADDRESS}/24`, 'dev', vethOut],
    ['-n', box, 'link', 'set', 'eth0', 'up'],
    ['-n', outside, 'link', 'set', vethOut, 'up'],
  ];
  const removeSync = () => {
    for (const ns of [box, outside]) if (existsSync(`/run/netns/${ns}`)) spawnSync('ip', ['netns', 'del', ns]);
  };
  const lan: ApplianceLan = {
    box,
    outside,
    boxAddress: BOX_ADDRESS,
    outsideAddress: OUTSIDE_ADDRESS,
    async remove() {
      for (const ns of [box, outside]) if (existsSync(`/run/netns/${ns}`)) await run('ip', ['netns', 'del', ns]);
    },
    removeSync,
  };
  for (const args of steps) {
    try {
      await run('ip', args);
    } catch (err) {
      removeSync();
      throw new Error(`setting up the appliance network failed at 'ip ${args.join(' ')}': ${(err as Error).message} — is iproute2 installed and are you root?`);
    }
  }
  return lan;
}
