/**
 * The one owner of the HTTP server's 'upgrade' event. Node hands every request
 * with an `Upgrade` header to the 'upgrade' listeners as a raw socket and then
 * forgets it: a socket nobody answers stays open until the peer goes away, and
 * stays in CLOSE-WAIT after that (one leaked file descriptor each). So exactly
 * one listener decides for every such socket:
 *
 * - Every upgrade socket gets an 'error' listener before anything else, so a
 *   reset or a write to a gone peer is logged at debug and never reaches the
 *   process as an unhandled 'error' event.
 * - A path no route claims is answered `404 Not Found` at once and closed.
 * - A request from a page of another origin (api/origin.ts: its `Origin` is not
 *   the box's own, or `Sec-Fetch-Site` says cross-site/same-site) is answered
 *   `403 Forbidden` and closed, whatever cookie it carries: a WebSocket is not
 *   bound by CORS, so without this any page could read the live feed with the
 *   user's cookie.
 * - A claimed path whose request does not authenticate is answered
 *   `401 Unauthorized` and closed; the route's handler never sees it.
 * - An upgraded socket keeps its right only as long as its login does: on
 *   `revalidate()` (called when sessions end — password change, disabling,
 *   role change, logout — and every `revalidateMs`, default 5 s, for sessions
 *   that expire or were ended by another process) each open socket's request is
 *   authenticated again and the socket ended (`end`, default: destroyed) when it
 *   no longer does.
 * - A route handler that throws gets its socket answered `500` and closed; the
 *   error is logged and never reaches the process.
 * - A socket whose handshake is not finished (the handler calls `upgraded()`)
 *   within `handshakeTimeoutMs` (default 10 s) is destroyed, whatever the
 *   handler was waiting for (e.g. an upstream that never answers).
 * - A refusal is written and the socket destroyed once the answer is flushed,
 *   never left half-open waiting for the peer to close first.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import type { User } from './auth.js';
import { crossOriginRefusal } from './origin.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Route WebSocket (upgrade) paths here; see api/upgrades.ts. */
    upgrades: UpgradeRouter;
  }
}

export interface UpgradeRoute {
  /** For logs. */
  name: string;
  /** True when this route owns `pathname` (the request path without its query). */
  matches(pathname: string): boolean;
  /** The logged-in user behind the request, or null (answered 401 by the router). */
  authenticate(req: IncomingMessage): User | null;
  /**
   * Takes over the socket. Must either finish the handshake and call `upgraded()`
   * (which stops the handshake timer), or answer with `refuseUpgrade`. `end`, if
   * given, is how the route ends the socket when its login is gone (e.g. a
   * WebSocket close frame); without it the socket is destroyed.
   */
  handle(req: IncomingMessage, socket: Duplex, head: Buffer, user: User, upgraded: (end?: () => void) => void): void;
}

export interface UpgradeRouterOptions {
  log: Logger;
  /** Destroy a socket whose handshake has not finished after this long. Default 10 000 ms. */
  handshakeTimeoutMs?: number;
  /** Re-authenticate every upgraded socket this often (expired sessions). Default 5000 ms. */
  revalidateMs?: number;
}

