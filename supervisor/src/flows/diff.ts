/**
 * Flow configurations as Vaktpost stores them: validated, without credentials, with a
 * content hash, and the difference between two versions (what a reviewer wants to see:
 * which nodes were added, removed or changed, and which of their properties).
 */
import { createHash } from 'node:crypto';

export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface NodeSummary {
  id: string;
  type: string;
  name?: string;
  /** Label of the tab (flow) the node is on. */
  tab?: string;
}

export interface FlowDiff {
  added: NodeSummary[];
  removed: NodeSummary[];
  changed: Array<NodeSummary & { properties: string[] }>;
  /** e.g. "+2 −1 ~3 nodes" */
  summary: string;
}

/**
 * Accepts what Node-RED's admin API accepts for a deploy — the v1 array or the v2
 * `{flows, rev}` object — and returns the node list. Credentials are dropped: they
 * stay encrypted in Node-RED's own file and never land in Vaktpost's store.
 */
export function normalizeFlows(body: unknown): FlowNode[] {
  const list = Array.isArray(body)
    ? body
    : body && typeof body === 'object' && Array.isArray((body as { flows?: unknown }).flows)
      ? (body as { flows: unknown[] }).flows
      : null;
  if (!list) throw new Error('expected a flow configuration: an array of nodes, or {"flows": [...]} (forventet en flytkonfigurasjon)');
  const seen = new Set<string>();
  return list.map((n, i) => {
    if (!n || typeof n !== 'object' || Array.isArray(n)) throw new Error(`node ${i} is not an object`);
    const o = n as Record<string, unknown>;
    if (typeof o.id !== 'string' || o.id === '') throw new Error(`node ${i} has no string "id"`);
    if (typeof o.type !== 'string' || o.type === '') throw new Error(`node ${o.id} has no string "type"`);
    if (seen.has(o.id)) throw new Error(`node id ${o.id} appears twice`);
    seen.add(o.id);
    const { credentials: _drop, ...rest } = o;
    return rest as FlowNode;
  });
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Same configuration → same hash, whatever the order of nodes or keys. */
export function flowsSha256(flows: readonly FlowNode[]): string {
  const sorted = [...flows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return createHash('sha256').update(canonical(sorted)).digest('hex');
}

function summarize(n: FlowNode, tabs: Map<string, string>): NodeSummary {
  const tab = typeof n.z === 'string' ? tabs.get(n.z) : n.type === 'tab' ? (n.label as string | undefined) : undefined;
  const name = typeof n.name === 'string' && n.name ? n.name : typeof n.label === 'string' && n.label ? n.label : undefined;
  return { id: n.id, type: n.type, ...(name ? { name } : {}), ...(tab ? { tab } : {}) };
}

function tabLabels(flows: readonly FlowNode[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const n of flows) if (n.type === 'tab' && typeof n.label === 'string') m.set(n.id, n.label);
  return m;
}

export function diffFlows(prev: readonly FlowNode[], next: readonly FlowNode[]): FlowDiff {
  const before = new Map(prev.map((n) => [n.id, n]));
  const after = new Map(next.map((n) => [n.id, n]));
  const tabsBefore = tabLabels(prev);
  const tabsAfter = tabLabels(next);
  const added: NodeSummary[] = [];
  const removed: NodeSummary[] = [];
  const changed: FlowDiff['changed'] = [];
  for (const n of next) {
    const old = before.get(n.id);
    if (!old) {
      added.push(summarize(n, tabsAfter));
      continue;
    }
    const keys = new Set([...Object.keys(old), ...Object.keys(n)]);
    const props = [...keys].filter((k) => canonical(old[k]) !== canonical(n[k])).sort();
    if (props.length > 0) changed.push({ ...summarize(n, tabsAfter), properties: props });
  }
  for (const n of prev) if (!after.has(n.id)) removed.push(summarize(n, tabsBefore));
  return { added, removed, changed, summary: `+${added.length} −${removed.length} ~${changed.length} nodes` };
}
