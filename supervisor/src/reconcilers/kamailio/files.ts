/**
 * Writes what Kamailio and the announcement server run from, rendered from the
 * `calls:` config: kamailio.cfg + dispatcher.list, and the announcement's SIPp
 * scenario + recorded prompt. Atomic (write + rename) so a Kamailio starting
 * at the same moment never reads half a file. Both daemons run under systemd
 * (ops/kamailio/) and keep working from these files when the supervisor is down.
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { announcementScenarioXml } from '../../../../hardware/sip/announcement.js';
import { writePrompt } from '../../../../hardware/sip/prompt.js';
import type { CallsConfig } from '../../config/calls.js';
import { controlSecretOf } from './controlSecret.js';
import { renderInputFromConfig, renderKamailio } from './render.js';

export interface WrittenFile {
  path: string;
  /** False when the file already had exactly this content (no reload needed). */
  changed: boolean;
}

/** `mode` 0600 for what holds the control secret (kamailio.cfg); the rest keeps the umask. */
async function writeAtomic(file: string, text: string, mode?: number): Promise<WrittenFile> {
  let old: string | null = null;
  try {
    old = await readFile(file, 'utf8');
  } catch {
    // new file
  }
  if (old === text) {
    // Same text, but a cfg written by an older version may still be world-readable.
    if (mode !== undefined) await chmod(file, mode);
    return { path: file, changed: false };
  }
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    // Created with the mode (never readable by others, not even for a moment), and chmod'ed
    // again in case a stale tmp file existed.
    await writeFile(tmp, text, mode === undefined ? {} : { mode });
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot write ${file} (${msg}) — check that ${path.dirname(file)} exists and is writable by the supervisor`);
  }
  return { path: file, changed: true };
}

/** The dispatcher list the rendered kamailio.cfg names (`list_file`), and the supervisor's actuator persists to. */
export function dispatcherListPathOf(calls: Pick<CallsConfig, 'configDir'>): string {
  return path.join(calls.configDir, 'dispatcher.list');
}

/**
 * Render and write `<configDir>/kamailio.cfg` (0600: it holds the control secret)
 * and `<configDir>/dispatcher.list`; creates `<configDir>/control.secret` on first use.
 * `target` is the route the list file starts Kamailio on (the last decision, if
 * the actuator persists it). A changed cfg needs a Kamailio restart; a changed
 * list only `dispatcher.reload` (which resets run-time states: re-apply after).
 */
export async function writeKamailioFiles(calls: CallsConfig, target: 'local' | 'backup' = 'local'): Promise<{ cfg: WrittenFile; dispatcherList: WrittenFile }> {
  await mkdir(calls.configDir, { recursive: true });
  // Kamailio's flatstore does not create its directory: without it the first calls have no record.
  if (calls.callRecords.enabled) await mkdir(calls.callRecords.dir, { recursive: true });
  const dispatcherListPath = dispatcherListPathOf(calls);
  const controlSecret = controlSecretOf(calls);
  const rendered = renderKamailio(renderInputFromConfig(calls, { dispatcherListPath, controlSecret }), target);
  const dispatcherList = await writeAtomic(dispatcherListPath, rendered.dispatcherList);
  // The cfg holds the control secret: owner (Kamailio, root) only.
  const cfg = await writeAtomic(path.join(calls.configDir, 'kamailio.cfg'), rendered.cfg, 0o600);
  return { cfg, dispatcherList };
}

/**
 * Record the prompt (unless `announcement.audioFile` is given) and write the
 * announcement server's SIPp scenario into `dir`. Returns the paths the
 * systemd unit uses.
 */
export async function writeAnnouncementFiles(calls: CallsConfig, dir: string): Promise<{ scenario: WrittenFile; promptFile: string; promptMs: number | null }> {
  await mkdir(dir, { recursive: true });
  const a = calls.announcement;
  let promptFile = a.audioFile ?? path.join(dir, 'ring-113.ulaw');
  let promptMs: number | null = null;
  if (a.audioFile === undefined) {
    const tmp = `${promptFile}.tmp-${process.pid}`;
    const r = await writePrompt(
      [
        { text: a.textNb, voice: 'nb' },
        { text: a.textEn, voice: 'en' },
      ],
      tmp,
    );
    await rename(tmp, promptFile);
    promptMs = r.durationMs;
  } else {
    promptFile = path.resolve(a.audioFile);
  }
  const scenario = await writeAtomic(path.join(dir, 'announcement.xml'), announcementScenarioXml({ promptFile, maxPlayMs: a.maxPlayMs }));
  return { scenario, promptFile, promptMs };
}
