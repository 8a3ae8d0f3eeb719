/**
 * A real Kamailio for tests: the cfg and dispatcher list are rendered by
 * Vaktpost's own renderer into a scratch dir, Kamailio runs in the foreground
 * (`-DD -E`) on dynamic loopback ports with its ctl socket and pid file in that
 * dir (there is no /run/kamailio without systemd), and is ready when its
 * JSON-RPC answers. `restart()` is a real stop + start (state resets to the list
 * file, like a crash or `systemctl restart`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { KamailioRpc } from '../../hardware/kamailio/rpc.js';
import { controlKeys, controlSecretPathOf } from '../../supervisor/src/reconcilers/kamailio/controlSecret.js';
import { type KamailioRenderInput, renderKamailio } from '../../supervisor/src/reconcilers/kamailio/render.js';
import { KamailioActuator } from '../../supervisor/src/reconcilers/kamailio/kamailioActuator.js';
import { makeTestPrompt, type TestPrompt } from './audio/prompt.js';
import { type CentreBehaviour, startAnnouncement, startCentre, type UasHandle, waitSipReady } from './sipp.js';
import { freePort, scratchDir, waitFor } from './util.js';

export const KAMAILIO = process.env.KAMAILIO ?? '/usr/sbin/kamailio';

/** Our settings: 2 s no-reply, keepalives every 2 s. */
export const OUR_TIMERS: KamailioRenderInput['timers'] = {
  noReplyMs: 2000,
  ringNoAnswerMs: 20_000,
  keepaliveIntervalS: 2,
  probingThreshold: 1,
  inactiveThreshold: 1,
  keepaliveReplyCodes: [403, 404, 405, 501],
};

/**
 * A fresh control secret written where the supervisor looks for it
 * (`<configDir>/control.secret`, 0600), as `vaktpost kamailio-render` would.
 */
export async function writeTestControlSecret(configDir: string): Promise<string> {
  const secret = randomBytes(32).toString('hex');
  await writeFile(controlSecretPathOf({ configDir }), `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Kamailio's stock behaviour: no keepalives, fr_timer 30 s, fr_inv_timer 120 s. */
export const KAMAILIO_DEFAULT_TIMERS: KamailioRenderInput['timers'] = {
  noReplyMs: 30_000,
  ringNoAnswerMs: 120_000,
  keepaliveIntervalS: 0,
  probingThreshold: 1,
  inactiveThreshold: 1,
  keepaliveReplyCodes: [],
};

export interface KamailioTestOptions {
  centres: { local: string[]; backup: string[] };
  announcementUris: string[];
  timers?: Partial<KamailioRenderInput['timers']>;
  announcementAnswerTimeoutMs?: number;
  finalReply?: { code: number; reason: string };
  trunkSources?: string[];
  /** Route written into the list file (default local). */
  listTarget?: 'local' | 'backup';
  children?: number;
}

export interface KamailioHandle {
  readonly dir: string;
  readonly sipPort: number;
  readonly rpcPort: number;
  readonly rpc: KamailioRpc;
  readonly input: KamailioRenderInput;
  readonly listPath: string;
  readonly pid: number | undefined;
  /** Kamailio's stderr log so far (last ~64 kB). */
  log(): string;
  /** Stop (SIGTERM) and start again with the same files; resolves when RPC answers. */
  restart(): Promise<void>;
  /** Stop Kamailio (idempotent). */
  kill(): Promise<void>;
  /** kill() and remove the scratch dir. */
  stop(): Promise<void>;
}

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

async function stopChild(child: ChildProcess | null): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    // Kamailio's children go with the main process; -pid reaches the whole group.
    if (child.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }
  }, 5000);
  await exited;
  clearTimeout(timer);
}

/** Render, start and wait for a Kamailio; registers teardown on `t`. */
export async function startKamailio(t: TeardownHost, o: KamailioTestOptions): Promise<KamailioHandle> {
  const scratch = await scratchDir('kamailio');
  const sipPort = await freePort();
  let rpcPort = await freePort();
  while (rpcPort === sipPort) rpcPort = await freePort();
  const listPath = path.join(scratch.dir, 'dispatcher.list');
  const cfgPath = path.join(scratch.dir, 'kamailio.cfg');
  const controlSecret = await writeTestControlSecret(scratch.dir);
  const input: KamailioRenderInput = {
    listen: { address: '127.0.0.1', port: sipPort, transports: ['udp'] },
    trunkSources: o.trunkSources ?? [],
    centres: o.centres,
    announcement: { uris: o.announcementUris, answerTimeoutMs: o.announcementAnswerTimeoutMs ?? 3000 },
    finalReply: o.finalReply ?? { code: 480, reason: 'Temporarily Unavailable' },
    timers: { ...OUR_TIMERS, ...o.timers },
    rpcPort,
    controlSecret,
    runDir: scratch.dir,
    dispatcherListPath: listPath,
    children: o.children ?? 4,
  };
  const rendered = renderKamailio(input, o.listTarget ?? 'local');
  await writeFile(cfgPath, rendered.cfg, { mode: 0o600 });
  await writeFile(listPath, rendered.dispatcherList);

  // 5 s, not the supervisor's 2 s: with two CPU hogs beside the suite one loopback RPC was
  // measured at up to 0.9 s (p95 148 ms) while Kamailio waited for a core. Tests read
  // state through it; how fast Kamailio answers is the bench's business.
  const rpc = new KamailioRpc({ port: rpcPort, timeoutMs: 5000, secret: controlKeys(controlSecret).rpc });
  let child: ChildProcess | null = null;
  let logText = '';

  const launch = async () => {
    const c = spawn(KAMAILIO, ['-DD', '-E', '-f', cfgPath, '-Y', scratch.dir, '-P', path.join(scratch.dir, 'kamailio.pid')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    child = c;
    c.stderr?.on('data', (d: Buffer) => {
      // 1 MiB: tests read per-call lines of a 100-call run from it.
      logText = (logText + d.toString('utf8')).slice(-1_048_576);
    });
    let exitedEarly: string | null = null;
    c.on('exit', (code, sig) => {
      if (child === c) exitedEarly = `kamailio exited (${sig ?? code})`;
    });
    c.on('error', (e) => {
      exitedEarly = `cannot start ${KAMAILIO}: ${e.message} — install the Debian package kamailio`;
    });
    await waitFor(
      async () => {
        if (exitedEarly) throw new Error(`${exitedEarly}; log:\n${logText.slice(-3000)}`);
        await rpc.coreUptime();
        return true;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: `Kamailio JSON-RPC on 127.0.0.1:${rpcPort}` },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nKamailio log:\n${logText.slice(-3000)}`);
    });
  };

  let stopped = false;
  const handle: KamailioHandle = {
    dir: scratch.dir,
    sipPort,
    rpcPort,
    rpc,
    input,
    listPath,
    get pid() {
      return (child as ChildProcess | null)?.pid;
    },
    log: () => logText,
    restart: async () => {
      const old = child;
      child = null;
      await stopChild(old);
      await launch();
    },
    kill: async () => {
      const c = child;
      child = null;
      await stopChild(c);
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await handle.kill();
      await scratch.cleanup();
    },
  };
  t.teardown(() => handle.stop());
  await launch();
  return handle;
}

