/**
 * Is the audio log actually recording? rtpengine answers "ok" even when it
 * records nothing (measured, ops/rtpengine/README.md: disk full truncates silently, deleted spool folders are
 * not recreated, a killed rtpengine leaves files half-written, a down rtpengine
 * lets Kamailio complete calls unrecorded). So besides asking rtpengine, this
 * monitor cross-checks: files growing for connected calls, in-progress files
 * nobody owns, the archive keeping up, disk room, and the audit's verdicts.
 *
 * Signals (subsystem `recording`):
 *   recording.rtpengine      ng ping (fail: down); its uptime (a restart is an event, via onRestart)
 *   recording.spool          rtpengine's spool folders exist and are writable (recreated if deleted)
 *   recording.stalled        connected calls whose recording does not grow; archive backlog
 *   recording.orphans        in-progress files rtpengine no longer owns (adopted after a while)
 *   recording.incomplete     calls whose recording is incomplete (fault window)
 *   recording.unrecorded     calls Kamailio connected without a recording (fault window)
 *   recording.disk.archive / recording.disk.spool   free space and days left at the current rate
 */
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { callIdFromSpoolName } from '../../../hardware/rtpengine/metadata.js';
import type { NgDict, RtpengineNg } from '../../../hardware/rtpengine/ng.js';
import { uptimeSeconds } from '../../../hardware/rtpengine/streamStats.js';
import { type RtpengineRestart, RtpengineRestartWatch } from '../audiolog/rtpengineRestarts.js';
import type { CallAudit } from '../audiolog/callAudit.js';
import type { AudiologChecks } from '../config/audiolog.js';
import type { Signal, SignalStatus } from '../core/signal.js';
import type { AudiologStore } from '../store/audiologStore.js';
import type { Guard } from '../guard.js';
import { type Clock, type SignalSink, timersOf } from './monitor.js';
import { PollingMonitor } from './pollingMonitor.js';

export interface RecordingMonitorDeps {
  ng: Pick<RtpengineNg, 'ping' | 'query' | 'statistics' | 'address'>;
  spoolDir: string;
  archiveDir: string;
  store: Pick<AudiologStore, 'bytesArchivedSince'>;
  audit: Pick<CallAudit, 'counts' | 'tick'>;
  checks: AudiologChecks;
  clock: Clock;
  /** Finished files waiting to be archived, and since when the oldest waits. */
  backlog: () => { pending: number; oldestSince: number | null };
  /** Hand an abandoned in-progress file to the ingest (as incomplete). */
  adopt: (tmpName: string) => Promise<void>;
  /** Told when the monitor had to recreate a spool folder (an event for the log). */
  onSpoolRecreated?: (dir: string) => void;
  /** Where a bug in the loop itself is reported (once). */
  guard?: Guard;
  /** rtpengine's answer about an in-progress recording's call (its per-stream packet counters). */
  onCallQueried?: (callId: string, answer: NgDict, at: number) => void;
  /** rtpengine restarted; `recording` are the Call-IDs it was recording just before. */
  onRestart?: (restart: RtpengineRestart, recording: string[]) => void;
}

const DAY = 86_400_000;
const RATE_WINDOW = 7 * DAY;

interface TmpSeen {
  pcap: string | null;
  size: number;
  grewAt: number;
  unknownSince: number | null;
}

export class RecordingMonitor extends PollingMonitor {
  readonly name = 'recording';
  private readonly tmp = new Map<string, TmpSeen>();
  private rtpengineUp = false;
  /** rtpengine's restarts, seen by its uptime (the audio log asks which one cut a recording). */
  readonly restarts = new RtpengineRestartWatch();

  constructor(private readonly d: RecordingMonitorDeps) {
    const timers = timersOf(d.clock);
    // A round every pollMs from the start of the last (a slow round delays the next, never stacks).
    super({ pollMs: d.checks.pollMs, cadence: d.clock, ...(timers ? { timers } : {}), ...(d.guard ? { guard: d.guard } : {}) });
  }

  protected async poll(emit: SignalSink): Promise<void> {
    let signals: Signal[];
    try {
      signals = await this.check();
    } catch (err) {
      // A monitor never throws: its own fault is a signal (unknown is never healthy).
      signals = [this.sig('recording.monitor', 'unknown', null, `the recording checks failed: ${(err as Error).message}`)];
    }
    if (this.live) for (const s of signals) emit(s);
  }

  private sig(key: string, status: SignalStatus, value: Signal['value'], detail: string, unit?: string): Signal {
    return {
      subsystem: 'recording',
      source: 'audiolog',
      key,
      status,
      value,
      ...(unit ? { unit } : {}),
      observedAt: this.d.clock.now(),
      ttlMs: this.d.checks.pollMs * 4,
      detail,
    };
  }

