/**
 * `vaktpost status`: on any input, puts the supervisor's latest view (route in force,
 * built-in opinion, health, safety floor) into msg.payload.
 */
import { hostOf, NO_HOST_STATUS, type NodeDef, type RedApi, type RedNode } from '../red.js';

export function registerStatus(RED: RedApi): void {
  function StatusNode(this: RedNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const host = hostOf(RED);
    if (!host) this.status(NO_HOST_STATUS);
    this.on('input', (msg, send, done) => {
      const cur = host?.current() ?? null;
      if (!cur) {
        this.status({ fill: 'yellow', shape: 'ring', text: 'no evaluation yet' });
        msg.payload = null;
      } else {
        const health: Record<string, string> = {};
        for (const [sub, h] of Object.entries(cur.health)) health[sub] = h.status;
        msg.payload = { at: cur.at, route: cur.applied.route, mode: cur.applied.mode, builtin: cur.builtin, health, floor: cur.floor, signals: cur.signals };
        this.status({ fill: cur.applied.route === 'local' ? 'green' : 'red', shape: 'dot', text: `${cur.applied.route} (${cur.applied.mode})` });
      }
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('vaktpost status', StatusNode);
}
