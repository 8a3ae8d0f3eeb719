/**
 * Which editor requests may change something in Node-RED, decided on the raw path.
 *
 * Node-RED's router (express) matches paths case-insensitively and does not care about
 * doubled slashes, so a filter that compares strings loosely lets `/flows/FLOWS` or
 * `/flows//flows` deploy past the versioned deploy. Hence an allow-list: a request that
 * changes anything must be one of the exact, canonical paths below (lower case, single
 * slashes, no `.`/`..` segments, no %-escapes outside a context key or library name);
 * everything else is refused before it reaches the child. Reading (GET/HEAD) changes
 * nothing and passes as it is.
 */

export type EditorVerdict =
  /** A full/nodes/flows/reload deploy: goes through the versioned deploy (FlowsService.deployFromEditor). */
  | { kind: 'deploy' }
  /** Passed to Node-RED as it is. */
  | { kind: 'pass' }
  | { kind: 'refuse'; status: 404 | 405; error: string };

/** A node id, a debug state, a library type: Node-RED's own ids are hex with an optional dot. */
const ID = '[A-Za-z0-9_-]+(?:\\.[A-Za-z0-9_-]+)*';
/** A context key or library entry name: may be %-escaped, never `.` or `..` on its own (checked below). */
const FREE = "[A-Za-z0-9_.~%!$&'()*+,;=:@ -]+";

const WRITES: Array<{ method: string; path: RegExp; verdict: EditorVerdict }> = [
  { method: 'POST', path: /^\/flows$/, verdict: { kind: 'deploy' } },
  // The editor's buttons: fire an inject node, switch debug output on/off.
  { method: 'POST', path: new RegExp(`^/inject/${ID}$`), verdict: { kind: 'pass' } },
  { method: 'POST', path: /^\/debug\/(enable|disable)$/, verdict: { kind: 'pass' } },
  { method: 'POST', path: new RegExp(`^/debug/${ID}/(enable|disable)$`), verdict: { kind: 'pass' } },
  // The editor's own preferences, the flow library (in the child's own folder), context data.
  { method: 'POST', path: /^\/settings\/user$/, verdict: { kind: 'pass' } },
  { method: 'POST', path: new RegExp(`^/library/${ID}/${ID}(?:/${FREE})+$`), verdict: { kind: 'pass' } },
  { method: 'DELETE', path: new RegExp(`^/context/(?:global|flow|node)(?:/${FREE})+$`), verdict: { kind: 'pass' } },
];

/** Known side doors, refused with the reason (405: the path exists, the method is not for us). */
function knownRefusal(p: string): string | null {
  if (p === '/flow' || p.startsWith('/flow/'))
    return 'the single-flow API bypasses versioning — deploy from the editor (Deploy) instead (enkeltflyt-API-et går utenom versjoneringen — bruk Deploy i editoren)';
  if (p === '/nodes' || p.startsWith('/nodes/'))
    return 'installing or switching node modules is disabled on Vaktpost (installasjon og av/på av nodemoduler er slått av i Vaktpost)';
  if (p === '/flows/state') return 'starting and stopping the flows runtime is done by Vaktpost (Vaktpost starter og stopper flytmotoren selv)';
  return null;
}

function hasDotSegment(p: string): boolean {
  return p.split('/').some((s) => {
    let d = s;
    try {
      d = decodeURIComponent(s);
    } catch {
      return true; // a malformed escape is as suspect as a dot segment
    }
    return d === '.' || d === '..' || d.includes('/') || d.includes('\\');
  });
}

/**
 * @param method the request method
 * @param rawPath the request path as sent, without the query (never decoded or normalised)
 * @param root the editor's mount point (FLOWS_ADMIN_ROOT, `/flows`)
 */
export function classifyEditorRequest(method: string, rawPath: string, root: string): EditorVerdict {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return { kind: 'pass' };
  const p = rawPath.startsWith(root) ? rawPath.slice(root.length) : rawPath;
  const known = knownRefusal(p);
  if (known) return { kind: 'refuse', status: 405, error: known };
  if (!hasDotSegment(p)) for (const w of WRITES) if (w.method === m && w.path.test(p)) return w.verdict;
  return {
    kind: 'refuse',
    status: 404,
    error:
      `${m} ${rawPath} is not one of the editor's change paths; Vaktpost passes changes only on their exact, canonical paths (deploy: POST ${root}/flows) ` +
      `(${m} ${rawPath} er ikke en av editorens endringsstier; Vaktpost slipper bare gjennom endringer på den eksakte stien, utrulling: POST ${root}/flows)`,
  };
}
