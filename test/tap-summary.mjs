// Reads tap's output and prints "<passed> <failed>" from its closing summary
// line, e.g. "# { total: 120, pass: 118, fail: 2 }".
import { readFileSync } from 'node:fs';
const text = readFileSync(process.argv[2], 'utf8');
const lines = text.split('\n').filter((l) => /^# \{ total: \d+/.test(l));
const last = lines.at(-1);
if (!last) {
  console.log('0 1');
  process.exit(0);
}
const num = (k) => Number((last.match(new RegExp(`${k}: (\\d+)`)) ?? [])[1] ?? 0);
console.log(`${num('pass')} ${num('fail')}`);
