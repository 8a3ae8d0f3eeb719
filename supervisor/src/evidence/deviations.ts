/**
 * The deviations register (KoKom T15). Faults open a deviation by themselves:
 * every recorded `alarm` event (route moved to backup, verification failed,
 * drill failed, a time or power failure …) and the warnings listed in
 * `evidence.deviations.alsoKinds` (a missed duty, a gap in observation). While
 * a deviation with the same key is open, a repeat of the fault is added to it
 * (occurrences, linked events) instead of opening another. A person — role
 * technician — acknowledges it and closes it with a comment; both are stored
 * with who and when, and recorded as events.
 */
import { type DeviationRules, deviationKey } from '../core/evidence.js';
import type { EventInput } from '../store/store.js';
import type { Deviation, EvidenceStore } from '../store/evidenceStore.js';

export type RecordEvent = (e: Omit<EventInput, 'at'> & { at?: number }) => void;

export interface DeviationRegisterDeps {
  store: EvidenceStore;
  rules: DeviationRules;
  now: () => number;
  /** Writes an audit event (Supervisor.event). */
  record: RecordEvent;
}

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export type DeviationActionResult = { ok: true; deviation: Deviation } | { ok: false; status: 404 | 409; error: string; deviation?: Deviation | null };

export class DeviationRegister {
  constructor(private readonly d: DeviationRegisterDeps) {}

  /**
   * Feed every recorded event here (the supervisor's live `event` messages).
   * Returns the deviation it opened or added to, if any.
   */
  onEvent(e: EventInput & { id: number }): Deviation | null {
    let routeTo: 'local' | 'backup' | undefined;
    if (e.kind === 'route.changed') {
      const id = (e.data as { decisionId?: unknown } | null)?.decisionId;
      routeTo = typeof id === 'number' ? (this.d.store.decisionRoute(id) ?? undefined) : undefined;
    }
    const k = deviationKey(e, this.d.rules, routeTo);
    if (!k) return null;
    const open = this.d.store.openDeviationByKey(k.key);
    if (open) {
      this.d.store.addOccurrence(open.id, e.id, e.at);
      return this.d.store.deviation(open.id);
    }
    if (!k.opens) return null;
    const id = this.d.store.openDeviation({
      at: e.at,
      by: 'system',
      key: k.key,
      kind: e.kind,
      subsystem: e.subsystem ?? null,
      titleEn: clip(e.en),
      titleNb: clip(e.nb),
      eventId: e.id,
    });
    this.d.record({
      kind: 'deviation.opened',
      severity: 'info',
      subsystem: e.subsystem ?? null,
      en: `Deviation ${id} opened: ${clip(e.en, 200)}`,
      nb: `Avvik ${id} åpnet: ${clip(e.nb, 200)}`,
      data: { deviationId: id, eventId: e.id },
    });
    return this.d.store.deviation(id);
  }

  /** A deviation a person records by hand (something the box could not see). */
  openManual(by: string, title: string, subsystem: string | null): Deviation {
    const at = this.d.now();
    const id = this.d.store.openDeviation({
      at,
      by,
      key: `manual:${at}:${by}`,
      kind: 'manual',
      subsystem,
      titleEn: clip(title),
      titleNb: clip(title),
      eventId: null,
    });
    this.d.record({
      kind: 'deviation.opened',
      severity: 'info',
      actor: by,
      en: `Deviation ${id} recorded by ${by}: ${clip(title, 200)}`,
      nb: `Avvik ${id} registrert av ${by}: ${clip(title, 200)}`,
      data: { deviationId: id },
    });
    return this.d.store.deviation(id) as Deviation;
  }

  acknowledge(id: number, by: string, comment: string | null): DeviationActionResult {
    const r = this.d.store.acknowledgeDeviation(id, by, comment, this.d.now());
    if (r.result === 'missing') return { ok: false, status: 404, error: `no deviation ${id} (finnes ikke)` };
    if (r.result === 'closed') return { ok: false, status: 409, error: `deviation ${id} is already closed (allerede lukket)`, deviation: r.deviation };
    if (r.result === 'already') {
      return {
        ok: false,
        status: 409,
        error: `deviation ${id} was already acknowledged by ${r.deviation?.ack?.by} (allerede kvittert)`,
        deviation: r.deviation,
      };
    }
    this.d.record({
      kind: 'deviation.acknowledged',
      severity: 'info',
      actor: by,
      en: `Deviation ${id} acknowledged by ${by}${comment ? `: ${comment}` : ''}`,
      nb: `Avvik ${id} kvittert av ${by}${comment ? `: ${comment}` : ''}`,
      data: { deviationId: id, comment },
    });
    return { ok: true, deviation: r.deviation as Deviation };
  }

  close(id: number, by: string, comment: string): DeviationActionResult {
    const r = this.d.store.closeDeviation(id, by, comment, this.d.now());
    if (r.result === 'missing') return { ok: false, status: 404, error: `no deviation ${id} (finnes ikke)` };
    if (r.result === 'closed')
      return { ok: false, status: 409, error: `deviation ${id} is already closed by ${r.deviation?.closed?.by} (allerede lukket)`, deviation: r.deviation };
    this.d.record({
      kind: 'deviation.closed',
      severity: 'info',
      actor: by,
      en: `Deviation ${id} closed by ${by}: ${comment}`,
      nb: `Avvik ${id} lukket av ${by}: ${comment}`,
      data: { deviationId: id, comment },
    });
    return { ok: true, deviation: r.deviation as Deviation };
  }
}