  /** One round of checks (public for tests: no timers needed). */
  async check(): Promise<Signal[]> {
    const out: Signal[] = [];
    const now = this.d.clock.now();
    try {
      const rtt = await this.d.ng.ping();
      this.rtpengineUp = true;
      out.push(this.sig('recording.rtpengine', 'ok', Math.round(rtt * 10) / 10, `rtpengine at ${this.d.ng.address} answers`, 'ms'));
      await this.watchRestart();
    } catch (err) {
      this.rtpengineUp = false;
      out.push(this.sig('recording.rtpengine', 'fail', null, `${(err as Error).message} — calls are NOT being recorded`));
    }
    out.push(await this.spool());
    out.push(...(await this.inProgress(now)));
    this.d.audit.tick();
    const c = this.d.audit.counts(this.d.checks.faultWindowMs);
    const win = `${Math.round(this.d.checks.faultWindowMs / 60_000)} min`;
    const names = (rows: typeof c.newest, state: string) =>
      rows
        .filter((r) => r.state === state)
        .slice(0, 3)
        .map((r) => `${r.callId}${r.caller ? ` from ${r.caller}` : ''}`)
        .join(', ');
    out.push(
      this.sig(
        'recording.unrecorded',
        c.missing > 0 ? 'fail' : 'ok',
        c.missing,
        c.missing > 0
          ? `${c.missing} call(s) Kamailio connected have no recording in the last ${win}: ${names(c.newest, 'missing')}`
          : `every call in the last ${win} has a recording`,
      ),
    );
    out.push(
      this.sig(
        'recording.incomplete',
        c.incomplete > 0 ? 'warn' : 'ok',
        c.incomplete,
        c.incomplete > 0
          ? `${c.incomplete} recording(s) in the last ${win} are incomplete (audio sent but not recorded, or cut off): ${names(c.newest, 'incomplete')}`
          : `no incomplete recordings in the last ${win}`,
      ),
    );
    out.push(...(await this.disk(now)));
    return out;
  }

  /** rtpengine's uptime: a start that moved forward is a restart (the calls it recorded lost their recording). */
  private async watchRestart(): Promise<void> {
    let uptime: number | null = null;
    try {
      uptime = uptimeSeconds(await this.d.ng.statistics());
    } catch {
      return; // answered the ping: a lost statistics answer is no news
    }
    if (uptime === null) return;
    const restart = this.restarts.observe(this.d.clock.now(), uptime);
    if (!restart) return;
    // What it was recording at the previous round: those recordings end at the restart.
    const recording = [...this.tmp.keys()].map((n) => callIdFromSpoolName(n) ?? n);
    this.d.onRestart?.(restart, recording);
  }

