/**
 * The small part of Node-RED's node API the vaktpost nodes use. Node-RED ships no
 * types; these describe 4.1's behaviour (nodes/Node.js) closely enough to keep the
 * nodes type-checked without reaching for `any`.
 */
import type { FlowsHost } from '../../supervisor/src/flows/protocol.js';

export interface NodeDef {
  id: string;
  type: string;
  z: string;
  name?: string;
}

export interface NodeMessage {
  _msgid?: string;
  topic?: string;
  payload?: unknown;
  [key: string]: unknown;
}

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export type SendFn = (msg: NodeMessage | Array<NodeMessage | null>) => void;
export type DoneFn = (err?: Error) => void;

export interface RedNode {
  id: string;
  type: string;
  z: string;
  name?: string;
  on(event: 'input', cb: (msg: NodeMessage, send: SendFn, done: DoneFn) => void): void;
  on(event: 'close', cb: (removed: boolean, done: () => void) => void): void;
  send(msg: NodeMessage): void;
  status(s: NodeStatus | Record<string, never>): void;
  error(err: string | Error, msg?: NodeMessage): void;
  warn(text: string): void;
}

export interface RedApi {
  nodes: {
    createNode(node: RedNode, def: NodeDef): void;
    registerType(type: string, ctor: (this: RedNode, def: never) => void): void;
  };
  settings: { vaktpost?: FlowsHost };
  util: { generateId(): string };
}

/** The host, or null when the package is loaded by a Node-RED that Vaktpost did not start. */
export function hostOf(RED: RedApi): FlowsHost | null {
  try {
    const h = RED.settings.vaktpost;
    return h && typeof h.subscribe === 'function' ? h : null;
  } catch {
    return null;
  }
}

export const NO_HOST_STATUS: NodeStatus = { fill: 'red', shape: 'ring', text: 'no Vaktpost host (ingen Vaktpost-vert)' };