// ---------------------------------------------------------------------------
// The whole call path on loopback: two SIPp test centres, the shipped
// announcement server playing the espeak-ng prompt, and a real Kamailio
// rendered from Vaktpost's config pointing at them.

export interface CallLab {
  kam: KamailioHandle;
  local: UasHandle;
  backup: UasHandle;
  announcement: UasHandle;
  prompt: TestPrompt;
  actuator: KamailioActuator;
}

export interface CallLabOptions {
  local?: CentreBehaviour;
  backup?: CentreBehaviour;
  timers?: KamailioTestOptions['timers'];
  announcementAnswerTimeoutMs?: number;
  /** The announcement hangs up after this long (default 20 s). */
  announcementMaxPlayMs?: number;
}

export async function startCallLab(t: TeardownHost, o: CallLabOptions = {}): Promise<CallLab> {
  const prompt = await makeTestPrompt(t);
  const [local, backup, announcement] = await Promise.all([
    startCentre(t, 'local', o.local ?? 'answer'),
    startCentre(t, 'backup', o.backup ?? 'answer'),
    startAnnouncement(t, prompt.file, o.announcementMaxPlayMs),
  ]);
  await Promise.all([local, backup, announcement].map((u) => waitSipReady(u)));
  const kam = await startKamailio(t, {
    centres: { local: [local.uri], backup: [backup.uri] },
    announcementUris: [announcement.uri],
    ...(o.timers ? { timers: o.timers } : {}),
    ...(o.announcementAnswerTimeoutMs !== undefined ? { announcementAnswerTimeoutMs: o.announcementAnswerTimeoutMs } : {}),
  });
  const actuator = new KamailioActuator({
    rpc: kam.rpc,
    centres: { local: [local.uri], backup: [backup.uri] },
    verify: { optionsTimeoutMs: 1000, acceptCodes: [] },
  });
  return { kam, local, backup, announcement, prompt, actuator };
}