  private async spool(): Promise<Signal> {
    const recreated: string[] = [];
    const problems: string[] = [];
    for (const sub of ['pcaps', 'tmp', 'metadata']) {
      const dir = path.join(this.d.spoolDir, sub);
      try {
        await access(dir, constants.W_OK);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          // rtpengine never recreates a deleted spool folder and then records nothing.
          try {
            await mkdir(dir, { recursive: true, mode: 0o750 });
            recreated.push(dir);
            this.d.onSpoolRecreated?.(dir);
          } catch (e) {
            problems.push(`${dir} is missing and cannot be recreated (${(e as Error).message})`);
          }
        } else problems.push(`${dir} is not writable (${(err as Error).message})`);
      }
    }
    if (problems.length > 0)
      return this.sig('recording.spool', 'fail', false, `${problems.join('; ')} — rtpengine cannot record; fix the folder (audiolog.rtpengine.spoolDir)`);
    if (recreated.length > 0)
      return this.sig('recording.spool', 'warn', true, `recreated ${recreated.join(', ')} (someone deleted it; recordings in between are lost)`);
    return this.sig('recording.spool', 'ok', true, `${this.d.spoolDir} ready`);
  }

  /** In-progress files: growing (recording), stalled, or orphaned (adopted). */
  private async inProgress(now: number): Promise<Signal[]> {
    const tmpDir = path.join(this.d.spoolDir, 'tmp');
    let names: string[] = [];
    try {
      names = (await readdir(tmpDir)).filter((n) => n.endsWith('.tmp'));
    } catch {
      // reported by the spool signal
    }
    const stalled: string[] = [];
    const orphans: string[] = [];
    for (const name of [...this.tmp.keys()]) if (!names.includes(name)) this.tmp.delete(name);
    for (const name of names) {
      let seen = this.tmp.get(name);
      if (!seen) {
        let pcap: string | null = null;
        try {
          pcap = (await readFile(path.join(tmpDir, name), 'utf8')).split('\n')[0]?.trim() || null;
        } catch {
          continue;
        }
        seen = { pcap, size: -1, grewAt: now, unknownSince: null };
        this.tmp.set(name, seen);
      }
      let size = 0;
      try {
        if (seen.pcap) size = (await stat(path.join(this.d.spoolDir, 'pcaps', path.basename(seen.pcap)))).size;
      } catch {
        size = 0;
      }
      if (size !== seen.size) {
        seen.size = size;
        seen.grewAt = now;
      }
      const callId = callIdFromSpoolName(name);
      let known = true;
      if (!this.rtpengineUp) known = false;
      else if (callId) {
        try {
          const answer = await this.d.ng.query(callId);
          known = answer !== null;
          if (answer) this.d.onCallQueried?.(callId, answer, this.d.clock.now());
        } catch {
          known = true; // cannot tell: never adopt on a guess
        }
      }
      if (known) {
        seen.unknownSince = null;
        if (now - seen.grewAt >= this.d.checks.stallAfterMs)
          stalled.push(`${callId ?? name}: no audio written for ${Math.round((now - seen.grewAt) / 1000)} s`);
        continue;
      }
      seen.unknownSince ??= now;
      orphans.push(callId ?? name);
      // Nobody writes to it any more (rtpengine does not know the call, the pcap stopped growing):
      // archive what was recorded, marked incomplete, instead of leaving it forever.
      if (now - seen.unknownSince >= this.d.checks.orphanAfterMs && now - seen.grewAt >= this.d.checks.orphanAfterMs) {
        try {
          await this.d.adopt(name);
          this.tmp.delete(name);
        } catch {
          // tried again next round
        }
      }
    }
    const b = this.d.backlog();
    if (b.oldestSince !== null && now - b.oldestSince >= this.d.checks.stallAfterMs) {
      stalled.push(`${b.pending} finished recording(s) waiting to be archived for ${Math.round((now - b.oldestSince) / 1000)} s`);
    }
    return [
      this.sig(
        'recording.stalled',
        stalled.length > 0 ? 'warn' : 'ok',
        stalled.length,
        stalled.length > 0 ? stalled.slice(0, 3).join('; ') : 'recordings in progress are growing; the archive keeps up',
      ),
      this.sig(
        'recording.orphans',
        orphans.length > 0 ? 'warn' : 'ok',
        orphans.length,
        orphans.length > 0
          ? `${orphans.length} in-progress recording(s) no longer owned by rtpengine (${orphans.slice(0, 3).join(', ')}); archived as incomplete after ${Math.round(this.d.checks.orphanAfterMs / 1000)} s`
          : 'no orphaned in-progress files',
      ),
    ];
  }

  private async disk(now: number): Promise<Signal[]> {
    const out: Signal[] = [];
    const rate = this.d.store.bytesArchivedSince(now - RATE_WINDOW);
    // Bytes per day over the time we have history for (at least a day, so one call is not "a rate").
    const spanMs = rate.firstAt !== null ? Math.max(DAY, now - rate.firstAt) : RATE_WINDOW;
    const perDay = (rate.bytes / spanMs) * DAY;
    for (const [which, dir] of [
      ['archive', this.d.archiveDir],
      ['spool', this.d.spoolDir],
    ] as const) {
      const key = `recording.disk.${which}`;
      try {
        const s = await statfs(dir);
        const free = s.bavail * s.bsize;
        const freeMb = free / 1e6;
        const daysLeft = perDay > 0 ? free / perDay : null;
        const ck = this.d.checks;
        const status: SignalStatus =
          freeMb < ck.minFreeMb || (daysLeft !== null && daysLeft < ck.diskFailDays) ? 'fail' : daysLeft !== null && daysLeft < ck.diskWarnDays ? 'warn' : 'ok';
        const freeText = freeMb >= 1000 ? `${(freeMb / 1000).toFixed(1)} GB` : `${freeMb.toFixed(1)} MB`;
        out.push(
          this.sig(
            key,
            status,
            daysLeft === null ? null : Math.round(daysLeft * 10) / 10,
            `${freeText} free on ${dir}; ${daysLeft === null ? 'no recordings in the last 7 days to estimate a rate' : `${(perDay / 1e6).toFixed(1)} MB/day → ${daysLeft < 2 ? daysLeft.toFixed(1) : Math.floor(daysLeft)} days left`}${freeMb < ck.minFreeMb ? ` — below the ${ck.minFreeMb} MB minimum: recordings will be cut off` : ''}`,
            'd',
          ),
        );
      } catch (err) {
        out.push(this.sig(key, 'unknown', null, `cannot read free space of ${dir}: ${(err as Error).message}`));
      }
    }
    return out;
  }
}
