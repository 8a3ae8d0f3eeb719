/**
 * Playback tickets: the one thing a GET of recording audio accepts. Listening is
 * an access and is chained (with its reason) by a POST; that POST hands out a
 * ticket, and the <audio> element's GETs (Range requests, seeking) only redeem
 * it — they write nothing. So a page elsewhere that makes the browser GET an
 * audio URL (an <img>/<audio> tag, same-site so cookies go along) cannot write
 * an access in someone's name, and a ticket that leaks (a URL in a history or a
 * proxy log) is useless: it is bound to the session, the user and the one
 * recording, and it runs out.
 *
 * Tickets live in memory only: a restart ends them, which is fine — pressing
 * Play again asks for a new one (and logs a new access).
 */
import { createHash, randomBytes } from 'node:crypto';

/** Who holds a ticket and for what. `session` is the session credential (hashed here, never kept). */
export interface TicketHolder {
  userId: number;
  username: string;
  session: string;
}

export interface Grant {
  recordingId: string;
  username: string;
  /** The chain entry of the listen this ticket belongs to. */
  accessSeq: number;
  expiresAt: number;
}

interface Held extends Grant {
  userId: number;
  sessionHash: string;
}

export type Redeemed = { ok: true; grant: Grant } | { ok: false; why: 'unknown' | 'expired' | 'session' | 'recording' };

/** The base64url of 32 random bytes: what a ticket looks like on the wire. */
export const TICKET_PATTERN = /^[A-Za-z0-9_-]{43}$/;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export class PlaybackTickets {
  private readonly held = new Map<string, Held>();

  constructor(private readonly now: () => number) {}

  /**
   * A ticket for one recording, valid for `validMs`. Only the ticket's hash is
   * kept, so a memory dump does not hand out playable tickets either.
   */
  issue(recordingId: string, holder: TicketHolder, accessSeq: number, validMs: number): { ticket: string; expiresAt: number } {
    this.prune();
    const ticket = randomBytes(32).toString('base64url');
    const expiresAt = this.now() + validMs;
    this.held.set(sha256(ticket), {
      recordingId,
      username: holder.username,
      accessSeq,
      expiresAt,
      userId: holder.userId,
      sessionHash: sha256(holder.session),
    });
    return { ticket, expiresAt };
  }

  /** Checks a ticket for this recording and this session; it stays valid until it expires (the player asks again to seek). */
  redeem(ticket: string, recordingId: string, holder: TicketHolder): Redeemed {
    const h = this.held.get(sha256(ticket));
    if (!h) return { ok: false, why: 'unknown' };
    if (this.now() >= h.expiresAt) {
      this.held.delete(sha256(ticket));
      return { ok: false, why: 'expired' };
    }
    if (h.userId !== holder.userId || h.sessionHash !== sha256(holder.session)) return { ok: false, why: 'session' };
    if (h.recordingId !== recordingId) return { ok: false, why: 'recording' };
    return { ok: true, grant: { recordingId: h.recordingId, username: h.username, accessSeq: h.accessSeq, expiresAt: h.expiresAt } };
  }

  /** Tickets still held (for tests and metrics). */
  get size(): number {
    return this.held.size;
  }

  private prune(): void {
    const now = this.now();
    for (const [k, h] of this.held) if (now >= h.expiresAt) this.held.delete(k);
  }
}
