/**
 * The whole call path with the real supervisor process: SIPp centres (local,
 * backup) and announcement, a real Kamailio rendered from Vaktpost's config, and
 * `vaktpost run` on the simulated box driving that Kamailio.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KamailioRenderInput } from '../../supervisor/src/reconcilers/kamailio/render.js';
import { makeTestPrompt } from './audio/prompt.js';
import { startKamailio } from './kamailio.js';
import { type CentreBehaviour, startAnnouncement, startCentre, waitSipReady } from './sipp.js';
import { startSupervisor } from './supervisorProcess.js';
import { freePort, scratchDir } from './util.js';

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export async function startSupervisorCallLab(
  t: TeardownHost,
  timing: { failbackHoldS?: number; holdDownS?: number; kamailioTimers?: Partial<KamailioRenderInput['timers']>; local?: CentreBehaviour } = {},
) {
  const { failbackHoldS = 600, holdDownS = 5 } = timing;
  const prompt = await makeTestPrompt(t);
  const [local, backup, announcement] = await Promise.all([
    startCentre(t, 'local', timing.local ?? 'answer'),
    startCentre(t, 'backup'),
    startAnnouncement(t, prompt.file),
  ]);
  await Promise.all([local, backup, announcement].map((u) => waitSipReady(u)));
  const kam = await startKamailio(t, {
    centres: { local: [local.uri], backup: [backup.uri] },
    announcementUris: [announcement.uri],
    ...(timing.kamailioTimers ? { timers: timing.kamailioTimers } : {}),
  });
  const { dir, cleanup } = await scratchDir('sup-calls');
  t.teardown(cleanup);
  const { file, port } = await writeCallsConfig(dir, {
    name: 'calls-test',
    kam,
    centres: { local: local.uri, backup: backup.uri, announcement: announcement.uri },
    policy: { failbackHoldS, holdDownS },
    calls: ['  verify: { optionsTimeoutMs: 1000, testCall: { enabled: true, number: vaktpost-test, timeoutMs: 8000 } }'],
  });
  const start = () => startSupervisor(file, port);
  return { local, backup, announcement, kam, file, start };
}

/**
 * A `vaktpost.yaml` for the real supervisor on the simulated box with a real call
 * path: `calls:` pointing at a running Kamailio and its centres, plus any further
 * `calls:` lines and top-level sections (the audio log, say).
 */
export async function writeCallsConfig(
  dir: string,
  o: {
    name: string;
    /** `dir`: the test Kamailio's dir (its kamailio.cfg names `<dir>/dispatcher.list`), made `calls.configDir` so the supervisor persists the route into the list file that Kamailio restarts from. */
    kam: { sipPort: number; rpcPort: number; dir?: string };
    centres: { local: string; backup: string; announcement: string };
    policy?: { failbackHoldS?: number; holdDownS?: number };
    /** More lines inside `calls:` (indented two spaces). */
    calls?: string[];
    /** More top-level sections. */
    extra?: string[];
  },
): Promise<{ file: string; port: number }> {
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    [
      'box:',
      `  name: ${o.name}`,
      `  dataDir: ${path.join(dir, 'data')}`,
      '  hardware: simulated',
      'api:',
      '  listen: 127.0.0.1',
      `  port: ${port}`,
      `policy: { failbackHoldS: ${o.policy?.failbackHoldS ?? 600}, holdDownS: ${o.policy?.holdDownS ?? 5}, tickMs: 100 }`,
      'sim: { reportMs: 200 }',
      'calls:',
      `  sip: { address: 127.0.0.1, port: ${o.kam.sipPort} }`,
      `  centres: { local: { uris: ["${o.centres.local}"] }, backup: { uris: ["${o.centres.backup}"] } }`,
      `  announcement: { uris: ["${o.centres.announcement}"] }`,
      `  rpc: { port: ${o.kam.rpcPort} }`,
      `  configDir: ${o.kam.dir ?? path.join(dir, 'kamailio')}`,
      '  drill: { enabled: false }',
      ...(o.calls ?? []),
      ...(o.extra ?? []),
      '',
    ].join('\n'),
  );
  return { file, port };
}

/**
 * A `vaktpost.yaml` for the real supervisor recording the calls of a recording
 * lab (test/helpers/rtpengine.ts `startRecordingLab`): call records off, the
 * audio log on with its archive in `archiveDir` (default `<dir>/archive`) and
 * the lab's rtpengine spool, checks every 500 ms, no automatic test calls.
 */
export function writeRecordingConfig(
  dir: string,
  lab: {
    kam: { sipPort: number; rpcPort: number; dir?: string };
    local: { uri: string };
    backup: { uri: string };
    announcement: { uri: string };
    rtp: { ngPort: number; spoolDir: string };
    eventsPort: number;
    testNumber: string;
  },
  o: { name: string; archiveDir?: string; calls?: string[] },
): Promise<{ file: string; port: number }> {
  return writeCallsConfig(dir, {
    name: o.name,
    kam: lab.kam,
    centres: { local: lab.local.uri, backup: lab.backup.uri, announcement: lab.announcement.uri },
    calls: [
      '  callRecords: { enabled: false }',
      ...(o.calls ?? []),
      `  recording: { enabled: true, rtpengine: { port: ${lab.rtp.ngPort} }, eventsPort: ${lab.eventsPort}, testNumber: ${lab.testNumber} }`,
    ],
    extra: [
      'audiolog:',
      `  archiveDir: ${o.archiveDir ?? path.join(dir, 'archive')}`,
      `  rtpengine: { spoolDir: ${lab.rtp.spoolDir} }`,
      '  checks: { pollMs: 500, minFreeMb: 0 }',
      '  testCall: { enabled: false }',
    ],
  });
}
