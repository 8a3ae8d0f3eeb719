/**
 * The flows in the API:
 *  - /flows/…  the Node-RED editor and admin API, proxied to the child's unix socket,
 *    behind Vaktpost's login: any logged-in user may look (operators read-only),
 *    changes need technician or admin. Deploys (POST /flows/flows) are versioned with
 *    who/when/diff; a change passes only on an allow-listed, exact path
 *    (flowsEditorPaths.ts), so the single-flow API, module installs, runtime start/stop
 *    and spellings Node-RED would route to a deploy (/flows/FLOWS, /flows//flows) are refused.
 *  - the editor's WebSocket (/flows/comms): upgrades on /flows/… come from the API's
 *    upgrade router (upgrades.ts: it answers 401 without a login, 404 for paths
 *    nobody owns, and destroys a socket whose handshake takes over 10 s) and are
 *    proxied to the child; a cross-site Origin is refused.
 *  - /api/flows/…  status, versions, templates, dry-run, deploy, rollback.
 */
import http, { type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { FlowsInputError, type FlowsService } from '../flows/service.js';
import { type Accounts, hasRole, type User } from './auth.js';
import { classifyEditorRequest } from './flowsEditorPaths.js';
import { badRequest, requireRole } from './guards.js';
import { refuseUpgrade } from './upgrades.js';

/** The session cookie's name; must equal server.ts SESSION_COOKIE (a unit test checks). Not imported: no cycle if buildApi wires these routes. */
export const FLOWS_SESSION_COOKIE = 'vaktpost_session';

export interface FlowsRoutesDeps {
  flows: FlowsService;
  accounts: Accounts;
}

const MAX_FLOWS_BYTES = 5 * 1024 * 1024;
/** Hop-by-hop headers and our credentials never cross the proxy. */
const DROP_REQUEST = new Set([
  'cookie',
  'authorization',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-length',
  'x-vaktpost-csrf',
]);
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});
const idParam = z.strictObject({ id: z.coerce.number().int().positive() });
const nameParam = z.strictObject({ name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lowercase letters, digits and dashes') });
const source = z
  .strictObject({
    flows: z.array(z.unknown()).optional(),
    template: z.string().min(1).max(100).optional(),
    version: z.number().int().positive().optional(),
    comment: z.string().trim().max(500).optional(),
  })
  .refine((b) => [b.flows, b.template, b.version].filter((x) => x !== undefined).length === 1, {
    message: 'give exactly one of flows, template or version (oppgi nøyaktig én av flows, template eller version)',
  });
const rollbackBody = z.strictObject({ version: z.number().int().positive(), comment: z.string().trim().max(500).optional() });

function flowsOf(flows: FlowsService, b: z.infer<typeof source>): unknown {
  if (b.flows) return b.flows;
  if (b.template) return flows.template(b.template).flows;
  const v = flows.version(b.version as number);
  if (!v) throw new FlowsInputError(`no flow version ${b.version}`, 404);
  return v.flows;
}

function sendError(reply: FastifyReply, err: unknown) {
  if (err instanceof FlowsInputError) return reply.code(err.statusCode).send({ error: err.message });
  return reply.code(502).send({ error: `flows runtime: ${(err as Error).message}` });
}

function userFromUpgrade(accounts: Accounts, req: IncomingMessage): User | null {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return accounts.resolve(h.slice(7).trim());
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === FLOWS_SESSION_COOKIE) {
      try {
        return accounts.resolve(decodeURIComponent(part.slice(i + 1).trim()));
      } catch {
        return null; // a malformed %-escape is no session (401), never an exception
      }
    }
  }
  return null;
}

/** The host:port of an Origin header, or null when it is not a URL. */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

