/**
 * The attacker of the local-control tests: an unprivileged account on the box
 * (`nobody`), running ordinary tools through `runuser`. The result is what the
 * attacker saw — exit code, stdout, stderr — never a thrown error, so a test
 * asserts on it either way.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export const ATTACKER = 'nobody';

export interface LocalUserResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The attacker's commands run in a bare environment, as a login shell would give
 * them — through `env -i`, because the test runner's child-process hook puts its
 * NODE_OPTIONS back into any env we pass. Those preload modules from the repo's
 * node_modules, which `nobody` cannot read when the clone sits under a private
 * folder (CI's), and every node the attacker starts would die before doing anything.
 */
const BARE_ENV = ['env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LANG=C.UTF-8'];

/** Run `cmd args…` as `nobody` (optionally inside a network namespace), from `/`. */
export function asLocalUser(cmd: string, args: readonly string[], o: { netns?: string; timeoutMs?: number } = {}): Promise<LocalUserResult> {
  const argv = ['runuser', '-u', ATTACKER, '--', ...BARE_ENV, cmd, ...args];
  const full = o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv;
  return runRaw(full, o.timeoutMs);
}

/** The same as root (the supervisor's side), for comparison. */
export function asRoot(cmd: string, args: readonly string[], o: { netns?: string; timeoutMs?: number } = {}): Promise<LocalUserResult> {
  const full = o.netns ? ['ip', 'netns', 'exec', o.netns, ...BARE_ENV, cmd, ...args] : [...BARE_ENV, cmd, ...args];
  return runRaw(full, o.timeoutMs);
}

function runRaw(argv: readonly string[], timeoutMs = 15_000): Promise<LocalUserResult> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd: '/', timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * A node one-liner that sends one UDP datagram (base64 in argv[1]) to
 * 127.0.0.1:<argv[2]> and prints `sent` or `error <code>` (an nftables drop on
 * the output path shows as EPERM at the sender).
 */
export const UDP_SEND_JS = `
const s = require('node:dgram').createSocket('udp4');
s.send(Buffer.from(process.argv[1], 'base64'), Number(process.argv[2]), '127.0.0.1', (e) => {
  console.log(e ? 'error ' + (e.code || e.message) : 'sent');
  s.close();
});`;

/**
 * A node one-liner: one rtpengine ng command (bencoded, base64 in argv[1]) to
 * 127.0.0.1:<argv[2]>; prints `reply <base64 of the answer after the cookie>`,
 * `error <code>` or `timeout` after argv[3] ms.
 */
export const NG_SEND_JS = `
const s = require('node:dgram').createSocket('udp4');
const t = setTimeout(() => { console.log('timeout'); s.close(); }, Number(process.argv[3]));
s.on('message', (m) => { clearTimeout(t); console.log('reply ' + m.subarray(m.indexOf(32) + 1).toString('base64')); s.close(); });
// A fresh cookie each time: rtpengine answers a cookie it has seen with its cached answer.
s.send(Buffer.from(require('node:crypto').randomBytes(6).toString('hex') + ' ' + Buffer.from(process.argv[1], 'base64').toString('latin1'), 'latin1'), Number(process.argv[2]), '127.0.0.1', (e) => {
  if (e) { clearTimeout(t); console.log('error ' + (e.code || e.message)); s.close(); }
});`;

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export interface LocalUserProcess {
  proc: ChildProcess;
  /** Every stdout line so far, in order. */
  seen: string[];
  /** The first line (already seen or still to come) that matches. */
  waitLine(re: RegExp): Promise<string>;
}

/**
 * A long-running node script as `nobody` (optionally inside a network namespace)
 * — a squatter or an impostor on a port. It exits when its stdin closes, which
 * the teardown does: runuser forks, so killing runuser alone would orphan it.
 */
export function startLocalUserNode(t: TeardownHost, script: string, o: { netns?: string } = {}): LocalUserProcess {
  const argv = [
    'runuser',
    '-u',
    ATTACKER,
    '--',
    ...BARE_ENV,
    process.execPath,
    '-e',
    `process.stdin.on('end', () => process.exit(0)); process.stdin.resume();\n${script}`,
  ];
  const [cmd, ...args] = (o.netns ? ['ip', 'netns', 'exec', o.netns, ...argv] : argv) as [string, ...string[]];
  const proc = spawn(cmd, args, { cwd: '/', stdio: ['pipe', 'pipe', 'inherit'], detached: true });
  t.teardown(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = once(proc, 'exit');
    proc.stdin?.end();
    await gone;
  });
  const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
  const seen: string[] = [];
  lines.on('line', (l) => seen.push(l));
  const waitLine = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const hit = seen.find((l) => re.test(l));
      if (hit !== undefined) return resolve(hit);
      const on = (l: string) => {
        if (!re.test(l)) return;
        lines.off('line', on);
        proc.off('exit', onExit);
        resolve(l);
      };
      const onExit = () => {
        lines.off('line', on);
        reject(new Error(`the local user's process exited before printing ${re} (it printed: ${seen.join(' | ')})`));
      };
      lines.on('line', on);
      proc.once('exit', onExit);
    });
  return { proc, seen, waitLine };
}
