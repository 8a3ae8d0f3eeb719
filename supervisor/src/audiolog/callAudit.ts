/**
 * Every call Kamailio connected must have a complete recording. The audit
 * keeps Kamailio's calls in the store (so a supervisor restart forgets none)
 * and settles each one after it ends: `recorded`, `incomplete` (less audio than
 * the call lasted), `missing` (no recording within the grace time — rtpengine
 * down, disk gone, recording switched off) or `lost` (never saw it end).
 * Findings become alarms; the counts feed the recording signals.
 */
import type { AudiologStore, CallRow, RecordingRow } from '../store/audiologStore.js';
import type { CallEvent } from './callEvents.js';
import type { JudgeLimits } from './judge.js';

export type AuditFinding =
  | { type: 'notRecording'; call: CallRow }
  | { type: 'missing'; call: CallRow }
  | { type: 'incomplete'; call: CallRow | null; recording: RecordingRow; detail: string }
  | { type: 'lost'; call: CallRow };

export interface CallAuditDeps {
  store: AudiologStore;
  now: () => number;
  limits: JudgeLimits;
  graceMs: number;
  maxCallMs: number;
  onFinding: (f: AuditFinding) => void;
}

export class CallAudit {
  constructor(private readonly d: CallAuditDeps) {}

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
        this.d.onFinding({ type: 'incomplete', call: null, recording: rec, detail: reasons.join('; ') });
      }
      return;
    }
    if (call.state === 'missing') {
      // It came late after all (a slow disk, a long backlog): the record is there.
      this.settle({ ...call, state: 'ended' }, false);
      return;
    }
    this.settle(call, false);
  }

  /** Deadlines: calls whose recording never came, calls never seen ending. */
  tick(): void {
    const now = this.d.now();
    for (const call of this.d.store.callsInState(['ended', 'active'])) {
      if (call.state === 'ended' && call.endedAt !== null && now - call.endedAt >= this.d.graceMs) this.settle(call, true);
      else if (call.state === 'active' && now - call.connectedAt >= this.d.maxCallMs) {
        this.d.store.decideCall(call.callId, 'lost', null, `no BYE seen within ${Math.round(this.d.maxCallMs / 60_000)} min`, now);
        if (!call.test) this.d.onFinding({ type: 'lost', call });
      }
    }
  }

  private settle(call: CallRow, deadlinePassed: boolean): void {
    if (call.state !== 'ended' || call.endedAt === null) return;
    const now = this.d.now();
    const recs = this.d.store.recordingsByCallId(call.callId).filter((r) => r.status !== 'no-audio' || r.audioMs > 0);
    if (recs.length === 0) {
      if (!deadlinePassed) return;
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
    const short = capturedMs < connectedMs * this.d.limits.completeRatio && missingMs > this.d.limits.incompleteMinMissingMs;
    const bad = recs.find((r) => r.status === 'incomplete');
    const main = recs[recs.length - 1] as RecordingRow;
    if (short || bad) {
      const reasons = bad ? ((bad.summary.reasons as string[] | undefined) ?? []) : [];
      if (short && !bad) reasons.push(`${(capturedMs / 1000).toFixed(1)} s of audio for a ${(connectedMs / 1000).toFixed(1)} s call (Kamailio)`);
      const detail = [...new Set(reasons)].join('; ');
      this.d.store.decideCall(call.callId, 'incomplete', (bad ?? main).id, detail, now);
      if (!call.test) this.d.onFinding({ type: 'incomplete', call: { ...call, state: 'incomplete', detail }, recording: bad ?? main, detail });
      return;
    }
    this.d.store.decideCall(
      call.callId,
      'recorded',
      main.id,
      `${(capturedMs / 1000).toFixed(1)} s of audio for a ${(connectedMs / 1000).toFixed(1)} s call`,
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
