/**
 * The live channel: a WebSocket at /api/live. On connect the client gets a full
 * snapshot, then deltas. Runs on the same http.Server with `noServer: true` and
 * routes upgrades by path (so other sockets, e.g. the flows editor, keep working).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import type { LiveMessage, Supervisor } from '../supervisor.js';
import type { User } from './auth.js';

export function attachLive(server: Server, sup: Supervisor, authenticate: (req: IncomingMessage) => User | null): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4096 });
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/live') return; // someone else's socket
    const user = authenticate(req);
    if (!user) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nlogin required\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  };
  server.on('upgrade', onUpgrade);

  const send = (ws: WebSocket, m: unknown) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(m));
  };
  wss.on('connection', (ws) => {
    send(ws, { type: 'snapshot', snapshot: sup.snapshot() });
    const onLive = (m: LiveMessage) => send(ws, m);
    sup.on('live', onLive);
    // Heartbeat so a browser can tell "no news" from "connection dead".
    const ping = setInterval(() => send(ws, { type: 'ping', at: Date.now() }), 5000);
    ws.on('close', () => {
      clearInterval(ping);
      sup.off('live', onLive);
    });
    ws.on('message', () => {}); // clients send nothing meaningful; ignore
  });
  return {
    close() {
      server.off('upgrade', onUpgrade);
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
