/**
 * `vaktpost deviation`: records a deviation (avvik) / notification in the supervisor's
 * event log, with msg.payload as data. The text comes from the node, or from
 * msg.deviation = {en, nb} (or a plain string).
 */
import type { DeviationSeverity } from '../../../supervisor/src/flows/protocol.js';
import { hostOf, NO_HOST_STATUS, type NodeDef, type RedApi, type RedNode } from '../red.js';

export interface DeviationNodeDef extends NodeDef {
  severity?: DeviationSeverity;
  text?: string;
  textNb?: string;
}

export function registerDeviation(RED: RedApi): void {
  function DeviationNode(this: RedNode, def: DeviationNodeDef): void {
    RED.nodes.createNode(this, def);
    const host = hostOf(RED);
    if (!host) this.status(NO_HOST_STATUS);
    const severity: DeviationSeverity = def.severity === 'alarm' || def.severity === 'info' ? def.severity : 'warn';
    this.on('input', (msg, send, done) => {
      if (!host) return done();
      const d = msg.deviation;
      let en = def.text?.trim() || 'deviation from flow';
      let nb = def.textNb?.trim() || en;
      if (typeof d === 'string' && d.trim()) {
        en = d;
        nb = d;
      } else if (d && typeof d === 'object') {
        const o = d as { en?: unknown; nb?: unknown };
        if (typeof o.en === 'string' && o.en.trim()) {
          en = o.en;
          nb = typeof o.nb === 'string' && o.nb.trim() ? o.nb : o.en;
        }
      }
      let data: unknown;
      try {
        // Only plain JSON crosses to the supervisor.
        data = msg.payload === undefined ? undefined : JSON.parse(JSON.stringify(msg.payload));
      } catch {
        data = String(msg.payload);
      }
      host.deviation({ severity, en, nb, tab: this.z, node: this.id, ...(def.name ? { nodeName: def.name } : {}), ...(data !== undefined ? { data } : {}) });
      this.status({ fill: severity === 'alarm' ? 'red' : severity === 'warn' ? 'yellow' : 'blue', shape: 'dot', text: en.slice(0, 40) });
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('vaktpost deviation', DeviationNode);
}
