/**
 * The live channel: a WebSocket at /api/live. On connect the client gets a full
 * snapshot, then every delta the supervisor publishes, in order. Upgrades reach
 * it through the upgrade router (api/upgrades.ts), which has already checked the
 * login and the Origin, and which ends a client whose login is gone (password
 * changed, user disabled or given another role, logged out, session expired):
 * it gets no more messages and is closed with 1008 "session ended".
 *
 * A client must never be able to hurt the supervisor, so per client:
 * - An 'error' listener: a protocol error (a frame over `maxPayload`, 4096 bytes,
 *   answered with close code 1009; bad framing, 1002) is logged and that client
 *   closed; the process never sees it.
 * - A bounded send buffer: when a client's `bufferedAmount` (kernel and ws
 *   buffers not yet taken by the peer) is above `maxBufferedBytes` (default
 *   1 MiB), it gets no more messages and is closed with 1013 (try again later);
 *   ws destroys it if the close handshake does not finish within 30 s. So a slow
 *   or stalled reader costs at most about the limit plus one message.
 * - Liveness: a WebSocket ping every `pingIntervalMs` (default 15 s); a client
 *   that has not answered the previous one by then is terminated.
 * - The JSON heartbeat `{type:'ping'}` every 5 s stays, so a browser can tell
 *   "no news" from "connection dead" (browsers do not expose protocol pings).
 * Messages are serialised once and sent to every client.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log.js';
import type { LiveMessage, Supervisor } from '../supervisor.js';
import type { User } from './auth.js';
import type { UpgradeRouter } from './upgrades.js';

export type LiveDropReason = 'slow' | 'unresponsive' | 'error' | 'session';

export interface LiveOptions {
  log: Logger;
  /** Largest frame a client may send. Default 4096 bytes. */
  maxPayload?: number;
  /** Drop a client whose unsent data exceeds this. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** Protocol ping period; no pong by the next one terminates. Default 15 000 ms. */
  pingIntervalMs?: number;
  /** JSON heartbeat period. Default 5000 ms. */
  heartbeatMs?: number;
  /** Called once per client dropped by the server (for metrics). */
  onDrop?: (reason: LiveDropReason) => void;
}

export interface Live {
  /** Clients connected now. */
  readonly clients: number;
  close(): void;
}

interface Client {
  ws: WebSocket;
  user: string;
  remote: string | undefined;
  /** A pong (or any frame) arrived since the last ping. */
  alive: boolean;
}

export function attachLive(router: UpgradeRouter, sup: Supervisor, authenticate: (req: IncomingMessage) => User | null, opts: LiveOptions): Live {
  const log = opts.log;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  // clientTracking off: `clients` below is the one list (the broadcast set).
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxPayload ?? 4096, clientTracking: false });
  const clients = new Set<Client>();

  const drop = (c: Client, reason: LiveDropReason, how: () => void) => {
    if (!clients.delete(c)) return;
    opts.onDrop?.(reason);
    how();
  };
  const send = (c: Client, data: string) => {
    if (c.ws.readyState !== WebSocket.OPEN) return;
    if (c.ws.bufferedAmount > maxBuffered) {
      log.warn({ user: c.user, remote: c.remote, buffered: c.ws.bufferedAmount }, 'live client does not keep up; closed (1013)');
      drop(c, 'slow', () => c.ws.close(1013, 'too slow; reconnect for a fresh snapshot'));
      return;
    }
    c.ws.send(data);
  };
  const broadcast = (m: unknown) => {
    if (clients.size === 0) return;
    const data = JSON.stringify(m);
    for (const c of clients) send(c, data);
  };
  const onLive = (m: LiveMessage) => broadcast(m);
  sup.on('live', onLive);

  const heartbeat = setInterval(() => broadcast({ type: 'ping', at: Date.now() }), opts.heartbeatMs ?? 5000);
  const liveness = setInterval(() => {
    for (const c of clients) {
      if (!c.alive) {
        log.info({ user: c.user, remote: c.remote }, 'live client did not answer a ping; terminated');
        drop(c, 'unresponsive', () => c.ws.terminate());
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, opts.pingIntervalMs ?? 15_000);

  const connected = (ws: WebSocket, user: User, req: IncomingMessage) => {
    const c: Client = { ws, user: user.username, remote: req.socket.remoteAddress, alive: true };
    ws.on('error', (err: Error & { code?: string }) => {
      log.warn({ user: c.user, remote: c.remote, err: err.message, code: err.code }, 'live client protocol error; closed');
      // ws has already sent its close frame (e.g. 1009) for a protocol error;
      // this covers any other error, and the client gets no more messages.
      drop(c, 'error', () => {
        if (ws.readyState === WebSocket.OPEN) ws.close(1011);
      });
    });
    ws.on('close', () => clients.delete(c));
    ws.on('pong', () => {
      c.alive = true;
    });
    // Clients send nothing meaningful; any frame still shows they are there.
    ws.on('message', () => {
      c.alive = true;
    });
    // Snapshot first, then join the broadcast: both in this tick, so no delta
    // published in between can be missed or arrive before the snapshot.
    send(c, JSON.stringify({ type: 'snapshot', snapshot: sup.snapshot() }));
    clients.add(c);
    log.debug({ user: c.user, remote: c.remote, clients: clients.size }, 'live client connected');
    return c;
  };
  // The login behind this client is gone: not one more message, then a clear close.
  const sessionEnded = (c: Client) =>
    drop(c, 'session', () => {
      log.info({ user: c.user, remote: c.remote }, 'live client closed: its session has ended');
      if (c.ws.readyState === WebSocket.OPEN) c.ws.close(1008, 'session ended; log in again (økta er avsluttet)');
    });

  router.route({
    name: 'live',
    matches: (p) => p === '/api/live',
    authenticate,
    handle(req: IncomingMessage, socket: Duplex, head: Buffer, user: User, upgraded: (end?: () => void) => void) {
      // On a bad handshake ws answers 400 itself and destroys the socket.
      wss.handleUpgrade(req, socket, head, (ws) => {
        const c = connected(ws, user, req);
        upgraded(() => sessionEnded(c));
      });
    },
  });

  return {
    get clients() {
      return clients.size;
    },
    close() {
      clearInterval(heartbeat);
      clearInterval(liveness);
      sup.off('live', onLive);
      for (const c of clients) c.ws.terminate();
      clients.clear();
      wss.close();
    },
  };
}
