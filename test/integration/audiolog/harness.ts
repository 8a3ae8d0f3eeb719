/**
 * The audio log wired as app.ts wires it (createAudioLog on a real store), on
 * top of the recording lab (real Kamailio + rtpengine + talking SIPp ends):
 * events and signals are collected for assertions.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { audiologSchema, type AudiologConfigInput, resolveAudiologConfig } from '../../../supervisor/src/config/audiolog.js';
import { callRecordingSchema } from '../../../supervisor/src/config/calls.js';
import type { z } from 'zod';
import type { Signal } from '../../../supervisor/src/core/signal.js';
import { silentLogger } from '../../../supervisor/src/log.js';
import { systemClock } from '../../../supervisor/src/monitors/monitor.js';
import { type AudioLog, type AudiologEvent, createAudioLog } from '../../../supervisor/src/audiolog/service.js';
import { openDb, type Db } from '../../../supervisor/src/store/db.js';
import { freePort, scratchDir } from '../../helpers/util.js';
import { type RecordingLab, type RecordingLabOptions, startRecordingLab } from '../../helpers/rtpengine.js';

const run = promisify(execFile);
type CallRecordingInput = z.input<typeof callRecordingSchema>;

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export interface Harness {
  lab: RecordingLab;
  audiolog: AudioLog;
  db: Db;
  dir: string;
  archiveDir: string;
  events: AudiologEvent[];
  signals: Signal[];
  /** Latest value of each signal key. */
  latest(key: string): Signal | undefined;
}

export async function startHarness(
  t: TeardownHost,
  o: { lab?: RecordingLabOptions; audiolog?: AudiologConfigInput; recording?: Partial<CallRecordingInput>; testCall?: boolean; monitor?: boolean } = {},
): Promise<Harness> {
  const scratch = await scratchDir('audiolog');
  t.teardown(() => scratch.cleanup());
  const eventsPort = await freePort();
  const lab = await startRecordingLab(t, { ...o.lab, eventsPort });
  const archiveDir = path.join(scratch.dir, 'archive');
  const db = openDb(path.join(scratch.dir, 'vaktpost.db'));
  t.teardown(() => db.close());
  const events: AudiologEvent[] = [];
  const signals: Signal[] = [];
  const audiolog = createAudioLog({
    cfg: resolveAudiologConfig(
      audiologSchema.parse({
        ...o.audiolog,
        archiveDir,
        rtpengine: { spoolDir: lab.rtp.spoolDir },
        checks: { pollMs: 500, recordingGraceMs: 3000, minFreeMb: 0, ...o.audiolog?.checks },
        testCall: { enabled: o.testCall ?? false, ...o.audiolog?.testCall },
      }),
      scratch.dir,
    ),
    calls: {
      recording: callRecordingSchema.parse({ ...o.recording, enabled: true, rtpengine: { port: lab.rtp.ngPort }, eventsPort, testNumber: lab.testNumber }),
      sip: { address: '127.0.0.1', port: lab.kam.sipPort, transports: ['udp'] },
    },
    db,
    clock: systemClock,
    log: silentLogger(),
    event: (e) => events.push(e),
    testCall: o.testCall ?? false,
    // Kamailio's call events carry the lab's control secret; without it the events are dropped.
    controlSecret: lab.kam.input.controlSecret,
  });
  await audiolog.start();
  t.teardown(() => audiolog.stop());
  if (o.monitor ?? true) {
    for (const m of audiolog.monitors) {
      await m.start((s) => signals.push(s));
      t.teardown(() => m.stop());
    }
  }
  const latest = (key: string) => [...signals].reverse().find((s) => s.key === key);
  return { lab, audiolog, db, dir: scratch.dir, archiveDir, events, signals, latest };
}

export interface SoxChannelStats {
  rmsDb: number;
  peakDb: number;
  lengthS: number;
}

/** `sox <wav> -n remix <channel> stats` — sox's own reading of one channel. */
export async function soxStats(file: string, channel: 1 | 2): Promise<SoxChannelStats> {
  const { stderr } = await run('sox', [file, '-n', 'remix', String(channel), 'stats']);
  const num = (label: string) => {
    const m = new RegExp(`^${label}\\s+(\\S+)`, 'm').exec(stderr);
    return m ? Number(m[1] === '-inf' ? '-Infinity' : m[1]) : Number.NaN;
  };
  return { rmsDb: num('RMS lev dB'), peakDb: num('Pk lev dB'), lengthS: num('Length s') };
}

/** Where `needle` sits in `hay` byte for byte, or -1 (the test call's own matcher). */
export { findExact as findBytes } from '../../../supervisor/src/monitors/recordingTestCall.js';
