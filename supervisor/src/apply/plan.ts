/**
 * What `vaktpost apply` wants on the box: every daemon's config rendered from
 * vaktpost.yaml, with the path the daemon's unit reads it from, its mode, the unit to
 * reload when it changes and the checker that must accept it. Nothing here writes a
 * rendered file; only the control secret is created when missing (it must exist before
 * the cfg can carry its keys), and not on a dry run.
 *
 * Where each file goes (the units in ops/ read exactly these paths with the defaults):
 *   calls.configDir/kamailio.cfg, dispatcher.list   vaktpost-kamailio.service
 *   <box.dataDir>/announcement/announcement.xml, ring-113.ulaw   vaktpost-announcement.service
 *   <box.dataDir>/rtpengine/rtpengine.conf          vaktpost-rtpengine.service
 *   calls.recording.notice.file                      (read by rtpengine per call)
 *   time.chronyd.confFile                            time.chronyd.unit (chrony.service)
 *   firewall.rulesetFile (/etc/vaktpost/vaktpost.nft)   vaktpost-firewall.service
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { announcementScenarioXml } from '../../../hardware/sip/announcement.js';
import { writePrompt } from '../../../hardware/sip/prompt.js';
import { audiologSchema } from '../config/audiolog.js';
import type { CallsConfig } from '../config/calls.js';
import type { VaktpostConfig } from '../config/schema.js';
import { writeNoticeFile } from '../audiolog/notice.js';
import { renderRtpengineConf, rtpengineConfPathOf } from '../audiolog/rtpengineConf.js';
import { CONTROL_SECRET_FORMAT, controlSecretPathOf, loadControlSecret } from '../reconcilers/kamailio/controlSecret.js';
import { dispatcherListPathOf } from '../reconcilers/kamailio/files.js';
import { renderInputFromConfig, renderKamailio } from '../reconcilers/kamailio/render.js';
import type { CheckerName } from './checkers.js';
import { renderChronyConf } from './chrony.js';
import { renderFirewall } from './firewall.js';

export const UNITS = {
  kamailio: 'vaktpost-kamailio.service',
  announcement: 'vaktpost-announcement.service',
  rtpengine: 'vaktpost-rtpengine.service',
  firewall: 'vaktpost-firewall.service',
} as const;

export interface DesiredFile {
  /** Where the daemon reads it (without --root). */
  path: string;
  content: Buffer;
  mode: number;
  /** Reloaded (or restarted) when this file changed. */
  unit?: string;
  check?: CheckerName;
}

export interface Plan {
  files: DesiredFile[];
  /** Folders a daemon needs but does not create (without --root). */
  dirs: string[];
  /** Said to the operator after the file list. */
  notes: string[];
  /** Files apply makes on the way that the units' user must own too (the control secret). */
  ownedExtra: string[];
}

/** `path` under `root` (`/` = the box itself). */
export function rooted(root: string, p: string): string {
  return root === '/' ? p : path.join(root, p);
}

/** Where the units read what apply renders (ops/kamailio/systemd, ops/rtpengine/systemd, ops/nftables). */
export function renderedPaths(cfg: VaktpostConfig) {
  const data = cfg.box.dataDir;
  return {
    announcementDir: path.join(data, 'announcement'),
    rtpengineConf: rtpengineConfPathOf(data),
    firewall: cfg.firewall.rulesetFile,
  };
}

const text = (s: string) => Buffer.from(s, 'utf8');

/** Produce a generated file (a prompt, a WAV) in a scratch folder and take its bytes. */
async function generated(name: string, make: (file: string) => Promise<unknown>): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-apply-'));
  try {
    const f = path.join(dir, name);
    await make(f);
    return await readFile(f);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function controlSecret(calls: CallsConfig, root: string, dryRun: boolean): string {
  const file = rooted(root, controlSecretPathOf(calls));
  if (!dryRun) return loadControlSecret(file);
  // A dry run creates nothing: an existing secret renders the real cfg, else a stand-in.
  if (existsSync(file)) {
    const s = readFileSync(file, 'utf8').trim();
    if (CONTROL_SECRET_FORMAT.test(s)) return s;
  }
  return '0'.repeat(64);
}

/** The supervisor's last decided route, read-only from its store; null without one. */
function lastStoredRoute(dbFile: string): 'local' | 'backup' | null {
  if (!existsSync(dbFile)) return null;
  try {
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT route FROM decisions ORDER BY id DESC LIMIT 1').get() as { route?: string } | undefined;
      return row?.route === 'backup' ? 'backup' : row?.route === 'local' ? 'local' : null;
    } finally {
      db.close();
    }
  } catch {
    // A store apply cannot read (older layout, locked): the list's own evidence decides.
    return null;
  }
}

