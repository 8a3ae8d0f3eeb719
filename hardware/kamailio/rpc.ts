/**
 * Kamailio JSON-RPC 2.0 client over HTTP (`POST /RPC`, served by the xhttp +
 * jsonrpcs modules) on 127.0.0.1. Each call is one short HTTP/1.1 request: the
 * rendered cfg answers with `Connection: close`, so nothing is pooled.
 *
 * An answer with an `error` member is an error, never a result: Kamailio answers
 * an unknown dispatcher URI with `{"error":{"code":500,...}}` and HTTP 200.
 *
 * Every local user can reach the loopback port, so the rendered cfg answers only
 * requests carrying the box's control secret (`Authorization: Bearer …`, see
 * supervisor/src/reconcilers/kamailio/controlSecret.ts); anything else gets 403.
 * And before the key leaves, the client checks in the kernel's socket table that
 * the port is held by a trusted uid (root): a local user who grabbed the port
 * while Kamailio was down gets nothing (kind `untrusted`).
 */
import http from 'node:http';
import type net from 'node:net';
import { loopbackPeerUid } from './loopbackPeer.js';

export type KamailioRpcErrorKind =
  /** Nothing listens (Kamailio down or restarting) or the socket broke. */
  | 'unreachable'
  /** No complete answer within the deadline. */
  | 'timeout'
  /** HTTP status other than 200 (e.g. 403: not from loopback / wrong port). */
  | 'http'
  /** Kamailio answered with a JSON-RPC `error` object. */
  | 'rpc'
  /** The answer was not the JSON-RPC we expect. */
  | 'protocol'
  /** The port is held by a process of another user (not Kamailio): nothing was sent. */
  | 'untrusted';

export class KamailioRpcError extends Error {
  override readonly name = 'KamailioRpcError';
  constructor(
    readonly kind: KamailioRpcErrorKind,
    message: string,
    /** JSON-RPC error code (kind `rpc`) or HTTP status (kind `http`). */
    readonly code?: number,
  ) {
    super(message);
  }
}

export interface KamailioRpcOptions {
  /** Loopback only; the rendered cfg refuses anything else. */
  host?: string;
  port: number;
  /** Whole request deadline. Default 2000 ms. */
  timeoutMs?: number;
  /** The box's RPC key (controlKeys(secret).rpc), sent as `Authorization: Bearer <it>`; the rendered cfg refuses requests without it. */
  secret?: string;
  /** Uids Kamailio may run as (checked before anything is sent). Default: root only, as ops/kamailio/systemd runs it. */
  trustedUids?: readonly number[];
}

/** Dispatcher destination state letter as Kamailio prints it (first letter of FLAGS). */
export type DispatcherStateName = 'active' | 'inactive' | 'trying' | 'disabled';

/** The `state` argument of `dispatcher.set_state`: a/i/t optionally + p (probing), or d. */
export type DispatcherSetStateFlags = 'a' | 'ap' | 'i' | 'ip' | 't' | 'tp' | 'd';

export interface DispatcherDestination {
  set: number;
  uri: string;
  /** Raw FLAGS, e.g. "AP" (active, probed), "IP" (down per keepalives), "DX" (disabled, not probed). */
  flags: string;
  state: DispatcherStateName;
  probing: boolean;
  priority: number;
  /** Parsed `attrs` of the list line (`route=local;…`), empty if none. */
  attrs: Record<string, string>;
}

export interface CoreUptime {
  /** Seconds since start (1 s resolution). */
  uptimeS: number;
  /** Kamailio's own `up_since` text; changes when Kamailio restarts. */
  upSince: string;
  now: string;
}

const STATE_LETTERS: Record<string, DispatcherStateName> = { A: 'active', I: 'inactive', T: 'trying', D: 'disabled' };

export class KamailioRpc {
  readonly host: string;
  readonly port: number;
  readonly timeoutMs: number;
  private readonly authorization: string | undefined;
  private readonly trustedUids: readonly number[];
  private nextId = 1;

  constructor(opts: KamailioRpcOptions) {
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port;
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.authorization = opts.secret === undefined ? undefined : `Bearer ${opts.secret}`;
    this.trustedUids = opts.trustedUids ?? [0];
  }

