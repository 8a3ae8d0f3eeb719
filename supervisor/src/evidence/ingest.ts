/**
 * Reads Kamailio's call-record files (`<dir>/vaktpost_calls_<process>.log`,
 * written by acc through db_flatstore, see render.ts "Call records") into the
 * store, exactly once:
 * - a file is identified by (device, inode), so a renamed (rotated) file is
 *   continued where it was left, and a new file with an old name starts at 0;
 * - only complete lines (up to the last newline) are taken; a half-written
 *   last line waits for the next pass;
 * - the records and the new read offset are committed in one transaction, and
 *   a record already stored (same Call-ID, From-tag, event) is ignored, so a
 *   crash or a re-read never doubles a call.
 * Kamailio writes whether or not the supervisor runs; what it wrote while the
 * supervisor was down is read on the next pass.
 */
import { mkdir, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { EvidenceStore, StoredMilestone } from '../store/evidenceStore.js';
import { CALL_RECORDS_TABLE } from '../reconcilers/kamailio/render.js';
import { parseCallRecordLine } from './callRecordLine.js';

const FILE_RE = new RegExp(`^${CALL_RECORDS_TABLE}_\\d+\\.log(\\.[0-9TZ-]+)?$`);
const ACTIVE_RE = new RegExp(`^${CALL_RECORDS_TABLE}_\\d+\\.log$`);
/** Read at most this much of one file per transaction (a backlog is taken in slices). */
const SLICE = 1 << 20;

export interface IngestResult {
  files: number;
  lines: number;
  added: number;
  rejected: number;
  /** The first few unreadable lines, `file@offset: why`. */
  problems: string[];
}

export interface IngesterLog {
  warn(obj: object, msg: string): void;
}

export class CallRecordIngester {
  private running: Promise<IngestResult> | null = null;
  private needReopen = false;
  private timer: NodeJS.Timeout | null = null;
  /** Totals since start (for status and metrics). */
  readonly totals = { passes: 0, added: 0, rejected: 0, lastError: null as string | null, lastPassAt: null as number | null };

  constructor(
    private readonly o: {
      dir: string;
      store: EvidenceStore;
      now: () => number;
      log?: IngesterLog;
      /**
       * Asks Kamailio to reopen its files (flatstore.k_rotate). Used when the
       * directory has vanished: Kamailio would otherwise keep writing into the
       * deleted files, and those records would be lost.
       */
      reopen?: () => Promise<void>;
    },
  ) {}

  get dir(): string {
    return this.o.dir;
  }

  /** Creates the directory Kamailio writes into (db_flatstore does not create it). */
  async ensureDir(): Promise<void> {
    try {
      await mkdir(this.o.dir, { recursive: true });
    } catch (err) {
      throw new Error(
        `cannot create the call-record directory ${this.o.dir}: ${(err as Error).message} — create it (writable by Kamailio) or set calls.callRecords.dir`,
      );
    }
  }

  start(everyMs: number): void {
    this.stop();
    this.timer = setInterval(() => {
      this.ingestNow().catch(() => {
        // recorded in totals.lastError
      });
    }, everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One pass over every call-record file; concurrent callers share the running pass. */
  ingestNow(): Promise<IngestResult> {
    this.running ??= this.pass().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async dirExists(): Promise<boolean> {
    try {
      return (await stat(this.o.dir)).isDirectory();
    } catch {
      return false;
    }
  }

  private async listFiles(): Promise<string[]> {
    try {
      return (await readdir(this.o.dir)).filter((f) => FILE_RE.test(f)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  private async pass(): Promise<IngestResult> {
    const res: IngestResult = { files: 0, lines: 0, added: 0, rejected: 0, problems: [] };
    try {
      if (!(await this.dirExists())) {
        await this.ensureDir();
        this.o.log?.warn({ dir: this.o.dir }, 'the call-record directory had vanished: recreated; asking Kamailio to reopen its files');
        this.needReopen = this.o.reopen !== undefined;
      }
      if (this.needReopen && this.o.reopen) {
        // Until Kamailio reopens, it writes into the deleted files: keep asking every pass.
        try {
          await reopenInNextSecond(this.o.reopen);
          this.needReopen = false;
        } catch (err) {
          res.problems.push(`Kamailio could not be asked to reopen its call-record files: ${(err as Error).message}`);
        }
      }
      const names = await this.listFiles();
      const alive: Array<{ dev: number; ino: number }> = [];
      for (const name of names) {
        const file = path.join(this.o.dir, name);
        const r = await this.readFile(file, name, res).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return null; // rotated away between readdir and open
          throw err;
        });
        if (r) alive.push(r);
      }
      this.o.store.forgetFilesExcept(alive);
      this.totals.lastError = null;
    } catch (err) {
      this.totals.lastError = `reading call records in ${this.o.dir}: ${(err as Error).message}`;
      this.o.log?.warn({ dir: this.o.dir, err: (err as Error).message }, 'call records could not be read');
      throw new Error(this.totals.lastError);
    } finally {
      this.totals.passes++;
      this.totals.added += res.added;
      this.totals.rejected += res.rejected;
      this.totals.lastPassAt = this.o.now();
    }
    if (res.rejected > 0) this.o.log?.warn({ rejected: res.rejected, first: res.problems }, 'unreadable call-record lines skipped');
    return res;
  }

  private async readFile(file: string, name: string, res: IngestResult): Promise<{ dev: number; ino: number }> {
    const fh = await open(file, 'r');
    try {
      const st = await fh.stat();
      const id = { dev: st.dev, ino: st.ino };
      let offset = this.o.store.fileOffset(st.dev, st.ino);
      // Shorter than what we read: truncated in place — start over (duplicates are ignored).
      if (st.size < offset) offset = 0;
      res.files++;
      while (offset < st.size) {
        const len = Math.min(SLICE, st.size - offset);
        const buf = Buffer.alloc(len);
        const { bytesRead } = await fh.read(buf, 0, len, offset);
        const chunk = buf.subarray(0, bytesRead);
        const lastNl = chunk.lastIndexOf(0x0a);
        if (lastNl < 0) {
          if (len === SLICE) throw new Error(`${name}: a line longer than ${SLICE} bytes at offset ${offset} — not a call-record file?`);
          break; // a line still being written
        }
        const text = chunk.subarray(0, lastNl).toString('utf8');
        const milestones: StoredMilestone[] = [];
        let pos = offset;
        for (const line of text.split('\n')) {
          const at = pos;
          pos += Buffer.byteLength(line) + 1;
          if (line.trim() === '') continue;
          res.lines++;
          const p = parseCallRecordLine(line);
          if (!p.ok) {
            res.rejected++;
            if (res.problems.length < 5) res.problems.push(`${name}@${at}: ${p.error}`);
            continue;
          }
          const { method: _m, ...m } = p.record;
          milestones.push({ ...m, source: `${name}@${at}` });
        }
        offset += lastNl + 1;
        res.added += this.o.store.ingest(milestones, { ...id, path: file, offset }, this.o.now());
      }
      return id;
    } finally {
      await fh.close();
    }
  }

  /**
   * Rotation (retention duty): rename each active file aside, ask Kamailio to
   * reopen (`flatstore.k_rotate`), read what is left, and delete the renamed
   * files that are read to the end. If Kamailio cannot be asked, nothing is
   * deleted: it keeps writing into the renamed file (same inode), which is still
   * read, and the next rotation finishes the job.
   */
  async rotate(reopen: () => Promise<void>): Promise<{ rotated: number; deleted: number; detail: string }> {
    await this.ingestNow();
    const stamp = new Date(this.o.now()).toISOString().replace(/[:.]/g, '-');
    let rotated = 0;
    for (const name of await this.listFiles()) {
      if (!ACTIVE_RE.test(name)) continue;
      await rename(path.join(this.o.dir, name), path.join(this.o.dir, `${name}.${stamp}`));
      rotated++;
    }
    let reopened = true;
    let why = '';
    try {
      await reopenInNextSecond(reopen);
    } catch (err) {
      reopened = false;
      why = (err as Error).message;
    }
    await this.ingestNow();
    let deleted = 0;
    if (reopened) {
      for (const name of await this.listFiles()) {
        if (ACTIVE_RE.test(name)) continue;
        const file = path.join(this.o.dir, name);
        const st = await stat(file);
        if (this.o.store.fileOffset(st.dev, st.ino) >= st.size) {
          await unlink(file);
          deleted++;
        }
      }
      await this.ingestNow();
    }
    return {
      rotated,
      deleted,
      detail: reopened
        ? `${rotated} call-record file(s) rotated, ${deleted} read-out file(s) deleted`
        : `${rotated} call-record file(s) renamed but Kamailio could not be asked to reopen them (${why}); nothing deleted`,
    };
  }
}

/**
 * Kamailio's flatstore reopens a worker's file only when the rotate stamp is newer
 * than the worker's last open, both in whole seconds (time(0)): a reopen asked in
 * the same second as a worker's last open is silently ignored, and that worker goes
 * on writing into a deleted or renamed file. So ask only once a new second has begun.
 */
async function reopenInNextSecond(reopen: () => Promise<void>): Promise<void> {
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  await reopen();
}
