/**
 * The world around an appliance container: the call centres and the trunk
 * caller are SIPp processes in the container's "outside" namespace (the LAN,
 * lan.ts), so every SIP packet crosses the box's eth0 — and its firewall — as
 * on a real site; the UPS is NUT's dummy-ups inside the box, served by the
 * box's own upsd, as a real UPS on USB would be.
 *
 * - SIPp runs from the host (test/helpers/sipp.ts parses its logs as in every
 *   other call test) through `ip netns exec`, which execs SIPp in place: the
 *   PID the helper signals is SIPp's own. Each process is killed by t.teardown.
 * - `setupDummyUps` returns only when upsd answers `ups.status` from the
 *   driver: the unit order alone does not wait for the driver's socket.
 */
import { chmod, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { startSipp } from '../../../hardware/sip/sipp.js';
import { type CallerResult, SCENARIOS, summarizeCaller, type UasHandle } from '../sipp.js';
import { scratchDir, waitFor } from '../util.js';
import type { ApplianceContainer } from './container.js';

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

/** An executable that runs SIPp in the box's outside namespace. */
async function outsideSippBinary(t: TeardownHost, box: ApplianceContainer): Promise<{ binary: string; dir: string }> {
  if (!box.lan) throw new Error(`${box.name} has no harness LAN (it joined a given namespace): no outside to run SIPp in`);
  const scratch = await scratchDir(`appliance-sipp-${box.name}`);
  t.teardown(scratch.cleanup);
  const binary = path.join(scratch.dir, 'sipp-outside');
  await writeFile(binary, `#!/bin/sh\nexec ip netns exec ${box.lan.outside} sipp "$@"\n`);
  await chmod(binary, 0o755);
  return { binary, dir: scratch.dir };
}

/** A centre (SIPp UAS answering, `-aa` for the dispatcher's OPTIONS) at <outside address>:port. */
export async function startOutsideCentre(t: TeardownHost, box: ApplianceContainer, role: string, port: number): Promise<UasHandle> {
  const { binary, dir } = await outsideSippBinary(t, box);
  const lan = box.lan!;
  const proc = startSipp({
    binary,
    scenarioFile: SCENARIOS.answer,
    workDir: dir,
    localIp: lan.outsideAddress,
    localPort: port,
    keys: { role },
    autoAnswer: true,
  });
  t.teardown(() => proc.kill());
  return { port, uri: `sip:${role}@${lan.outsideAddress}:${port}`, proc, stop: () => proc.stop(), kill: () => proc.kill() };
}

export interface OutsideCallerOptions {
  /** The box's SIP port (on its LAN address). */
  sipPort: number;
  calls: number;
  rate: number;
  holdMs: number;
  number?: string;
  recvTimeoutMs?: number;
  timeoutS?: number;
}

/** Place calls from the trunk side (the outside namespace) to the box and return SIPp's summary. */
export async function runOutsideCaller(t: TeardownHost, box: ApplianceContainer, o: OutsideCallerOptions): Promise<CallerResult> {
  const { binary, dir } = await outsideSippBinary(t, box);
  const lan = box.lan!;
  const proc = startSipp({
    binary,
    scenarioFile: SCENARIOS.caller,
    workDir: dir,
    localIp: lan.outsideAddress,
    remote: `${lan.boxAddress}:${o.sipPort}`,
    service: o.number ?? '116117',
    calls: o.calls,
    rate: o.rate,
    pauseMs: o.holdMs,
    limit: Math.max(50, o.rate * 10),
    keys: { rtp_port: '9' },
    recvTimeoutMs: o.recvTimeoutMs ?? 30_000,
    ...(o.timeoutS !== undefined ? { timeoutS: o.timeoutS } : {}),
  });
  t.teardown(() => proc.kill());
  return summarizeCaller(await proc.done);
}

export interface DummyUps {
  ups: string;
  user: string;
  password: string;
  /** Replace the UPS's variables (dummy-ups re-reads its .dev file when its mtime changes). */
  setVars(vars: Record<string, string | number>): Promise<void>;
}

const DEFAULT_UPS_VARS = { 'ups.status': 'OL', 'battery.charge': 100, 'battery.runtime': 1800, 'input.voltage': 230, 'ups.load': 20 };

/**
 * Configure NUT inside the box as a real site would (netserver, one dummy-ups
 * UPS, upsd on 127.0.0.1:3493, one `upsmon secondary` user) and start it.
 */
export async function setupDummyUps(box: ApplianceContainer, o: { ups?: string; user?: string; password?: string } = {}): Promise<DummyUps> {
  const ups = o.ups ?? 'ups1';
  const user = o.user ?? 'vaktpost';
  const password = o.password ?? 'lab-ups-secret';
  const dev = (vars: Record<string, string | number>) =>
    Object.entries(vars)
      .map(([k, v]) => `${k}: ${v}\n`)
      .join('');
  await box.writeFile('/etc/nut/nut.conf', 'MODE=netserver\n');
  await box.writeFile('/etc/nut/ups.conf', `[${ups}]\n  driver = dummy-ups\n  port = ${ups}.dev\n  desc = "appliance test UPS"\n`);
  await box.writeFile(`/etc/nut/${ups}.dev`, dev(DEFAULT_UPS_VARS));
  await box.writeFile('/etc/nut/upsd.conf', 'LISTEN 127.0.0.1 3493\n');
  await box.writeFile('/etc/nut/upsd.users', `[${user}]\n  password = ${password}\n  upsmon secondary\n`);
  await box.sh('chown root:nut /etc/nut/* && chmod 640 /etc/nut/upsd.users /etc/nut/*.dev');
  await box.sh('systemctl restart nut-driver-enumerator.service && systemctl restart nut-server.service');
  await waitFor(async () => (await box.exec(['upsc', `${ups}@127.0.0.1`, 'ups.status'])).stdout.trim() === 'OL', {
    timeoutMs: 30_000,
    intervalMs: 200,
    what: `upsd in ${box.name} to report ${ups} OL from dummy-ups`,
  }).catch(async (err: Error) => {
    throw new Error(`${err.message}. Driver journal:\n${await box.journal(`nut-driver@${ups}`, 20)}\nupsd journal:\n${await box.journal('nut-server', 20)}`);
  });
  let mtime = Math.floor(Date.now() / 1000);
  return {
    ups,
    user,
    password,
    async setVars(vars) {
      // dummy-ups (dummy-once) re-reads the file only when its mtime second moves on.
      mtime = Math.max(mtime + 1, Math.floor(Date.now() / 1000) + 1);
      await box.writeFile(`/etc/nut/${ups}.dev.new`, dev(vars), 0o640);
      await box.sh(`chown root:nut /etc/nut/${ups}.dev.new && touch -d @${mtime} /etc/nut/${ups}.dev.new && mv /etc/nut/${ups}.dev.new /etc/nut/${ups}.dev`);
    },
  };
}
