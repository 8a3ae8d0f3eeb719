/**
 * `vaktpost route`: proposes where calls go — `local`, `backup`, or `builtin` (let the
 * built-in policy decide) — with a reason in English and Norwegian. The latest
 * proposal of each tab stands until that tab proposes again; the supervisor applies it
 * only if it arrives in time and the safety floor allows it.
 */
import type { ProposedRoute } from '../../../supervisor/src/flows/protocol.js';
import { hostOf, NO_HOST_STATUS, type NodeDef, type NodeMessage, type RedApi, type RedNode } from '../red.js';

export interface RouteNodeDef extends NodeDef {
  /** `msg`: take the route from msg.payload. */
  route?: ProposedRoute | 'msg';
  reason?: string;
  reasonNb?: string;
}

const ROUTES: readonly string[] = ['local', 'backup', 'builtin'];

function reasonFrom(msg: NodeMessage, def: RouteNodeDef, route: ProposedRoute): { en: string; nb: string } {
  const r = msg.reason;
  if (typeof r === 'string' && r.trim()) return { en: r, nb: r };
  if (r && typeof r === 'object') {
    const o = r as { en?: unknown; nb?: unknown };
    if (typeof o.en === 'string' && o.en.trim()) return { en: o.en, nb: typeof o.nb === 'string' && o.nb.trim() ? o.nb : o.en };
  }
  const en = def.reason?.trim() || `flow proposes ${route}`;
  return { en, nb: def.reasonNb?.trim() || en };
}

export function registerRoute(RED: RedApi): void {
  function RouteNode(this: RedNode, def: RouteNodeDef): void {
    RED.nodes.createNode(this, def);
    const host = hostOf(RED);
    if (!host) this.status(NO_HOST_STATUS);
    this.on('input', (msg, send, done) => {
      if (!host) return done();
      const raw = def.route === 'msg' || def.route === undefined ? msg.payload : def.route;
      if (typeof raw !== 'string' || !ROUTES.includes(raw)) {
        done(new Error(`vaktpost route: expected local, backup or builtin, got ${JSON.stringify(raw)} (forventet local, backup eller builtin)`));
        return;
      }
      const route = raw as ProposedRoute;
      const { en, nb } = reasonFrom(msg, def, route);
      const ctx = msg.vaktpost as { seq?: unknown; at?: unknown } | undefined;
      const seq = typeof ctx?.seq === 'number' ? ctx.seq : null;
      const at = typeof ctx?.at === 'number' ? ctx.at : Date.now();
      host.propose({ tab: this.z, node: this.id, ...(def.name ? { nodeName: def.name } : {}), route, en, nb, seq, at });
      this.status({ fill: route === 'backup' ? 'red' : route === 'local' ? 'green' : 'grey', shape: 'dot', text: `${route}: ${en}`.slice(0, 60) });
      send(msg);
      done();
    });
  }
  RED.nodes.registerType('vaktpost route', RouteNode);
}