  /** Null if the connected peer is a trusted uid, else why not. */
  private async untrustedPeer(sock: net.Socket): Promise<string | null> {
    if (sock.localPort === undefined) return 'the connection has no local port';
    let uid: number | null;
    try {
      uid = await loopbackPeerUid(this.port, sock.localPort);
    } catch (err) {
      return `cannot read the kernel's socket table (${(err as Error).message})`;
    }
    if (uid === null) return 'the kernel lists no such connection (only 127.0.0.1 is supported)';
    return this.trustedUids.includes(uid) ? null : `the port is held by uid ${uid}, not by Kamailio (uid ${this.trustedUids.join('/')})`;
  }

  private where(): string {
    return `Kamailio JSON-RPC at http://${this.host}:${this.port}/RPC`;
  }

  /** Call any RPC method; resolves with `result`, rejects with a KamailioRpcError. */
  call(method: string, params: readonly (string | number)[] = []): Promise<unknown> {
    const id = this.nextId++;
    const body = JSON.stringify({ jsonrpc: '2.0', method, params, id });
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (err: KamailioRpcError) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const req = http.request(
        {
          host: this.host,
          port: this.port,
          path: '/RPC',
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            connection: 'close',
            ...(this.authorization ? { authorization: this.authorization } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', (e) => fail(new KamailioRpcError('unreachable', `${this.where()}: response broke off (${e.message})`)));
          res.on('end', () => {
            if (settled) return;
            const text = Buffer.concat(chunks).toString('utf8');
            // Kamailio answers a JSON-RPC error with HTTP 500 *and* the error object: prefer the object.
            if (res.statusCode === 403) {
              fail(
                new KamailioRpcError(
                  'http',
                  `${this.where()} refused ${method} (HTTP 403: ${text.trim().slice(0, 100)}) — the control secret does not match the one kamailio.cfg was rendered with: run \`vaktpost kamailio-render\`, restart Kamailio, then the supervisor`,
                  403,
                ),
              );
              return;
            }
            if (res.statusCode !== 200 && !/^\s*\{/.test(text)) {
              fail(
                new KamailioRpcError(
                  'http',
                  `${this.where()} answered HTTP ${res.statusCode} to ${method}: ${text.trim().slice(0, 200)} — is this the RPC port of the rendered cfg (loopback only)?`,
                  res.statusCode,
                ),
              );
              return;
            }
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              fail(new KamailioRpcError('protocol', `${this.where()} sent non-JSON to ${method}: ${text.slice(0, 200)}`));
              return;
            }
            const obj = parsed as { error?: { code?: unknown; message?: unknown }; result?: unknown };
            if (obj && typeof obj === 'object' && obj.error !== undefined && obj.error !== null) {
              const code = typeof obj.error.code === 'number' ? obj.error.code : undefined;
              const msg = typeof obj.error.message === 'string' ? obj.error.message : JSON.stringify(obj.error);
              fail(new KamailioRpcError('rpc', `${method}(${params.join(', ')}) failed: ${code ?? ''} ${msg}`.trim(), code));
              return;
            }
            if (!obj || typeof obj !== 'object' || !('result' in obj)) {
              fail(new KamailioRpcError('protocol', `${this.where()} answered ${method} without result or error: ${text.slice(0, 200)}`));
              return;
            }
            settled = true;
            clearTimeout(timer);
            resolve(obj.result);
          });
        },
      );
      const timer = setTimeout(
        () => fail(new KamailioRpcError('timeout', `${this.where()} did not answer ${method} within ${this.timeoutMs} ms — Kamailio overloaded or stuck?`)),
        this.timeoutMs,
      );
      req.on('error', (e: NodeJS.ErrnoException) => {
        const hint = e.code === 'ECONNREFUSED' ? ' — is Kamailio running with the rendered cfg (xhttp listener on this port)?' : '';
        fail(new KamailioRpcError('unreachable', `${this.where()}: ${e.code ?? e.message}${hint}`));
      });
      // Nothing (not even the headers) is written until the peer is known to be Kamailio's.
      req.once('socket', (s) => {
        const sock = s as net.Socket;
        const check = () =>
          void this.untrustedPeer(sock).then((why) => {
            if (why === null) req.end(body);
            else
              fail(
                new KamailioRpcError(
                  'untrusted',
                  `${this.where()}: ${why} — ${method} NOT sent (another local process took Kamailio's port: find it with \`ss -ltnp 'sport = :${this.port}'\`)`,
                ),
              );
          });
        if (sock.connecting) sock.once('connect', check);
        else check();
      });
    });
  }

  /** Every dispatcher destination, all sets. */
  async dispatcherList(): Promise<DispatcherDestination[]> {
    let result: unknown;
    try {
      result = await this.call('dispatcher.list');
    } catch (err) {
      // Kamailio answers an empty list file with an error, not an empty result.
      if (err instanceof KamailioRpcError && err.kind === 'rpc' && /no destination sets/i.test(err.message)) return [];
      throw err;
    }
    return parseDispatcherList(result);
  }

  /** `dispatcher.set_state <flags> <set> <uri>`; rejects if Kamailio does not know the URI in that set. */
  async dispatcherSetState(flags: DispatcherSetStateFlags, set: number, uri: string): Promise<void> {
    await this.call('dispatcher.set_state', [flags, set, uri]);
  }

  /** Re-read the list file: resets every state to the file's flags. */
  async dispatcherReload(): Promise<void> {
    await this.call('dispatcher.reload');
  }

  /** PID of Kamailio's main process: changes on every restart, even within the same second. */
  async coreMainPid(): Promise<number> {
    return parseMainPid(await this.call('core.ps'));
  }

  async coreUptime(): Promise<CoreUptime> {
    const r = (await this.call('core.uptime')) as { uptime?: unknown; up_since?: unknown; now?: unknown } | null;
    if (!r || typeof r.uptime !== 'number' || typeof r.up_since !== 'string') {
      throw new KamailioRpcError('protocol', `core.uptime answered ${JSON.stringify(r)} — expected {uptime, up_since}`);
    }
    return { uptimeS: r.uptime, upSince: r.up_since, now: typeof r.now === 'string' ? r.now : '' };
  }
}

