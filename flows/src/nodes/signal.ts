/**
 * `vaktpost signal`: emits a message when matching signals or subsystem health
 * change (or on every evaluation). The message carries the whole evaluation in
 * `msg.vaktpost` (seq, at, health, builtin, applied, signals, floor) so that the
 * route node downstream can tie its proposal to this evaluation.
 */
import type { EvalInput, SignalSubscriber, WireSignal } from '../../../supervisor/src/flows/protocol.js';
import { compileFilter } from '../match.js';
import { hostOf, NO_HOST_STATUS, type NodeDef, type RedApi, type RedNode } from '../red.js';

export interface SignalNodeDef extends NodeDef {
  /** Key patterns, e.g. `wan.*.state, health.recording`; empty = everything. */
  filter?: string;
  /** `change`: status or value changed; `status`: status changed; `every`: every evaluation. */
  trigger?: 'change' | 'status' | 'every';
}

export function registerSignal(RED: RedApi): void {
  function SignalNode(this: RedNode, def: SignalNodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const host = hostOf(RED);
    if (!host) {
      node.status(NO_HOST_STATUS);
      return;
    }
    const matches = compileFilter(def.filter);
    const trigger = def.trigger ?? 'change';
    const sub: SignalSubscriber = {
      id: node.id,
      z: node.z,
      deliver(input: EvalInput, first: boolean): boolean {
        const changed = input.changed.filter(matches);
        const relevant = trigger === 'status' ? input.statusChanged.filter(matches) : changed;
        if (!first && trigger !== 'every' && relevant.length === 0) return false;
        const signals: Record<string, WireSignal> = {};
        for (const [k, s] of Object.entries(input.signals)) if (matches(k)) signals[k] = s;
        const health: Record<string, string> = {};
        for (const [sub, h] of Object.entries(input.health)) health[sub] = h.status;
        const msgid = RED.util.generateId();
        host.track(msgid, input.seq);
        node.send({ _msgid: msgid, topic: changed[0] ?? 'vaktpost', payload: { changed, signals, health }, vaktpost: input });
        const worst = Object.values(signals).some((s) => s.status === 'fail')
          ? 'red'
          : Object.values(signals).some((s) => s.status !== 'ok')
            ? 'yellow'
            : 'green';
        node.status({ fill: worst, shape: 'dot', text: `#${input.seq} ${changed.length > 0 ? changed.slice(0, 2).join(', ') : trigger}` });
        return true;
      },
    };
    const unsubscribe = host.subscribe(sub);
    node.on('close', (_removed, done) => {
      unsubscribe();
      done();
    });
  }
  RED.nodes.registerType('vaktpost signal', SignalNode);
}
