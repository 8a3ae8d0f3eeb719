/**
 * The typed contract between the supervisor and the Node-RED child process.
 *
 * This is the ONLY file under supervisor/ that the vaktpost node package in flows/
 * may import (dependency-cruiser rule `flows-only-via-ipc`), and flows/ imports it
 * with `import type` only: the nodes are CommonJS and must not pull supervisor code
 * into the child. So this file is self-contained — no imports — and its types are
 * plain JSON shapes (they cross process.send()).
 *
 * Direction of messages:
 *   host → child  HostToChild  (init, eval, ping, shutdown)
 *   child → host  ChildToHost  (ready, state, settled, proposal, deviation, pong, fatal)
 * Inside the child, the vaktpost nodes reach the host through `FlowsHost`, an object
 * the child puts into Node-RED's settings as `settings.vaktpost`.
 */

export const FLOWS_PROTOCOL_VERSION = 2;

export type WireStatus = 'ok' | 'warn' | 'fail' | 'unknown';
export type WireRoute = 'local' | 'backup';
/** What a flow may propose: a route, or "let the built-in policy decide". */
export type ProposedRoute = WireRoute | 'builtin';

export interface WireReason {
  code: string;
  en: string;
  nb: string;
}

export interface WireSignal {
  subsystem: string;
  status: WireStatus;
  value: number | string | boolean | null;
  unit?: string;
  detail?: string;
  /** True when the signal is past its ttl (then status is `unknown`). */
  stale: boolean;
  /** Epoch ms when status or value last changed. */
  changedAt: number;
}

export interface WireHealth {
  status: WireStatus;
  reasons: WireReason[];
}

/**
 * One evaluation of the supervisor, as the flows see it. `at` is the evaluation time
 * (epoch ms) — flows must use it rather than the wall clock, so the dry-run can replay
 * a recorded day at full speed.
 */
export interface EvalInput {
  seq: number;
  at: number;
  /**
   * What changed since the previous evaluation: signal keys (`wan.wan1.state`),
   * `health.<subsystem>` for a subsystem whose status changed, `floor`, `builtin`.
   */
  changed: string[];
  /** The subset of `changed` whose status (not only value) changed. */
  statusChanged: string[];
  /** Every `vaktpost signal` node emits, whatever its filter (first input after a (re)deploy). */
  initial: boolean;
  signals: Record<string, WireSignal>;
  health: Record<string, WireHealth>;
  /** Safety-floor reasons; when non-empty calls go to backup whatever the flows say. */
  floor: WireReason[];
  /** What the built-in policy would do now. */
  builtin: { route: WireRoute; mode: string; reasons: WireReason[] };
  /** The route in force right now. */
  applied: { route: WireRoute; mode: string; since: number | null };
}

/** A route node's standing proposal. The latest proposal of each tab (flow) stands until replaced. */
export interface TabProposal {
  tab: string;
  tabLabel?: string;
  node: string;
  nodeName?: string;
  route: ProposedRoute;
  en: string;
  nb: string;
  /** The evaluation that caused it; null when it came from elsewhere (inject node, timer). */
  seq: number | null;
  /** Evaluation time the proposal refers to (EvalInput.at), or the child's clock when seq is null. */
  at: number;
}

export type DeviationSeverity = 'info' | 'warn' | 'alarm';

export interface DeviationInput {
  severity: DeviationSeverity;
  en: string;
  nb: string;
  tab: string;
  node: string;
  nodeName?: string;
  data?: unknown;
}

/** Node-RED settings the host decides; the child adds the fixed safety settings itself. */
export interface ChildInit {
  t: 'init';
  protocol: number;
  /** Node-RED's userDir; the child creates it (it is the flows user's, not the supervisor's). */
  userDir: string;
  /** Written to <userDir>/flows.json before Node-RED starts; absent = keep what is there. */
  flows?: unknown[];
  /**
   * Node-RED's encrypted node credentials from before the child had its own home
   * (<dataDir>/flows/node-red/flows_cred.json): written only where none exist yet.
   */
  legacyCredentials?: string;
  /** Load Node-RED's file nodes (file, file in, watch); off unless flows.fileNodes. */
  fileNodes: boolean;
  /** Folder of the vaktpost node package (its package.json has a `node-red.nodes` map). */
  nodesDir: string;
  /** The editor/admin API listens on this unix socket only (0600 in a 0700 dir). */
  socketPath: string;
  /** Node-RED's httpAdminRoot — the same path the supervisor proxies, so no URL rewriting. */
  adminRoot: string;
  credentialSecret: string;
  functionTimeoutS: number;
  /** Extra scripts for the editor page (the CSRF header and the dry-run button). */
  editorScripts: string[];
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
}

