/**
 * Did rtpengine restart? (pure) Seen as the Kamailio actuator sees Kamailio's:
 * by when the process says it came up. rtpengine's ng `statistics` gives its
 * uptime in whole seconds (`totalstatistics.uptime`, rtpengine 10.5); now −
 * uptime is its start, to within a second. A start that moves forward is a new
 * process — however short the gap, and whether or not a ping ever failed in
 * between (systemd restarts it in well under a poll). rtpengine keeps no calls
 * across a restart (no redis here): every call it was recording loses its
 * recording from that moment.
 *
 * Restarts are kept (the last 100) so a recording archived later — an abandoned
 * in-progress file is adopted only after `orphanAfterMs` — can be told why it
 * ends where it does.
 */

export interface RtpengineRestart {
  /** When the new process was first seen answering (epoch ms). */
  at: number;
  /** When the new process started (epoch ms, to within a second). */
  upSince: number;
  /** When the old one had started. */
  previousUpSince: number;
  /** When the old one last answered: it stopped between this and `upSince`. */
  lastSeenUpAt: number;
}

/** Starts closer than this are the same process (uptime is in whole seconds, plus the query's delay). */
const SAME_START_MS = 1500;
const KEEP = 100;

export class RtpengineRestartWatch {
  private upSince: number | null = null;
  private lastSeenUpAt: number | null = null;
  private readonly seen: RtpengineRestart[] = [];

  /** One answer to `statistics` at `now`: returns the restart it reveals, if any. */
  observe(now: number, uptimeS: number): RtpengineRestart | null {
    const start = now - uptimeS * 1000;
    let restart: RtpengineRestart | null = null;
    if (this.upSince !== null && this.lastSeenUpAt !== null && start - this.upSince > SAME_START_MS) {
      restart = { at: now, upSince: start, previousUpSince: this.upSince, lastSeenUpAt: this.lastSeenUpAt };
      this.seen.push(restart);
      if (this.seen.length > KEEP) this.seen.shift();
      this.upSince = start;
    } else {
      // The earliest estimate is the closest (uptime is rounded down).
      this.upSince = this.upSince === null ? start : Math.min(this.upSince, start);
    }
    this.lastSeenUpAt = now;
    return restart;
  }

  get restarts(): readonly RtpengineRestart[] {
    return this.seen;
  }

  /**
   * The restart that cut a recording made from `from` to `to` (epoch ms; `to`
   * null: rtpengine never finished it), or null.
   */
  during(from: number, to: number | null): RtpengineRestart | null {
    // The first restart after the recording began is the one that ended it.
    for (const r of this.seen) {
      if (from < r.upSince && (to === null || to >= r.lastSeenUpAt)) return r;
    }
    return null;
  }
}