/**
 * The route the dispatcher list starts Kamailio on: the supervisor persists a failover
 * into the list, and apply must not undo it. The list on disk says which route it holds
 * when it is one of this config's two renderings; when the config changed (other URIs),
 * the supervisor's last stored decision says; with neither, local.
 */
function listTarget(existing: Buffer | null, lists: { local: string; backup: string }, stored: () => 'local' | 'backup' | null): 'local' | 'backup' {
  const text = existing?.toString('utf8');
  if (text === lists.backup) return 'backup';
  if (text === lists.local) return 'local';
  return stored() ?? 'local';
}

async function kamailioFiles(calls: CallsConfig, dataDir: string, root: string, dryRun: boolean): Promise<DesiredFile[]> {
  const dispatcherListPath = dispatcherListPathOf(calls);
  const input = renderInputFromConfig(calls, { dispatcherListPath, controlSecret: controlSecret(calls, root, dryRun) });
  let existing: Buffer | null = null;
  try {
    existing = await readFile(rooted(root, dispatcherListPath));
  } catch {
    // first apply
  }
  const lists = { local: renderKamailio(input, 'local').dispatcherList, backup: renderKamailio(input, 'backup').dispatcherList };
  const target = listTarget(existing, lists, () => lastStoredRoute(rooted(root, path.join(dataDir, 'vaktpost.db'))));
  const r = renderKamailio(input, target);
  return [
    // The cfg holds the control keys: owner (Kamailio, root) only, as writeKamailioFiles writes it.
    { path: path.join(calls.configDir, 'kamailio.cfg'), content: text(r.cfg), mode: 0o600, unit: UNITS.kamailio, check: 'kamailio' },
    { path: dispatcherListPath, content: text(r.dispatcherList), mode: 0o644, unit: UNITS.kamailio },
  ];
}

async function announcementFiles(cfg: VaktpostConfig, calls: CallsConfig): Promise<DesiredFile[]> {
  const dir = renderedPaths(cfg).announcementDir;
  const a = calls.announcement;
  const out: DesiredFile[] = [];
  let promptFile: string;
  if (a.audioFile === undefined) {
    promptFile = path.join(dir, 'ring-113.ulaw');
    const prompt = await generated('prompt.ulaw', (f) =>
      writePrompt(
        [
          { text: a.textNb, voice: 'nb' },
          { text: a.textEn, voice: 'en' },
        ],
        f,
      ),
    );
    out.push({ path: promptFile, content: prompt, mode: 0o644, unit: UNITS.announcement });
  } else {
    promptFile = path.resolve(a.audioFile);
  }
  out.push({
    path: path.join(dir, 'announcement.xml'),
    content: text(announcementScenarioXml({ promptFile, maxPlayMs: a.maxPlayMs })),
    mode: 0o644,
    unit: UNITS.announcement,
  });
  return out;
}

async function recordingFiles(cfg: VaktpostConfig, calls: CallsConfig): Promise<DesiredFile[]> {
  const audiolog = cfg.audiolog ?? audiologSchema.parse({});
  const out: DesiredFile[] = [
    {
      path: renderedPaths(cfg).rtpengineConf,
      content: text(renderRtpengineConf({ daemon: audiolog.rtpengine, ng: calls.recording.rtpengine })),
      mode: 0o644,
      unit: UNITS.rtpengine,
    },
  ];
  const notice = calls.recording.notice;
  if (notice.enabled) {
    out.push({ path: notice.file, content: await generated('notice.wav', (f) => writeNoticeFile(notice, f)), mode: 0o644 });
  }
  return out;
}

