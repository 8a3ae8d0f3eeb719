/**
 * Every call Kamailio connected must have a complete recording. The audit
 * keeps Kamailio's calls in the store (so a supervisor restart forgets none)
 * and settles each one after it ends: `recorded`, `incomplete` (its recording is
 * incomplete, or holds less audio than the call lasted where rtpengine's counters
 * do not show a pause in the RTP), `missing` (no recording within the grace time — rtpengine
 * down, disk gone, recording switched off) or `lost` (never saw it end).
 * Findings become alarms; the counts feed the recording signals.
 *
 * Across a restart: Kamailio's call events are UDP, so those sent while the
 * supervisor was down are gone, and its recordings wait in the spool. So no
 * deadline runs from before this process started, none is settled before the
 * ingest has worked through the spool it found at start-up (`ready`), a call
 * whose recording is still waiting in the spool is not declared missing, and a
 * call whose end event was lost is closed from Kamailio's call records (acc, in
 * the evidence store) or from the end rtpengine wrote into its recording.
 */
import type { AudiologStore, CallRow, RecordingRow } from '../store/audiologStore.js';
import type { CallEvent } from './callEvents.js';
import type { JudgeLimits } from './judge.js';

export type AuditFinding =
  | { type: 'notRecording'; call: CallRow }
  | { type: 'missing'; call: CallRow }
  | { type: 'incomplete'; call: CallRow | null; recording: RecordingRow; detail: string; detailNb: string }
  | { type: 'lost'; call: CallRow };

export interface CallAuditDeps {
  store: AudiologStore;
  now: () => number;
  limits: JudgeLimits;
  graceMs: number;
  maxCallMs: number;
  onFinding: (f: AuditFinding) => void;
  /**
   * The ingest has tried every recording that was in the spool at start-up:
   * until then no deadline is settled (default: always ready).
   */
  ready?: () => boolean;
  /** Call-IDs of finished recordings still waiting in the spool or the ingest queue. */
  pendingCallIds?: () => ReadonlySet<string>;
}

export class CallAudit {
  /** Deadlines never run from before this: the supervisor was not there to see. */
  readonly startedAt: number;

  constructor(private readonly d: CallAuditDeps) {
    this.startedAt = d.now();
  }

  onCallEvent(e: CallEvent): void {
    if (e.type === 'connected') {
      const isNew = this.d.store.callConnected({
        callId: e.callId,
        connectedAt: e.at,
        caller: e.caller,
        called: e.called,
        route: e.route,
        centre: e.centre,
        offered: e.recorded,
        test: e.probe,
      });
      const call = this.d.store.call(e.callId);
      if (isNew && !e.recorded && call && !call.test) this.d.onFinding({ type: 'notRecording', call });
      return;
    }
    const call = this.d.store.callEnded(e.callId, e.at);
    if (call) this.settle(call, false);
  }

  /** A recording was archived: settle its call if Kamailio already saw it end. */
  onRecording(rec: RecordingRow): void {
    const call = this.d.store.call(rec.callId);
    if (!call) {
      // No Kamailio word (supervisor was down at the time, or a direct rtpengine call).
      if (rec.status === 'incomplete' && rec.kind === 'call') {
        const reasons = (rec.summary.reasons as string[] | undefined) ?? [];
        this.d.onFinding({ type: 'incomplete', call: null, recording: rec, detail: reasons.join('; '), detailNb: reasonsNbOf(rec).join('; ') });
      }
      return;
    }
    if (call.state === 'missing') {
      // It came late after all (a slow disk, a long backlog): the record is there.
      this.settle({ ...call, state: 'ended' }, false);
      return;
    }
    if (call.state === 'active' && this.closeUnseenEnd(call, this.d.now())) return;
    this.settle(call, false);
  }

  /** Deadlines: calls whose recording never came, calls never seen ending. */
  tick(): void {
    const now = this.d.now();
    const ready = this.d.ready?.() ?? true;
    let pending: ReadonlySet<string> | null = null;
    const isPending = (callId: string) => {
      pending ??= this.d.pendingCallIds?.() ?? new Set<string>();
      return pending.has(callId);
    };
    for (const call of this.d.store.callsInState(['ended', 'active'])) {
      if (call.state === 'active') {
        if (this.closeUnseenEnd(call, now)) continue;
        if (ready && now - Math.max(call.connectedAt, this.startedAt) >= this.d.maxCallMs) {
          this.d.store.decideCall(call.callId, 'lost', null, `no BYE seen within ${Math.round(this.d.maxCallMs / 60_000)} min`, now);
          if (!call.test) this.d.onFinding({ type: 'lost', call });
        }
      } else if (call.endedAt !== null && ready && now - Math.max(call.endedAt, this.startedAt) >= this.d.graceMs) {
        this.settle(call, true, isPending);
      }
    }
  }

