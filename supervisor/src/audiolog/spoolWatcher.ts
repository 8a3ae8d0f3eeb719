/**
 * Notices finished recordings: rtpengine renames each call's metadata file into
 * `<spool>/metadata/` when the call ends — an atomic "done" signal. fs.watch
 * gives it within milliseconds; a periodic rescan catches what inotify can miss
 * (a watch lost because the folder was deleted and recreated, a burst, a restart).
 */
import { type FSWatcher, readdirSync, watch } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

export interface SpoolWatcherOptions {
  metadataDir: string;
  rescanMs: number;
  onFile: (name: string) => void;
  /** The folder could not be read (deleted at run time, permissions). */
  onError?: (err: Error) => void;
}

export function isFinishedMetadata(name: string): boolean {
  return name.startsWith('rtpengine-meta-') && name.endsWith('.txt');
}

/**
 * The finished rtpengine files in the spool now (read synchronously: a snapshot of
 * the moment it is asked). Each is archived but not yet committed, or committed and
 * not yet tidied — the spool is emptied only after the commit. Empty without a spool.
 */
export function spoolPendingSources(spoolDir: string): Set<string> {
  try {
    return new Set(readdirSync(path.join(spoolDir, 'metadata')).filter(isFinishedMetadata));
  } catch {
    return new Set();
  }
}

export class SpoolWatcher {
  private watcher: FSWatcher | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;

  constructor(private readonly o: SpoolWatcherOptions) {}

  async start(): Promise<void> {
    this.stopped = false;
    await this.rescan();
    this.timer = setInterval(() => void this.rescan(), this.o.rescanMs);
    this.timer.unref();
  }

  /** Every finished file now in the folder (also re-arms a lost watch). */
  async rescan(): Promise<void> {
    if (this.stopped) return;
    this.arm();
    try {
      for (const name of (await readdir(this.o.metadataDir)).sort()) if (isFinishedMetadata(name)) this.o.onFile(name);
    } catch (err) {
      this.o.onError?.(err as Error);
    }
  }

  private arm(): void {
    if (this.watcher || this.stopped) return;
    try {
      const w = watch(this.o.metadataDir, (_event, name) => {
        if (name && isFinishedMetadata(name.toString())) this.o.onFile(name.toString());
      });
      w.on('error', () => {
        w.close();
        if (this.watcher === w) this.watcher = null;
      });
      this.watcher = w;
    } catch {
      // Folder missing: the rescan retries, the monitor reports the spool.
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.watcher?.close();
    this.watcher = null;
  }
}