/** What the units shipped in ops/ hard-code (systemd cannot read vaktpost.yaml). */
const SHIPPED = {
  dataDir: '/var/lib/vaktpost',
  kamailioDir: '/var/lib/vaktpost/kamailio',
  announcement: 'sip:announcement@127.0.0.1:5090',
  mediaPort: 16_000,
  spoolDir: '/var/spool/vaktpost/rtpengine',
  firewall: '/etc/vaktpost/vaktpost.nft',
};

/** Where the config and the shipped units disagree: said after the file list, with the fix. */
function unitNotes(cfg: VaktpostConfig): string[] {
  const notes: string[] = [];
  const dropIn = (unit: string) => `systemctl edit ${unit}`;
  if (cfg.box.dataDir.replace(/\/+$/, '') !== SHIPPED.dataDir) {
    notes.push(
      `box.dataDir is ${cfg.box.dataDir}, but the shipped units read ${SHIPPED.dataDir}/{announcement,rtpengine}: point them at it with a drop-in (${dropIn(UNITS.announcement)}, ${dropIn(UNITS.rtpengine)})`,
    );
  }
  if (cfg.firewall.enabled && cfg.firewall.rulesetFile !== SHIPPED.firewall) {
    notes.push(`firewall.rulesetFile is ${cfg.firewall.rulesetFile}, but ${UNITS.firewall} loads ${SHIPPED.firewall}: ${dropIn(UNITS.firewall)}`);
  }
  const calls = cfg.calls;
  if (!calls) return notes;
  if (calls.configDir.replace(/\/+$/, '') !== SHIPPED.kamailioDir) {
    notes.push(`calls.configDir is ${calls.configDir}, but vaktpost-kamailio.service reads ${SHIPPED.kamailioDir}/kamailio.cfg: ${dropIn(UNITS.kamailio)}`);
  }
  if (calls.announcement.uris[0] !== SHIPPED.announcement || calls.announcement.mediaPort !== SHIPPED.mediaPort) {
    notes.push(
      `vaktpost-announcement.service runs SIPp as ${SHIPPED.announcement} with media from ${SHIPPED.mediaPort}; the config says ${calls.announcement.uris[0]}, media ${calls.announcement.mediaPort}: match them (${dropIn(UNITS.announcement)})`,
    );
  }
  if (calls.recording.enabled && cfg.audiolog?.rtpengine.spoolDir !== undefined && cfg.audiolog.rtpengine.spoolDir !== SHIPPED.spoolDir) {
    notes.push(
      `audiolog.rtpengine.spoolDir is ${cfg.audiolog.rtpengine.spoolDir}, but vaktpost-rtpengine.service creates ${SHIPPED.spoolDir}: ${dropIn(UNITS.rtpengine)}`,
    );
  }
  return notes;
}

export async function planApply(cfg: VaktpostConfig, opts: { root: string; dryRun: boolean }): Promise<Plan> {
  const files: DesiredFile[] = [];
  const dirs: string[] = [];
  const notes: string[] = [];
  const calls = cfg.calls;
  if (calls) {
    files.push(...(await kamailioFiles(calls, cfg.box.dataDir, opts.root, opts.dryRun)));
    // Kamailio's flatstore does not create its folder: without it the first calls have no record.
    if (calls.callRecords.enabled) dirs.push(calls.callRecords.dir);
    files.push(...(await announcementFiles(cfg, calls)));
    if (calls.recording.enabled) files.push(...(await recordingFiles(cfg, calls)));
  } else {
    notes.push('no `calls:` section: no Kamailio, announcement or rtpengine files (calls are not routed by this box)');
  }
  if (cfg.time.chronyd.render) {
    files.push({ path: cfg.time.chronyd.confFile, content: text(renderChronyConf(cfg)), mode: 0o644, unit: cfg.time.chronyd.unit, check: 'chronyd' });
  }
  if (cfg.firewall.enabled) {
    const fw = renderFirewall(cfg);
    files.push({ path: renderedPaths(cfg).firewall, content: text(fw.text), mode: 0o600, unit: UNITS.firewall, check: 'nft' });
    notes.push(...fw.notes);
  } else {
    notes.push("firewall.enabled is false: no ruleset rendered (the box's firewall is managed elsewhere)");
  }
  notes.push(...unitNotes(cfg));
  return { files, dirs, notes, ownedExtra: calls ? [controlSecretPathOf(calls)] : [] };
}