  /**
   * An active call that has ended where Kamailio's end event did not reach us
   * (UDP; sent while the supervisor was down): closed at the end Kamailio's call
   * records give, else at the end rtpengine wrote into a finished recording of it
   * — once that is older than the grace (the event may just be late) or older
   * than this process. Returns whether it closed the call.
   */
  private closeUnseenEnd(call: CallRow, now: number): boolean {
    let at = this.d.store.kamailioCallEnd(call.callId);
    let from = { en: "from Kamailio's call records", nb: 'fra Kamailios samtalelogg' };
    if (at === null) {
      const ends = this.d.store
        .recordingsByCallId(call.callId)
        .map((r) => r.summary.rtpengineEndedAt)
        .filter((x): x is number => typeof x === 'number');
      const end = ends.length > 0 ? Math.max(...ends) : null;
      if (end === null || (end >= this.startedAt && now - end < this.d.graceMs)) return false;
      at = end;
      from = { en: "from rtpengine's end of the recording", nb: 'fra der rtpengine avsluttet opptaket' };
    }
    const ended = this.d.store.callEnded(call.callId, Math.max(at, call.connectedAt));
    if (ended)
      this.settle(ended, false, undefined, {
        en: `end ${from.en}: Kamailio's end event was not received`,
        nb: `slutt ${from.nb}: Kamailios slutthendelse kom ikke fram`,
      });
    return true;
  }

  private settle(call: CallRow, deadlinePassed: boolean, isPending?: (callId: string) => boolean, note?: { en: string; nb: string }): void {
    if (call.state !== 'ended' || call.endedAt === null) return;
    const now = this.d.now();
    const recs = this.d.store.recordingsByCallId(call.callId).filter((r) => r.status !== 'no-audio' || r.audioMs > 0);
    if (recs.length === 0) {
      if (!deadlinePassed) return;
      // Its recording is in the spool, not archived yet (a backlog after a restart): wait for it.
      if (isPending?.(call.callId)) return;
      const detail = call.offered
        ? `no recording arrived within ${Math.round(this.d.graceMs / 1000)} s of the call's end`
        : 'rtpengine did not take the call (down or refusing): media went end to end, unrecorded';
      this.d.store.decideCall(call.callId, 'missing', null, detail, now, {
        callId: call.callId,
        caller: call.caller,
        called: call.called,
        route: call.route,
        connectedAt: call.connectedAt,
        endedAt: call.endedAt,
        detail,
      });
      if (!call.test) this.d.onFinding({ type: 'missing', call: { ...call, state: 'missing', detail } });
      return;
    }
    const connectedMs = call.endedAt - call.connectedAt;
    // Several recordings for one Call-ID (a re-INVITE after rtpengine came back): their audio adds up.
    const capturedMs = recs.reduce((sum, r) => sum + Number(r.summary.capturedMs ?? 0), 0);
    const missingMs = connectedMs - capturedMs;
    // rtpengine's counters showed every packet it received in the recording up to this moment:
    // audio shorter than the call is then a pause in the RTP, not a gap in the recording.
    const accountedUntil = Math.max(0, ...recs.map((r) => Number(r.summary.mediaAccountedUntil ?? 0)));
    const accounted = call.endedAt - accountedUntil <= this.d.limits.incompleteMinMissingMs;
    const short = !accounted && capturedMs < connectedMs * this.d.limits.completeRatio && missingMs > this.d.limits.incompleteMinMissingMs;
    const bad = recs.find((r) => r.status === 'incomplete');
    const main = recs[recs.length - 1] as RecordingRow;
    if (short || bad) {
      const reasons = bad ? ((bad.summary.reasons as string[] | undefined) ?? []) : [];
      const reasonsNb = bad ? reasonsNbOf(bad) : [];
      if (short && !bad) {
        const [c, k] = [(capturedMs / 1000).toFixed(1), (connectedMs / 1000).toFixed(1)];
        reasons.push(`${c} s of audio for a ${k} s call (Kamailio)`);
        reasonsNb.push(`${c} s lyd for en samtale på ${k} s (Kamailio)`);
      }
      const detail = [...new Set(reasons), ...(note ? [note.en] : [])].join('; ');
      const detailNb = [...new Set(reasonsNb), ...(note ? [note.nb] : [])].join('; ');
      this.d.store.decideCall(call.callId, 'incomplete', (bad ?? main).id, detail, now);
      if (!call.test) this.d.onFinding({ type: 'incomplete', call: { ...call, state: 'incomplete', detail }, recording: bad ?? main, detail, detailNb });
      return;
    }
    this.d.store.decideCall(
      call.callId,
      'recorded',
      main.id,
      `${(capturedMs / 1000).toFixed(1)} s of audio for a ${(connectedMs / 1000).toFixed(1)} s call${note ? ` (${note.en})` : ''}`,
      now,
    );
  }

  /** Verdicts within the fault window (for the signals). */
  counts(windowMs: number): { missing: number; incomplete: number; lost: number; active: number; newest: CallRow[] } {
    const since = this.d.now() - windowMs;
    const bad = this.d.store.calls({ limit: 1000, states: ['missing', 'incomplete', 'lost'], decidedSince: since }).filter((c) => !c.test);
    return {
      missing: bad.filter((c) => c.state === 'missing').length,
      incomplete: bad.filter((c) => c.state === 'incomplete').length,
      lost: bad.filter((c) => c.state === 'lost').length,
      active: this.d.store.callsInState(['active']).length,
      newest: bad.slice(0, 5),
    };
  }
}

/** A recording's reasons in Norwegian (recordings archived before they were kept: the English ones). */
function reasonsNbOf(rec: RecordingRow): string[] {
  const nb = rec.summary.reasonsNb as string[] | undefined;
  return nb ? [...nb] : [...((rec.summary.reasons as string[] | undefined) ?? [])];
}
