/**
 * A persistent `ip -o -n <ns> -batch -` per namespace, so a link fault is one line
 * written to a pipe instead of a fork+exec of `ip`. Under load the fork+exec alone took
 * tens of ms, which would be billed to the monitor's detection time. Each command is
 * followed by `link show dev lo`, whose output line marks the command done.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export class IpShell {
  private readonly child: ChildProcess;
  private readonly waiting: Array<{ resolve: () => void; reject: (e: Error) => void; cmd: string }> = [];
  private stderr = '';

  constructor(readonly ns: string) {
    this.child = spawn('ip', ['-o', '-force', '-n', ns, '-batch', '-'], { stdio: ['pipe', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      if (/^\d+: lo: /.test(l)) this.settle();
    });
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (l) => {
      this.stderr = `${this.stderr}${l}\n`.slice(-2000);
    });
    this.child.once('exit', () => {
      for (const w of this.waiting.splice(0)) w.reject(new Error(`ip -batch in ${this.ns} exited (${this.stderr.trim()})`));
    });
  }

  private settle(): void {
    const w = this.waiting.shift();
    if (!w) return;
    if (/Command failed|Error|Cannot|invalid/i.test(this.stderr)) {
      const why = this.stderr.trim();
      this.stderr = '';
      w.reject(new Error(`\`ip -n ${this.ns} ${w.cmd}\` failed: ${why}`));
    } else w.resolve();
  }

  /** Run one `ip` command (without the leading `ip`); resolves once the kernel has it. */
  run(cmd: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject, cmd });
      this.child.stdin?.write(`${cmd}\nlink show dev lo\n`);
    });
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill('SIGTERM');
  }
}
