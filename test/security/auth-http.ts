/**
 * HTTP and WebSocket clients for the auth attack tests: each request on its own
 * connection, optionally bound to another loopback source address (127.0.0.2 …
 * are all on `lo`), so the supervisor sees distinct client addresses.
 */
import http from 'node:http';
import { WebSocket } from 'ws';

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown> | null;
  /** The session cookie (`name=value`) a login set, or ''. */
  cookie: string;
}

export function send(
  base: string,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string>; from?: string; agent?: http.Agent } = {},
): Promise<Answer> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      {
        method,
        agent: opts.agent ?? false,
        ...(opts.from ? { localAddress: opts.from } : {}),
        headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          const set = res.headers['set-cookie']?.find((c) => c.startsWith('vaktpost_session='));
          let json: Answer['json'] = null;
          try {
            json = text ? (JSON.parse(text) as Record<string, unknown>) : null;
          } catch {
            json = { text };
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json, cookie: set?.split(';')[0] ?? '' });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const loginFrom = (base: string, username: string, password: string, from?: string, headers: Record<string, string> = {}, agent?: http.Agent) =>
  send(base, 'POST', '/api/login', { body: { username, password }, ...(from ? { from } : {}), headers, ...(agent ? { agent } : {}) });

/**
 * `n` connections from `from`, opened and idle in a keep-alive agent, so a burst
 * sent on them reaches the server together (not spread over n TCP handshakes).
 */
export async function warmConnections(base: string, from: string, n: number): Promise<http.Agent> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n });
  await Promise.all(Array.from({ length: n }, () => send(base, 'GET', '/healthz', { from, agent })));
  return agent;
}

/** A live-feed socket that records its messages and how it ended. */
export interface LiveSocket {
  ws: WebSocket;
  messages: Array<{ type: string }>;
  /** Resolves with the close code and reason once the socket is closed. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Opens /api/live; resolves once open (or rejects with the HTTP status that refused it). */
export function openLive(base: string, headers: Record<string, string>): Promise<LiveSocket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/api/live`, { headers });
  const messages: LiveSocket['messages'] = [];
  ws.on('message', (d) => messages.push(JSON.parse(String(d)) as { type: string }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, messages, closed }));
    ws.once('unexpected-response', (_req, res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => reject(Object.assign(new Error(`refused ${res.statusCode}: ${text.trim()}`), { status: res.statusCode ?? 0, text })));
    });
    ws.once('error', reject);
  });
}