/** `core.ps` answers [pid, "description", pid, ...]; the main process is "main process - attendant". */
export function parseMainPid(result: unknown): number {
  if (Array.isArray(result)) {
    for (let i = 0; i + 1 < result.length; i += 2) {
      if (typeof result[i] === 'number' && typeof result[i + 1] === 'string' && /^main process/.test(result[i + 1] as string)) {
        return result[i] as number;
      }
    }
  }
  throw new KamailioRpcError('protocol', `core.ps answered ${JSON.stringify(result).slice(0, 200)} — no "main process" entry`);
}

function parseAttrs(body: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof body !== 'string') return out;
  for (const part of body.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}

/** Parse `dispatcher.list`'s result (exported for unit tests). */
export function parseDispatcherList(result: unknown): DispatcherDestination[] {
  const bad = (why: string) =>
    new KamailioRpcError('protocol', `dispatcher.list answered an unexpected shape (${why}): ${JSON.stringify(result).slice(0, 200)}`);
  if (!result || typeof result !== 'object') throw bad('not an object');
  const records = (result as { RECORDS?: unknown }).RECORDS;
  if (records === undefined) return [];
  if (!Array.isArray(records)) throw bad('RECORDS is not a list');
  const out: DispatcherDestination[] = [];
  for (const rec of records) {
    const set = (rec as { SET?: { ID?: unknown; TARGETS?: unknown } }).SET;
    if (!set || typeof set.ID !== 'number' || !Array.isArray(set.TARGETS)) throw bad('SET without ID/TARGETS');
    for (const t of set.TARGETS) {
      const d = (t as { DEST?: { URI?: unknown; FLAGS?: unknown; PRIORITY?: unknown; ATTRS?: { BODY?: unknown } } }).DEST;
      if (!d || typeof d.URI !== 'string' || typeof d.FLAGS !== 'string') throw bad('DEST without URI/FLAGS');
      const state = STATE_LETTERS[d.FLAGS.charAt(0)];
      if (!state) throw bad(`unknown state letter in FLAGS ${d.FLAGS}`);
      out.push({
        set: set.ID,
        uri: d.URI,
        flags: d.FLAGS,
        state,
        probing: d.FLAGS.includes('P'),
        priority: typeof d.PRIORITY === 'number' ? d.PRIORITY : 0,
        attrs: parseAttrs(d.ATTRS?.BODY),
      });
    }
  }
  return out;
}
