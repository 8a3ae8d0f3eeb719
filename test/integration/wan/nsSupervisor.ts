/**
 * The real supervisor (`vaktpost run`, real hardware) inside the test-bed's box namespace,
 * with the WAN config given, read the way a technician would: /api/status over the box's
 * own loopback (curl inside the namespace, the CLI token) and its store read-only.
 */
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Test } from 'tap';
import { REPO_ROOT } from '../../helpers/netns/monitorProcess.js';
import { NsProcess } from '../../helpers/netns/nsProcess.js';
import { nsExec } from '../../helpers/netns/sh.js';
import type { Testbed } from '../../helpers/netns/testbed.js';
import { waitFor } from '../../helpers/util.js';

export interface NsStatus {
  route: string;
  mode: string;
  health: Record<string, { status: string }>;
  floor: Array<{ code: string }>;
  signals: Array<{ key: string; status: string; value?: unknown; detail?: string }>;
}

export async function startNsSupervisor(t: Test, bed: Testbed, o: { dir: string; port: number; wan: unknown; waitMs: number }) {
  const dataDir = path.join(o.dir, 'data');
  const file = path.join(o.dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    `box: { name: netns-box, dataDir: ${dataDir}, hardware: real }\n` +
      `api: { listen: 127.0.0.1, port: ${o.port} }\n` +
      `policy: { failbackHoldS: 2, holdDownS: 1, tickMs: 100, failoverOn: [wan, centres] }\n` +
      `time: { chronyc: { socket: /nonexistent/chronyd.sock } }\n` +
      `wan: ${JSON.stringify(o.wan)}\n`,
  );
  const sup = await NsProcess.start({
    ns: bed.ns.box,
    cmd: process.execPath,
    args: ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'run', '-c', file],
    cwd: REPO_ROOT,
    ready: /Vaktpost is running/,
    readyTimeoutMs: 60_000,
    label: 'supervisor',
  });
  t.teardown(() => sup.stop());

  const status = async (): Promise<NsStatus> => {
    const token = (await readFile(path.join(dataDir, 'cli.token'), 'utf8')).trim();
    const { stdout } = await nsExec(bed.ns.box, 'curl', [
      '-sf',
      '--max-time',
      '10',
      '-H',
      `authorization: Bearer ${token}`,
      `http://127.0.0.1:${o.port}/api/status`,
    ]);
    return JSON.parse(stdout) as NsStatus;
  };
  const signal = (s: NsStatus, key: string) => s.signals.find((x) => x.key === key);
  const waitStatus = (what: string, pred: (s: NsStatus) => boolean, timeoutMs = o.waitMs) =>
    waitFor(
      async () => {
        const s = await status().catch(() => null);
        return s && pred(s) ? s : null;
      },
      { timeoutMs, intervalMs: 250, what },
    );
  const db = new Database(path.join(dataDir, 'vaktpost.db'), { readonly: true, fileMustExist: true });
  t.teardown(() => db.close());
  return { sup, status, signal, waitStatus, db, dataDir };
}
