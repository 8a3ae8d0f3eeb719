/**
 * The config loader's time against the number of keys (issue #17, item 11): was
 * quadratic (40 000 keys: 11 s) in yaml's duplicate-key check and in a key lookup per
 * problem. Figures: the time for 40 000 keys, and the ratio to 10 000 keys (linear ≈ 4,
 * quadratic ≈ 16).
 */
import { parseConfigText } from '../../supervisor/src/config/load.js';

const emit = (name: string, value: number, unit: string, goal: number) =>
  console.log(JSON.stringify({ name, value: Math.round(value * 1000) / 1000, unit, goal, better: 'lower' }));

function configWith(keys: number): string {
  let text = 'box:\n  name: bench\n';
  for (let i = 0; i < keys; i++) text += `k${i}: ${i}\n`;
  return text;
}

/** Median of five runs, so one GC pause or a neighbour's burst does not decide. */
function timeLoad(keys: number): number {
  const text = configWith(keys);
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const r = parseConfigText(text, 'bench.yaml');
    runs.push(performance.now() - t0);
    if (r.ok) throw new Error('unknown keys must be refused');
  }
  return runs.sort((a, b) => a - b)[2] as number;
}

const small = timeLoad(10_000);
const large = timeLoad(40_000);
emit('config.load.40k-keys', large, 'ms', 2000);
emit('config.load.ratio-40k-to-10k', large / small, 'x', 6);
