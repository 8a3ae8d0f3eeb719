/**
 * Every command the CLI dispatches has a `--help` text that starts with its synopsis and
 * a line in `vaktpost --help`, and the documented exit codes are the sysexits values.
 * (The CLI itself is driven in test/integration/cli/cli.test.ts.)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { COMMAND_RESULTS, EXIT, exitForErrno, exitForHttpStatus } from '../../../supervisor/src/cli/exitCodes.js';
import { COMMAND_HELP, generalHelp } from '../../../supervisor/src/cli/help.js';

t.test('every dispatched command has help, and only those', async (t) => {
  const main = readFileSync(path.resolve(import.meta.dirname, '../../../supervisor/src/cli/main.ts'), 'utf8');
  const body = main.slice(main.indexOf('async function command('));
  const dispatched = [...body.matchAll(/case '([a-z-]+)':/g)].map((m) => m[1] as string);
  // audiolog and apply parse their own options and are dispatched before the shared parser.
  const all = [...new Set(['audiolog', 'apply', ...dispatched])].sort();
  t.same(Object.keys(COMMAND_HELP).sort(), all, 'COMMAND_HELP covers exactly the commands main.ts runs');
  const general = generalHelp('9.9.9');
  t.match(general, /^vaktpost 9\.9\.9 /);
  for (const c of all) {
    t.match(COMMAND_HELP[c], new RegExp(`^vaktpost ${c}\\b`), `${c} --help starts with its synopsis`);
    t.match(general, new RegExp(`^  ${c} +\\S`, 'm'), `vaktpost --help has a line for ${c}`);
  }
});

t.test('the exit codes are sysexits(3), verdicts stay below 64', async (t) => {
  t.same(EXIT, { ok: 0, usage: 64, dataErr: 65, unavailable: 69, software: 70, cantCreate: 73, noPerm: 77, config: 78 });
  t.same(COMMAND_RESULTS.status, { normal: 0, degraded: 1, critical: 2, unknown: 3 });
  t.same([400, 404, 409, 401, 403, 500, 503].map(exitForHttpStatus), [65, 65, 65, 77, 77, 70, 69]);
  t.same(['EACCES', 'ENOENT', 'ENOSPC', 'ECONNRESET'].map(exitForErrno), [77, 73, 73, undefined]);
});
