/**
 * Attack (issue #17, item 9): terminal escape injection. Anyone who can reach the login
 * page tries the user name "\u001b]0;pwned\u0007\u001b[31mX" (OSC: retitle the window,
 * then turn the text red); the failed login is stored as an event, and on the old code
 * `vaktpost events` printed it raw to the admin's terminal. The same with a C1 CSI
 * (U+009B), a right-to-left override (U+202E) and a line break that forges a fake
 * event line; and a deviation title with escapes in `vaktpost deviations`. Now the CLI,
 * run as a real child process, prints none of those bytes: each control character is
 * shown as a visible \uXXXX escape (cli/terminalText.ts), and `--json` stays valid JSON
 * with the same values.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { startSupervisor, writeSimConfig } from '../helpers/supervisorProcess.js';
import { scratchDir } from '../helpers/util.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const OSC_NAME = '\u001b]0;pwned\u0007\u001b[31mX';
const C1_NAME = '\u009b2J\u202eevil';
/** Within the 64-character limit on user names: a fake event line after a line break. */
const FORGED = 'm\n2026-12-07 20:00:00 info  route.changed  local';
/** ESC, BEL, CR, other C0 (not LF/TAB), DEL, C1, bidi controls. */
const DANGEROUS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    c.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    c.once('error', reject);
    c.once('close', (code) => resolve({ code, out, err }));
  });
}

t.test('stored text with terminal escapes never reaches the terminal raw', async (t) => {
  const { dir, cleanup } = await scratchDir('sec-cli');
  t.teardown(cleanup);
  const { file, port } = await writeSimConfig(dir);
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill());

  for (const username of [OSC_NAME, C1_NAME, FORGED]) {
    const res = await fetch(`${sup.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password: 'wrong-password' }),
    });
    t.equal(res.status, 401, `failed login stored for ${JSON.stringify(username)}`);
  }
  const dev = await sup.api('POST', '/api/deviations', { title: `Strøm \u001b[2J\u001b[H${OSC_NAME} borte`, subsystem: 'power' });
  t.equal(dev.status, 201, 'a deviation with escapes in its title');

  await t.test('vaktpost events', async (t) => {
    const r = await cli(['events', '-c', file, '--limit', '50']);
    t.equal(r.code, 0, r.err);
    t.notMatch(r.out, DANGEROUS, 'no ESC, BEL, CSI or bidi control in the output');
    t.ok(r.out.includes('\\u001b]0;pwned\\u0007\\u001b[31mX'), 'the OSC user name is shown, escaped');
    t.ok(r.out.includes('\\u009b2J\\u202eevil'), 'the C1 CSI and the RTL override are shown, escaped');
    t.ok(r.out.includes('m\\u000a2026-12-07'), 'the line break stays inside its event');
    t.notOk(
      r.out.split('\n').some((l) => l.startsWith('2026-12-07 20:00:00 info  route.changed')),
      'no forged event line',
    );
  });

  await t.test('vaktpost events --json: valid JSON, same values, no raw controls', async (t) => {
    const r = await cli(['events', '-c', file, '--limit', '50', '--json']);
    t.equal(r.code, 0, r.err);
    t.notMatch(r.out, DANGEROUS);
    const events = JSON.parse(r.out) as Array<{ kind: string; actor: string | null }>;
    const actors = events.filter((e) => e.kind === 'auth.failed').map((e) => e.actor);
    t.ok(actors.includes(OSC_NAME) && actors.includes(C1_NAME) && actors.includes(FORGED), 'the stored names, unchanged, after JSON.parse');
  });

  await t.test('vaktpost deviations', async (t) => {
    const r = await cli(['deviations', '-c', file]);
    t.equal(r.code, 0, r.err);
    t.notMatch(r.out, DANGEROUS);
    t.ok(r.out.includes('Strøm \\u001b[2J\\u001b[H\\u001b]0;pwned'), 'the title is shown, escaped');
  });
});
