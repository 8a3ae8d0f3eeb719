/**
 * Running the network tools the test-bed needs (`ip`, `nft`, `iptables`) with errors
 * that say which command failed and why.
 */
import { execFile } from 'node:child_process';

export interface RunResult {
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) {
        const e = new Error(
          `\`${cmd} ${args.join(' ')}\` failed: ${stderr.trim() || err.message} — the netns test-bed needs root and iproute2/nftables/iptables`,
        );
        reject(e);
      } else resolve({ stdout, stderr });
    });
    if (opts.input !== undefined) {
      child.stdin?.end(opts.input);
    }
  });
}

/** `ip -n <ns> …` (or plain `ip …` when ns is undefined). */
export function ip(ns: string | undefined, ...args: string[]): Promise<RunResult> {
  return run('ip', ns === undefined ? args : ['-n', ns, ...args]);
}

/** Run a command inside a namespace. */
export function nsExec(ns: string, cmd: string, args: readonly string[], opts: { input?: string } = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** Load an nft ruleset (newline-separated; nft's one-line syntax is picky) into a namespace. */
export function nft(ns: string, ruleset: string): Promise<RunResult> {
  return nsExec(ns, 'nft', ['-f', '-'], { input: ruleset.endsWith('\n') ? ruleset : `${ruleset}\n` });
}