export type HostToChild = ChildInit | { t: 'eval'; input: EvalInput } | { t: 'ping'; n: number } | { t: 'shutdown' };

export type FlowsRuntimeState = 'started' | 'stopped' | 'deploying';

export type ChildToHost =
  | { t: 'ready'; nodeRed: string; pid: number }
  | {
      t: 'state';
      state: FlowsRuntimeState;
      /** Node-RED's reason when flows stopped on their own, e.g. `missing-types`. */
      error?: string;
      detail?: string;
      rev?: string;
    }
  | { t: 'settled'; seq: number; emitted: number; proposals: TabProposal[] }
  | { t: 'proposal'; proposals: TabProposal[] }
  | { t: 'deviation'; deviation: DeviationInput }
  | { t: 'pong'; n: number; rssBytes: number }
  | { t: 'fatal'; error: string };

/** A `vaktpost signal` node as the bridge sees it. */
export interface SignalSubscriber {
  /** Node id and tab. */
  id: string;
  z: string;
  /**
   * Called for every evaluation. The node decides from its filter whether to emit,
   * and emits synchronously (node.send) before returning; returns whether it did.
   */
  deliver(input: EvalInput, first: boolean): boolean;
}

/** What the vaktpost nodes get as `RED.settings.vaktpost` inside the child. */
export interface FlowsHost {
  readonly protocol: number;
  subscribe(sub: SignalSubscriber): () => void;
  /** Links a message id to the evaluation it belongs to (the bridge waits for it to settle). */
  track(msgid: string, seq: number): void;
  /** The latest evaluation input, for `vaktpost status`. */
  current(): EvalInput | null;
  propose(p: TabProposal): void;
  deviation(d: DeviationInput): void;
}

const ROUTES: readonly string[] = ['local', 'backup', 'builtin'];
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

export function isTabProposal(x: unknown): x is TabProposal {
  return (
    isObj(x) &&
    isStr(x.tab) &&
    isStr(x.node) &&
    isStr(x.route) &&
    ROUTES.includes(x.route) &&
    isStr(x.en) &&
    isStr(x.nb) &&
    (x.seq === null || isNum(x.seq)) &&
    isNum(x.at)
  );
}

/**
 * Validates a message from the child. The child runs user-written flows, so the host
 * treats what it says as untrusted input: anything malformed is dropped and logged.
 */
export function parseChildMessage(x: unknown): ChildToHost | null {
  if (!isObj(x) || !isStr(x.t)) return null;
  switch (x.t) {
    case 'ready':
      return isStr(x.nodeRed) && isNum(x.pid) ? { t: 'ready', nodeRed: x.nodeRed, pid: x.pid } : null;
    case 'state': {
      if (x.state !== 'started' && x.state !== 'stopped' && x.state !== 'deploying') return null;
      return {
        t: 'state',
        state: x.state,
        ...(isStr(x.error) ? { error: x.error } : {}),
        ...(isStr(x.detail) ? { detail: x.detail } : {}),
        ...(isStr(x.rev) ? { rev: x.rev } : {}),
      };
    }
    case 'settled':
      if (!isNum(x.seq) || !isNum(x.emitted) || !Array.isArray(x.proposals) || !x.proposals.every(isTabProposal)) return null;
      return { t: 'settled', seq: x.seq, emitted: x.emitted, proposals: x.proposals };
    case 'proposal':
      if (!Array.isArray(x.proposals) || !x.proposals.every(isTabProposal)) return null;
      return { t: 'proposal', proposals: x.proposals };
    case 'deviation': {
      const d = x.deviation;
      if (!isObj(d) || !isStr(d.en) || !isStr(d.nb) || !isStr(d.tab) || !isStr(d.node)) return null;
      if (d.severity !== 'info' && d.severity !== 'warn' && d.severity !== 'alarm') return null;
      return {
        t: 'deviation',
        deviation: {
          severity: d.severity,
          en: d.en.slice(0, 500),
          nb: d.nb.slice(0, 500),
          tab: d.tab,
          node: d.node,
          ...(isStr(d.nodeName) ? { nodeName: d.nodeName } : {}),
          ...(d.data !== undefined ? { data: d.data } : {}),
        },
      };
    }
    case 'pong':
      return isNum(x.n) && isNum(x.rssBytes) ? { t: 'pong', n: x.n, rssBytes: x.rssBytes } : null;
    case 'fatal':
      return isStr(x.error) ? { t: 'fatal', error: x.error } : null;
    default:
      return null;
  }
}
