/**
 * rtpengine's config file, rendered from vaktpost.yaml (`audiolog.rtpengine` for
 * the daemon, `calls.recording.rtpengine` for the ng socket Kamailio and the
 * supervisor talk to). Pure: text out; ops/rtpengine/ runs rtpengine on it.
 *
 * Measured on rtpengine 10.5 (ops/rtpengine/README.md): userspace only (no kernel module here:
 * `table = -1`), `recording-method = pcap` (the WAV-writing recording daemon
 * needs the kernel module), `delete-delay = 0` so the metadata file is renamed
 * into `metadata/` the moment the call is deleted (default: 30 s later).
 */
import type { RtpengineDaemonConfig } from '../config/audiolog.js';

export interface RtpengineConfInput {
  daemon: RtpengineDaemonConfig;
  ng: { host: string; port: number };
  /** Optional pid file (tests). */
  pidFile?: string;
}

export function renderRtpengineConf(i: RtpengineConfInput): string {
  const d = i.daemon;
  const iface = d.advertise ? `${d.interface}!${d.advertise}` : d.interface;
  const lines = [
    '# Rendered by Vaktpost from vaktpost.yaml (audiolog.rtpengine, calls.recording) - do not edit.',
    '[rtpengine]',
    '# Userspace forwarding: there is no rtpengine kernel module on this box.',
    'table = -1',
    `interface = ${iface}`,
    `listen-ng = ${i.ng.host}:${i.ng.port}`,
    `port-min = ${d.portMin}`,
    `port-max = ${d.portMax}`,
    '# Recording: one pcap per call + a metadata file renamed into metadata/ when the call ends.',
    `recording-dir = ${d.spoolDir}`,
    'recording-method = pcap',
    'recording-format = eth',
    '# Finalise the recording at once when Kamailio deletes the call (default: 30 s later).',
    'delete-delay = 0',
    `timeout = ${d.mediaTimeoutS}`,
    `silent-timeout = ${Math.max(d.mediaTimeoutS, 600)}`,
    `log-level = ${d.logLevel}`,
    'log-stderr = true',
    'foreground = true',
  ];
  if (i.pidFile) lines.push(`pidfile = ${i.pidFile}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Where rtpengine's config is written (`vaktpost apply`, `vaktpost audiolog render-rtpengine`)
 * and read (ops/rtpengine/systemd/vaktpost-rtpengine.service, with the default data dir).
 */
export function rtpengineConfPathOf(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}/rtpengine/rtpengine.conf`;
}

/** The spool's three folders, as rtpengine names them. */
export function spoolDirs(spoolDir: string): { pcaps: string; tmp: string; metadata: string } {
  return { pcaps: `${spoolDir}/pcaps`, tmp: `${spoolDir}/tmp`, metadata: `${spoolDir}/metadata` };
}
