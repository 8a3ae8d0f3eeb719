/**
 * The loop's write path to the store, with a way through a store that cannot write.
 *
 * Guarantees:
 *  - A write never throws at the caller. The decision loop records first and actuates
 *    second; if the record cannot be written (data disk full, I/O error, locked), the
 *    route still changes: the record waits here and the caller gets a provisional id.
 *  - Order is kept: while anything waits, newer records queue behind it, so the store
 *    never holds a decision after an event that came later.
 *  - Provisional ids are negative and unique. When a waiting decision is written, the
 *    actions and events that refer to it are written with its real id.
 *  - The buffer is bounded (`maxPending`). When it is full, signal samples are dropped
 *    first (they are history, not evidence); decisions, events and actions are dropped
 *    only when nothing else is left, and every drop is counted and reported.
 *  - `onState` is called once when writing starts to fail and once when the backlog has
 *    been written, so the caller raises one alarm and one all-clear, not one per record.
 * Flushing is retried every `retryMs` by the owner (see `flush()`).
 */
import type { Decision } from '../core/policy.js';
import type { Signal } from '../core/signal.js';
import type { ActionInput, EventInput, Store } from './store.js';

type Pending =
  | { kind: 'decision'; tempId: number; decision: Decision; signals: readonly Signal[] }
  | { kind: 'event'; tempId: number; event: EventInput }
  | { kind: 'action'; action: ActionInput }
  | { kind: 'samples'; signals: readonly Signal[] };

export interface JournalState {
  /** false while records wait in memory because the store refused them. */
  writable: boolean;
  pending: number;
  dropped: { samples: number; records: number };
  /** The store's own words for the last failure, e.g. "database or disk is full". */
  lastError: string | null;
}

export interface JournalOptions {
  maxPending?: number;
  onState?: (s: JournalState) => void;
}

export class Journal {
  private readonly queue: Pending[] = [];
  private nextTempId = -1;
  /** Provisional decision id → the id it got when written. */
  private readonly realIds = new Map<number, number>();
  private readonly dropped = { samples: 0, records: 0 };
  private lastError: string | null = null;
  private writable = true;
  private readonly maxPending: number;

  constructor(
    private readonly store: Store,
    private readonly opts: JournalOptions = {},
  ) {
    this.maxPending = opts.maxPending ?? 20_000;
  }

  state(): JournalState {
    return { writable: this.writable, pending: this.queue.length, dropped: { ...this.dropped }, lastError: this.lastError };
  }

  /** Returns the decision's id: real if written, provisional (< 0) if it waits. */
  decision(decision: Decision, signals: readonly Signal[]): number {
    return this.write(
      () => this.store.insertDecision(decision, signals),
      () => ({ kind: 'decision', tempId: this.nextTempId--, decision, signals }),
    );
  }

  event(event: EventInput): number {
    return this.write(
      () => this.store.insertEvent(this.resolveEvent(event)),
      () => ({ kind: 'event', tempId: this.nextTempId--, event }),
    );
  }

  action(action: ActionInput): void {
    this.write(
      () => this.store.insertAction(this.resolveAction(action)),
      () => ({ kind: 'action', action }),
    );
  }

  samples(signals: readonly Signal[]): void {
    if (signals.length === 0) return;
    this.write(
      () => {
        this.store.insertSamples(signals);
        return 0;
      },
      () => ({ kind: 'samples', signals }),
    );
  }

  /** The real id of a decision written late (or the id itself). */
  realId(id: number | null): number | null {
    if (id === null || id >= 0) return id;
    return this.realIds.get(id) ?? id;
  }

  /** Write what waits, in order, until the store refuses again. Returns true when empty. */
  flush(): boolean {
    while (this.queue.length > 0) {
      const p = this.queue[0] as Pending;
      try {
        switch (p.kind) {
          case 'decision':
            this.realIds.set(p.tempId, this.store.insertDecision(p.decision, p.signals));
            break;
          case 'event':
            this.store.insertEvent(this.resolveEvent(p.event));
            break;
          case 'action':
            this.store.insertAction(this.resolveAction(p.action));
            break;
          case 'samples':
            this.store.insertSamples(p.signals);
            break;
        }
      } catch (err) {
        this.lastError = (err as Error).message;
        // A record the store will never take (a constraint, a bug) must not block the rest.
        if (!isTransient(err)) this.dropped.records++;
        else return false;
      }
      this.queue.shift();
    }
    if (!this.writable) {
      this.writable = true;
      this.opts.onState?.(this.state());
    }
    // Reconcilers may still refer to a provisional id for a while; keep the newest.
    for (const k of this.realIds.keys()) {
      if (this.realIds.size <= 1000) break;
      this.realIds.delete(k);
    }
    return true;
  }

  private write(direct: () => number, later: () => Pending): number {
    if (this.queue.length === 0) {
      try {
        return direct();
      } catch (err) {
        this.lastError = (err as Error).message;
      }
    }
    const p = later();
    this.enqueue(p);
    if (this.writable) {
      this.writable = false;
      this.opts.onState?.(this.state());
    }
    return 'tempId' in p ? p.tempId : 0;
  }

  private enqueue(p: Pending): void {
    if (this.queue.length >= this.maxPending) {
      const i = this.queue.findIndex((q) => q.kind === 'samples');
      if (i >= 0) {
        this.queue.splice(i, 1);
        this.dropped.samples++;
      } else if (p.kind === 'samples') {
        this.dropped.samples++;
        return;
      } else {
        // Nothing but evidence left: the oldest goes (the newest says where calls go now).
        this.queue.shift();
        this.dropped.records++;
      }
    }
    this.queue.push(p);
  }

  /** A provisional id whose decision was dropped resolves to null (no such decision row). */
  private resolveAction(a: ActionInput): ActionInput {
    if (a.decisionId === null || a.decisionId >= 0) return a;
    const id = this.realId(a.decisionId);
    return { ...a, decisionId: id !== null && id >= 0 ? id : null };
  }

  private resolveEvent(e: EventInput): EventInput {
    const data = e.data as { decisionId?: unknown } | undefined;
    if (data && typeof data.decisionId === 'number' && data.decisionId < 0) {
      return { ...e, data: { ...data, decisionId: this.realId(data.decisionId) } };
    }
    return e;
  }
}

/** Failures that pass when the disk has room again or the lock is released. */
export function isTransient(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|BUSY|LOCKED|READONLY|CANTOPEN|PROTOCOL|NOMEM)/.test(code);
}