/** Answers an upgrade request with a plain HTTP status and closes the socket once that is flushed. */
export function refuseUpgrade(socket: Duplex, status: string, detail?: string): void {
  if (socket.destroyed || socket.writableEnded) return;
  // Destroy on 'finish' (the answer is in the kernel): waiting for the peer's FIN
  // instead would let a client that never closes hold the descriptor forever.
  socket.once('finish', () => socket.destroy());
  const body = Buffer.from(`${detail ?? status}\n`);
  socket.end(
    Buffer.concat([
      Buffer.from(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`),
      body,
    ]),
  );
}

interface OpenSocket {
  req: IncomingMessage;
  route: UpgradeRoute;
  end: () => void;
}

export class UpgradeRouter {
  private readonly routes: UpgradeRoute[] = [];
  /** Sockets between 'upgrade' and a finished handshake, with their timers. */
  private readonly pending = new Map<Duplex, NodeJS.Timeout>();
  /** Upgraded sockets, with the request that authenticated them (re-checked by `revalidate`). */
  private readonly open = new Map<Duplex, OpenSocket>();
  private readonly revalidateTimer: NodeJS.Timeout;
  private readonly handshakeTimeoutMs: number;
  private readonly log: Logger;
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => this.dispatch(req, socket, head);

  constructor(
    private readonly server: Server,
    opts: UpgradeRouterOptions,
  ) {
    this.log = opts.log;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 10_000;
    server.on('upgrade', this.onUpgrade);
    this.revalidateTimer = setInterval(() => this.revalidate(), opts.revalidateMs ?? 5000);
    this.revalidateTimer.unref();
  }

  /** Adds a route; the first route that matches a path owns it. */
  route(r: UpgradeRoute): void {
    this.routes.push(r);
  }

  /** Stops taking upgrades (Node then destroys new ones) and destroys sockets still in their handshake. */
  close(): void {
    this.server.off('upgrade', this.onUpgrade);
    clearInterval(this.revalidateTimer);
    this.open.clear();
    for (const [socket, timer] of this.pending) {
      clearTimeout(timer);
      socket.destroy();
    }
    this.pending.clear();
  }

  /**
   * Authenticates every upgraded socket's request again and ends those whose
   * login is gone (session ended or expired, user disabled). Returns how many
   * were ended.
   */
  revalidate(): number {
    let ended = 0;
    for (const [socket, o] of this.open) {
      let user: User | null = null;
      try {
        user = o.route.authenticate(o.req);
      } catch (err) {
        this.log.error({ err, route: o.route.name }, 're-authenticating an upgraded socket failed; socket ended');
      }
      if (user) continue;
      this.open.delete(socket);
      ended++;
      this.log.info({ route: o.route.name, remote: o.req.socket.remoteAddress }, 'upgraded socket ended: its login is no longer valid');
      try {
        o.end();
      } finally {
        // Whatever the route's close does, the socket must not outlive its right.
        if (!socket.destroyed) setTimeout(() => socket.destroy(), 1000).unref();
      }
    }
    return ended;
  }

  /** Upgraded sockets open now (for tests and metrics). */
  get openCount(): number {
    return this.open.size;
  }

  /** Sockets still in their handshake (for tests and metrics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  private dispatch(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.log.debug({ err: err.message, code: err.code, url: req.url }, 'upgrade socket error');
      socket.destroy();
    });
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q < 0 ? url : url.slice(0, q);
    const route = this.routes.find((r) => r.matches(pathname));
    // Every socket, refused ones included: a refusal the peer never lets flush
    // (a stalled TLS peer) is still destroyed.
    const timer = setTimeout(() => {
      this.pending.delete(socket);
      this.log.info({ route: route?.name, url, remote: req.socket.remoteAddress }, 'upgrade handshake did not finish in time; socket destroyed');
      socket.destroy();
    }, this.handshakeTimeoutMs);
    this.pending.set(socket, timer);
    const settle = () => {
      clearTimeout(timer);
      this.pending.delete(socket);
    };
    socket.once('close', settle);
    if (!route) {
      this.log.debug({ url, remote: req.socket.remoteAddress }, 'upgrade on an unknown path refused');
      refuseUpgrade(socket, '404 Not Found');
      return;
    }
    try {
      const crossOrigin = crossOriginRefusal(req);
      if (crossOrigin) {
        this.log.info({ route: route.name, origin: req.headers.origin, remote: req.socket.remoteAddress }, 'cross-origin upgrade refused');
        refuseUpgrade(socket, '403 Forbidden', crossOrigin);
        return;
      }
      const user = route.authenticate(req);
      if (!user) {
        this.log.debug({ route: route.name, remote: req.socket.remoteAddress }, 'upgrade without a login refused');
        refuseUpgrade(socket, '401 Unauthorized');
        return;
      }
      const upgraded = (end?: () => void) => {
        settle();
        if (socket.destroyed) return;
        this.open.set(socket, { req, route, end: end ?? (() => socket.destroy()) });
        socket.once('close', () => this.open.delete(socket));
      };
      route.handle(req, socket, head, user, upgraded);
    } catch (err) {
      this.log.error({ err, route: route.name, url }, 'upgrade handler failed; socket closed');
      refuseUpgrade(socket, '500 Internal Server Error');
    }
  }
}
