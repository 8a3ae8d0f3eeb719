/**
 * The child's half of the host API: what the vaktpost nodes see as
 * `RED.settings.vaktpost`. It dispatches each evaluation to the `vaktpost signal`
 * nodes, follows the messages they emit through the flow (Node-RED's preDeliver /
 * postReceive hooks) and tells the host once they have all been handled — "settled" —
 * together with the standing route proposals. The host applies a proposal only if that
 * answer arrives within its timeout.
 *
 * Why hooks and not "wait a bit": Node-RED delivers every hop with setImmediate, so the
 * depth of a flow decides how long an answer takes; counting deliveries is exact. When
 * the count reaches zero the check is repeated one setImmediate later: the Function node
 * sends its results from a promise callback (a microtask after its handler returned),
 * and those must count. A node that answers later still (delay, timers, I/O) settles
 * without its proposal; that proposal then arrives on its own as an update.
 */
import type { ChildToHost, DeviationInput, EvalInput, FlowsHost, SignalSubscriber, TabProposal } from '../protocol.js';
import { FLOWS_PROTOCOL_VERSION } from '../protocol.js';

interface Pending {
  inflight: number;
  emitted: number;
  dispatched: boolean;
  msgids: Set<string>;
}

export interface DeliveryEvent {
  msg: object & { _msgid?: unknown };
}

export class Bridge implements FlowsHost {
  readonly protocol = FLOWS_PROTOCOL_VERSION;
  private readonly subs = new Set<SignalSubscriber>();
  /** Subscribers that have had at least one evaluation (a new node always emits first). */
  private readonly seen = new WeakSet<SignalSubscriber>();
  private readonly standing = new Map<string, TabProposal>();
  private readonly tabLabels = new Map<string, string>();
  private readonly msgSeq = new Map<string, number>();
  private readonly pending = new Map<number, Pending>();
  /** Message object → its evaluation and how many deliveries of it are under way (nodes pass the same object on). */
  private readonly delivered = new WeakMap<object, { seq: number; n: number }>();
  private latest: EvalInput | null = null;
  /** Set after a (re)deploy: the next evaluation goes to every signal node. */
  private forceInitial = true;

  constructor(private readonly send: (m: ChildToHost) => void) {}

  subscribe(sub: SignalSubscriber): () => void {
    this.subs.add(sub);
    return () => this.subs.delete(sub);
  }

  track(msgid: string, seq: number): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.msgSeq.set(msgid, seq);
    p.msgids.add(msgid);
  }

  current(): EvalInput | null {
    return this.latest;
  }

  propose(p: TabProposal): void {
    const label = this.tabLabels.get(p.tab);
    this.standing.set(p.tab, label ? { ...p, tabLabel: label } : p);
    // Part of an evaluation still in flight: it goes out with the settle message.
    if (p.seq !== null && this.pending.has(p.seq)) return;
    this.send({ t: 'proposal', proposals: this.proposals() });
  }

  deviation(d: DeviationInput): void {
    const label = this.tabLabels.get(d.tab);
    this.send({ t: 'deviation', deviation: label ? { ...d, en: `${d.en} [${label}]`, nb: `${d.nb} [${label}]` } : d });
  }

  /** A new flow configuration runs: old proposals are void, every signal node emits again. */
  flowsStarted(tabs: ReadonlyArray<{ id: string; label?: string }>): void {
    this.tabLabels.clear();
    for (const t of tabs) if (t.label) this.tabLabels.set(t.id, t.label);
    this.standing.clear();
    this.forceInitial = true;
  }

  evaluate(input: EvalInput): void {
    const initial = input.initial || this.forceInitial;
    this.forceInitial = false;
    const effective: EvalInput = initial === input.initial ? input : { ...input, initial };
    this.latest = effective;
    const p: Pending = { inflight: 0, emitted: 0, dispatched: false, msgids: new Set() };
    this.pending.set(input.seq, p);
    for (const sub of [...this.subs]) {
      const first = initial || !this.seen.has(sub);
      this.seen.add(sub);
      try {
        if (sub.deliver(effective, first)) p.emitted++;
      } catch (err) {
        // A broken node must not keep the answer from the host.
        process.stderr.write(`vaktpost signal ${sub.id} failed: ${(err as Error).message}\n`);
      }
    }
    p.dispatched = true;
    this.settleSoon(input.seq);
    // Guard against evaluations that can never settle (a node that swallowed a message).
    if (this.pending.size > 64) {
      const oldest = Math.min(...this.pending.keys());
      this.finish(oldest);
    }
  }

  /** Node-RED hook: a message is about to be delivered to a node. */
  onPreDeliver(ev: DeliveryEvent): void {
    const id = ev.msg._msgid;
    if (typeof id !== 'string') return;
    const seq = this.msgSeq.get(id);
    if (seq === undefined) return;
    const p = this.pending.get(seq);
    if (!p) return;
    p.inflight++;
    const d = this.delivered.get(ev.msg);
    if (d && d.seq === seq) d.n++;
    else this.delivered.set(ev.msg, { seq, n: 1 });
  }

  /** Node-RED hook: a node's input handler has returned (its synchronous sends are counted). */
  onPostReceive(ev: DeliveryEvent): void {
    const d = this.delivered.get(ev.msg);
    if (!d) return;
    const seq = d.seq;
    if (--d.n <= 0) this.delivered.delete(ev.msg);
    const p = this.pending.get(seq);
    if (!p) return;
    p.inflight--;
    this.settleSoon(seq);
  }

  /** Settles once nothing of this evaluation is in flight, after microtasks have had their turn. */
  private settleSoon(seq: number): void {
    const p = this.pending.get(seq);
    if (!p?.dispatched || p.inflight > 0) return;
    setImmediate(() => {
      const q = this.pending.get(seq);
      if (q && q.inflight <= 0) this.finish(seq);
    });
  }

  private finish(seq: number): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    for (const id of p.msgids) this.msgSeq.delete(id);
    this.send({ t: 'settled', seq, emitted: p.emitted, proposals: this.proposals() });
  }

  private proposals(): TabProposal[] {
    return [...this.standing.values()];
  }
}
