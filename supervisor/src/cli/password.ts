/**
 * The password for `vaktpost user add|passwd`: from a terminal without echo (asked twice),
 * otherwise the first line of stdin — read up to the newline and no further, so
 * `echo "$PW" | vaktpost user passwd kari` returns at once instead of waiting for Ctrl-D.
 */
import { CliError, EXIT } from './exitCodes.js';

type Stdin = NodeJS.ReadStream;

export async function readPassword(stdin: Stdin = process.stdin, prompt: (s: string) => void = (s) => void process.stderr.write(s)): Promise<string> {
  if (stdin.isTTY) {
    const [first = '', again = ''] = await readHidden(stdin, prompt, ['Password (passord): ', 'Again (gjenta): ']);
    if (first !== again) throw new CliError('the two passwords differ (passordene er ulike) — try again', EXIT.usage);
    return nonEmpty(first);
  }
  return nonEmpty(await readLine(stdin));
}

function nonEmpty(p: string): string {
  if (p === '') throw new CliError('no password given (passord mangler): type it, pipe one line, or set VAKTPOST_PASSWORD', EXIT.usage);
  return p;
}

/** One line from a pipe or file: up to the first newline (a trailing \r dropped), or all of it at EOF. */
function readLine(stdin: Stdin): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (text: string) => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.off('error', reject);
      // Stop reading: the rest of the input is not ours and must not keep the process alive.
      stdin.pause();
      stdin.destroy();
      resolve(text.replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl >= 0) done(buf.subarray(0, nl).toString('utf8'));
    };
    const onEnd = () => done(buf.toString('utf8'));
    stdin.on('data', onData);
    stdin.once('end', onEnd);
    stdin.once('error', reject);
  });
}

/**
 * Lines typed on the terminal with echo off (raw mode), one prompt each; Backspace edits,
 * Ctrl-C aborts. One listener for all of them: a fast typist's (or a test's) second line may
 * arrive in the same chunk as the first.
 */
function readHidden(stdin: Stdin, prompt: (s: string) => void, labels: readonly string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let text = '';
    prompt(labels[0] ?? '');
    stdin.setRawMode(true);
    stdin.resume();
    const finish = (err?: CliError) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      if (err) reject(err);
      else resolve(lines);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\u0003') return finish(new CliError('aborted (avbrutt)', 130));
        if (ch === '\u0004' && text === '') return finish(new CliError('no password given (passord mangler)', EXIT.usage));
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          lines.push(text);
          text = '';
          prompt('\n');
          if (lines.length === labels.length) return finish();
          prompt(labels[lines.length] ?? '');
        } else if (ch === '\u007f' || ch === '\b') text = [...text].slice(0, -1).join('');
        else if (ch >= ' ') text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