export function registerFlowsRoutes(app: FastifyInstance, d: FlowsRoutesDeps): void {
  const root = d.flows.adminRoot;

  // --- the editor and admin API --------------------------------------------------
  app.register(
    async (inst) => {
      // Bodies go through untouched (as bytes); Node-RED parses them itself.
      inst.removeAllContentTypeParsers();
      inst.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_FLOWS_BYTES }, (_req, body, done) => done(null, body));

      const handler = async (req: FastifyRequest, reply: FastifyReply) => {
        const user = req.user as User;
        const method = req.method.toUpperCase();
        const path = req.url.split('?')[0] ?? '';
        const readOnly = method === 'GET' || method === 'HEAD';
        if (!readOnly && !hasRole(user.role, 'technician')) {
          return reply.code(403).send({ error: 'changing flows requires role technician (krever rollen technician)' });
        }
        // Decided on the raw path: Node-RED's router would take /flows/FLOWS or /flows//flows as a deploy.
        const verdict = classifyEditorRequest(method, path, root);
        if (verdict.kind === 'refuse') return reply.code(verdict.status).send({ error: verdict.error });
        const body = Buffer.isBuffer(req.body) ? req.body : undefined;
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (v === undefined || DROP_REQUEST.has(k)) continue;
          headers[k] = Array.isArray(v) ? v.join(', ') : v;
        }
        if (verdict.kind === 'deploy') {
          try {
            const res = await d.flows.deployFromEditor(body ?? Buffer.from(''), headers, user.username);
            const type = res.headers['content-type'];
            if (type) reply.header('content-type', type);
            return reply.code(res.status).send(res.body);
          } catch (err) {
            return sendError(reply, err);
          }
        }
        // Resolves with the reply itself: Fastify then knows it was sent (an async handler that
        // resolves with undefined after reply.send makes Fastify try to send a second, empty reply
        // when an onSend hook is async).
        return new Promise<FastifyReply>((resolve) => {
          const up = http.request({ socketPath: d.flows.socketPath, method, path: req.url, headers: { ...headers, host: 'localhost' } }, (res) => {
            reply.code(res.statusCode ?? 502);
            for (const [k, v] of Object.entries(res.headers)) if (v !== undefined && !DROP_RESPONSE.has(k)) reply.header(k, v);
            reply.send(res);
            resolve(reply);
          });
          up.on('error', (err: NodeJS.ErrnoException) => {
            reply
              .code(502)
              .send({ error: `the flows editor is not reachable (${err.code ?? err.message}) — the Node-RED child may be restarting; see /api/flows/status` });
            resolve(reply);
          });
          up.end(body);
        });
      };
      inst.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/', handler });
      inst.route({ method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'], url: '/*', handler });
    },
    { prefix: root },
  );

  // --- the editor's WebSocket ----------------------------------------------------
  const sockets = new Set<Duplex>();
  app.upgrades.route({
    name: 'flows-editor',
    matches: (p) => p.startsWith(`${root}/`),
    authenticate: (req) => userFromUpgrade(d.accounts, req),
    handle(req: IncomingMessage, socket: Duplex, head: Buffer, _user: User, upgraded: () => void) {
      const url = req.url ?? '/';
      // A page on another site must not drive the editor with the user's cookie.
      const origin = req.headers.origin;
      if (origin && req.headers.host && originHost(origin) !== req.headers.host) return refuseUpgrade(socket, '403 Forbidden');
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || k === 'cookie' || k === 'authorization') continue;
        headers[k] = Array.isArray(v) ? v.join(', ') : v;
      }
      const up = http.request({ socketPath: d.flows.socketPath, path: url, method: 'GET', headers });
      sockets.add(socket);
      // The router destroys a socket whose handshake stalls: the upstream goes with it.
      socket.on('close', () => {
        sockets.delete(socket);
        up.destroy();
      });
      up.on('upgrade', (res, upSocket, upHead) => {
        upgraded();
        let lines = `HTTP/1.1 101 ${res.statusMessage ?? 'Switching Protocols'}\r\n`;
        for (let i = 0; i < res.rawHeaders.length; i += 2) lines += `${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}\r\n`;
        socket.write(`${lines}\r\n`);
        if (upHead.length) socket.write(upHead);
        if (head.length) upSocket.write(head);
        upSocket.pipe(socket).pipe(upSocket);
        upSocket.on('error', () => socket.destroy());
        upSocket.on('close', () => socket.destroy());
        socket.on('close', () => upSocket.destroy());
      });
      up.on('response', (res) => {
        refuseUpgrade(socket, `${res.statusCode ?? 502} ${res.statusMessage ?? 'Bad Gateway'}`);
        res.resume();
      });
      up.on('error', () => refuseUpgrade(socket, '502 Bad Gateway'));
      up.end();
    },
  });
  app.addHook('preClose', async () => {
    for (const s of sockets) s.destroy();
  });

  // --- /api/flows ---------------------------------------------------------------
  app.get('/api/flows/status', async () => d.flows.status());

  app.get('/api/flows/versions', async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    return { versions: d.flows.versions(q.data.limit, q.data.before) };
  });
  app.get('/api/flows/versions/:id', { preHandler: requireRole('technician') }, async (req, reply) => {
    const p = idParam.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const v = d.flows.version(p.data.id);
    return v ?? reply.code(404).send({ error: `no flow version ${p.data.id}` });
  });

  app.get('/api/flows/templates', async () => ({
    templates: d.flows.templates().map((t) => ({ name: t.name, title: t.title, readme: t.readme, nodes: t.flows.length })),
  }));
  app.get('/api/flows/templates/:name', { preHandler: requireRole('technician') }, async (req, reply) => {
    const p = nameParam.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    try {
      return d.flows.template(p.data.name);
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post('/api/flows/dry-run', { preHandler: requireRole('technician'), bodyLimit: MAX_FLOWS_BYTES }, async (req, reply) => {
    const b = source.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    try {
      return await d.flows.dryRun(flowsOf(d.flows, b.data), req.user?.username ?? '?');
    } catch (err) {
      return sendError(reply, err);
    }
  });
  app.get('/api/flows/dry-runs/:id', async (req, reply) => {
    const p = idParam.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const r = d.flows.store.dryRun(p.data.id);
    return r ?? reply.code(404).send({ error: `no dry-run ${p.data.id}` });
  });

  app.post('/api/flows/deploy', { preHandler: requireRole('technician'), bodyLimit: MAX_FLOWS_BYTES }, async (req, reply) => {
    const b = source.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    try {
      return await d.flows.deploy(
        flowsOf(d.flows, b.data),
        req.user?.username ?? '?',
        b.data.comment ?? (b.data.template ? `template ${b.data.template}` : null),
      );
    } catch (err) {
      return sendError(reply, err);
    }
  });
  app.post('/api/flows/rollback', { preHandler: requireRole('technician') }, async (req, reply) => {
    const b = rollbackBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    try {
      return await d.flows.rollback(b.data.version, req.user?.username ?? '?', b.data.comment ?? null);
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
