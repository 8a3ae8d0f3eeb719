/**
 * Runs the real WAN (and optionally centres) monitor inside the box namespace and
 * streams its signals to stdout as JSON lines. Node cannot setns(2), so the test-bed
 * starts this with `ip netns exec <box> node --import tsx monitorChild.ts`.
 *
 * Input: env VAKTPOST_WAN_CONFIG (WanConfig input as JSON), VAKTPOST_CENTRES=1 to run
 * the centres monitor too. Output lines: {"ready":true,...} once started, then
 * {"t":<epoch ms>,"signal":{...}} per signal. Exits cleanly on SIGTERM.
 */
import { wanConfigSchema } from '../../../supervisor/src/config/wan.js';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { CentresMonitor } from '../../../supervisor/src/monitors/centresMonitor.js';
import type { Monitor } from '../../../supervisor/src/monitors/monitor.js';
import { WanMonitor } from '../../../supervisor/src/monitors/wanMonitor.js';

function out(obj: unknown): void {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

async function main(): Promise<void> {
  const raw = process.env.VAKTPOST_WAN_CONFIG;
  if (!raw) throw new Error('VAKTPOST_WAN_CONFIG is not set (the test-bed passes the WAN config as JSON)');
  const parsed = wanConfigSchema.safeParse(JSON.parse(raw));
  if (!parsed.success) throw new Error(`bad WAN config: ${parsed.error.message}`);
  const cfg = parsed.data;
  const monitors: Monitor[] = [new WanMonitor(cfg)];
  if (process.env.VAKTPOST_CENTRES === '1') monitors.push(new CentresMonitor(cfg));
  const emit = (signal: Signal) => out({ t: Date.now(), signal });
  for (const m of monitors) await m.start(emit);
  out({ ready: true, pid: process.pid, t: Date.now() });
  const stop = async () => {
    for (const m of monitors) await m.stop();
    process.exit(0);
  };
  if (process.env.VAKTPOST_EXIT_ON_STDIN_EOF === '1') {
    // The test process holds our stdin: when it is gone, so are we.
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  }
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((e: unknown) => {
  process.stderr.write(`monitorChild: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
