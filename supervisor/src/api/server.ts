/**
 * HTTP API. Every route needs a logged-in user except /healthz and the static
 * login/status page shell (which carries no data). Input is validated at the
 * edge with zod; errors answer 400 with what was wrong.
 *
 * Logs go to the app's pino logger (area "api"): no line per request (request
 * logging is off), every 5xx at error with request id, method, url and the
 * error; the client gets a generic message for a 5xx, never the error's text or
 * stack. WebSocket upgrades go through one router (upgrades.ts).
 *
 * Cross-origin requests: every state-changing request (POST/PUT/PATCH/DELETE,
 * the login included) whose Origin is not the box's own — or, without Origin,
 * whose Sec-Fetch-Site is cross-site/same-site — is refused 403 before anything
 * else (origin.ts has the rule); every WebSocket upgrade likewise (upgrades.ts).
 * A browser session must also send `X-Vaktpost-CSRF: 1` on changes (a header a
 * page elsewhere cannot add without a CORS preflight we never allow).
 */
import type { IncomingMessage } from 'node:http';
import cookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { z } from 'zod';
import { SIM_FAULTS, type SimBox, simPatchSchema } from '../../../hardware/sim/simBox.js';
import type { Store } from '../store/store.js';
import type { Drill } from '../jobs/drill.js';
import type { Supervisor } from '../supervisor.js';
import type { Accounts, LoginThrottle, User } from './auth.js';
import { badRequest, requireRole } from './guards.js';
import { attachLive } from './live.js';
import { type Logger, silentLogger } from '../log.js';
import { UpgradeRouter } from './upgrades.js';
import { crossOriginRefusal, STATE_CHANGING } from './origin.js';
import { createMetrics } from './metrics.js';
import { registerAccountRoutes } from './accountsRoutes.js';
import { registerAlarmRoutes } from './alarmsRoutes.js';
import { type EvidenceRouteDeps, registerEvidenceRoutes } from './evidenceRoutes.js';
import { registerAudiologRoutes } from './audiologRoutes.js';
import type { AudioLog } from '../audiolog/service.js';
import type { AudiologConfig } from '../config/audiolog.js';
import { registerHistoryRoutes } from './historyRoutes.js';
import { httpsServerFactory, type TlsMaterial } from './tls.js';
import { registerUi } from './ui.js';
import { registerSecurityHeaders } from './securityHeaders.js';
import { FLOWS_ADMIN_ROOT } from '../flows/service.js';
import { VERSION } from '../version.js';

export const SESSION_COOKIE = 'vaktpost_session';
const PUBLIC = new Set(['/healthz', '/', '/login', '/favicon.ico']);

declare module 'fastify' {
  interface FastifyRequest {
    user: User | null;
    viaCookie: boolean;
  }
}

export interface ApiDeps {
  supervisor: Supervisor;
  store: Store;
  accounts: Accounts;
  throttle: LoginThrottle;
  sessionHours: number;
  sim: SimBox | null;
  drill: Drill;
  now: () => number;
  /** The audio log: listen/export only with a role and a stated reason, every access logged. */
  audiolog?: { audiolog: AudioLog; access: AudiologConfig['access'] };
  /** Reports, deviations register and duties (issue #10). */
  evidence?: EvidenceRouteDeps;
  /** HTTPS with this key and certificate (api.tls); plain HTTP when absent. */
  tls?: Pick<TlsMaterial, 'key' | 'cert'>;
  /** The built web UI; found next to the code when not given (null: minimal page). */
  webDir?: string | null;
  /** The app's logger; silent when not given (tests). */
  log?: Logger;
}

const loginBody = z.strictObject({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) });
const pageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
  kind: z.string().max(64).optional(),
  severity: z.enum(['info', 'warn', 'alarm']).optional(),
  since: z.coerce.number().int().optional(),
  until: z.coerce.number().int().optional(),
});
const overrideBody = z.strictObject({
  route: z.enum(['local', 'backup']),
  minutes: z
    .number()
    .positive()
    .max(7 * 24 * 60),
  reason: z.string().trim().min(3, 'state a reason (oppgi en grunn)').max(500),
});
const faultBody = z.strictObject({ fault: z.enum(Object.keys(SIM_FAULTS) as [keyof typeof SIM_FAULTS]) });

function tokenOf(req: IncomingMessage, cookies: Record<string, string | undefined>): { token: string; viaCookie: boolean } | null {
  const h = req.headers.authorization;
  if (h?.startsWith('Bearer ')) return { token: h.slice(7).trim(), viaCookie: false };
  const c = cookies[SESSION_COOKIE];
  return c ? { token: c, viaCookie: true } : null;
}

function parseCookieHeader(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    try {
      out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      // A malformed %-escape is not our cookie: treated as absent (401), never thrown.
    }
  }
  return out;
}

export async function buildApi(d: ApiDeps): Promise<FastifyInstance> {
  const baseLog = d.log ?? silentLogger();
  const log = baseLog.child({ area: 'api' });
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    // One line per request would flood the journal; failures are logged below. (Through the
    // log controller: the top-level disableRequestLogging is deprecated and warned at every start.)
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    ...(d.tls ? { serverFactory: httpsServerFactory(d.tls) } : {}),
  });
  await app.register(cookie);
  // CSP, framing, nosniff and referrer headers on every response, HTML or not (securityHeaders.ts).
  registerSecurityHeaders(app, { editorRoot: FLOWS_ADMIN_ROOT });
  app.decorateRequest('user', null);
  app.decorateRequest('viaCookie', false);

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    // First, for every route (login and the flows editor proxy included): a page of
    // another origin may not change anything, whatever cookie the browser adds.
    if (STATE_CHANGING.has(req.method)) {
      const crossOrigin = crossOriginRefusal(req.raw);
      if (crossOrigin) {
        req.log.info({ method: req.method, url: req.url, origin: req.headers.origin, site: req.headers['sec-fetch-site'] }, 'cross-origin request refused');
        return reply.code(403).send({ error: crossOrigin });
      }
    }
    const t = tokenOf(req.raw, req.cookies);
    req.user = t ? d.accounts.resolve(t.token) : null;
    req.viaCookie = t?.viaCookie ?? false;
    // The UI shell and its hashed assets carry no data: public, like the login page.
    if (PUBLIC.has(path) || path.startsWith('/assets/') || path === '/api/login') return;
    if (!req.user) return reply.code(401).send({ error: 'login required (innlogging kreves)' });
    // CSRF: a browser session may change state only with our custom header, which a
    // cross-site form or fetch cannot send without a CORS preflight we never allow.
    if (req.viaCookie && !['GET', 'HEAD', 'OPTIONS'].includes(req.method) && req.headers['x-vaktpost-csrf'] !== '1') {
      return reply
        .code(403)
        .send({ error: 'cross-site request refused: a browser session must send the X-Vaktpost-CSRF: 1 header (forespørsel avvist: mangler X-Vaktpost-CSRF)' });
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    const code = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (code >= 500) {
      // req.log carries reqId; the answer carries it too, so a report can be matched to this line.
      req.log.error({ err, method: req.method, url: req.url, user: req.user?.username }, 'request failed');
      return reply.code(code).send({ error: 'internal error (intern feil)', requestId: req.id });
    }
    req.log.debug({ err: err.message, method: req.method, url: req.url, status: code }, 'request refused');
    return reply.code(code).send({ error: err.message });
  });

  app.get('/healthz', async () => ({ ok: true }));
  registerUi(app, { webDir: d.webDir });

  app.post('/api/login', async (req, reply) => {
    const body = loginBody.safeParse(req.body);
    if (!body.success) return badRequest(reply, body.error);
    const username = body.data.username;
    // Counted before the hash (LoginThrottle): a burst of parallel guesses gets the
    // allowance, not a check each. Someone who already proved this account — from
    // this address before, or with a live session of it — is not held back by a
    // lockout that strangers' failures put on the account.
    const attempt = {
      address: req.ip,
      username,
      trusted: (req.user !== null && req.user.id !== 0 && req.user.username === username) || d.accounts.isKnownAddress(username, req.ip),
    };
    const wait = d.throttle.begin(attempt);
    if (wait > 0) {
      reply.header('retry-after', Math.ceil(wait / 1000));
      return reply.code(429).send({ error: `too many failed logins; try again in ${Math.ceil(wait / 1000)} s (for mange feil – prøv igjen om litt)` });
    }
    const user = await d.accounts.login(username, body.data.password);
    if (!user) {
      d.supervisor.event({
        kind: 'auth.failed',
        severity: 'warn',
        actor: username,
        en: `Failed login for ${username} from ${req.ip}`,
        nb: `Mislykket innlogging for ${username} fra ${req.ip}`,
        data: { address: req.ip },
      });
      return reply.code(401).send({ error: 'wrong username or password (feil brukernavn eller passord)' });
    }
    d.throttle.succeeded(attempt);
    d.accounts.rememberLoginAddress(user, req.ip);
    const token = d.accounts.createSession(user, d.sessionHours);
    reply.setCookie(SESSION_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      path: '/',
      secure: req.protocol === 'https',
      // Whole seconds: a fraction (sessionHours 1.1 → 3960.0000000000005) makes the cookie
      // serialiser throw, and every login answered 500.
      maxAge: Math.round(d.sessionHours * 3600),
    });
    d.supervisor.event({
      kind: 'auth.login',
      severity: 'info',
      actor: user.username,
      en: `${user.username} logged in from ${req.ip}`,
      nb: `${user.username} logget inn fra ${req.ip}`,
      data: { address: req.ip },
    });
    return { user, token };
  });

  app.post('/api/logout', async (req, reply) => {
    const t = tokenOf(req.raw, req.cookies);
    if (t) d.accounts.endSession(t.token);
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return { ok: true };
  });

  app.get('/api/me', async (req) => ({ user: req.user }));
  app.get('/api/status', async () => d.supervisor.snapshot());
  app.get('/api/version', async () => ({ version: VERSION }));

  app.get('/api/events', async (req, reply) => {
    const q = pageQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    return {
      events: d.store.events({
        limit: q.data.limit,
        beforeId: q.data.before,
        kind: q.data.kind,
        severity: q.data.severity,
        since: q.data.since,
        until: q.data.until,
      }),
    };
  });
  app.get('/api/decisions', async (req, reply) => {
    const q = pageQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    return { decisions: d.store.decisions({ limit: q.data.limit, beforeId: q.data.before }) };
  });
  app.get('/api/actions', async (req, reply) => {
    const q = pageQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    return { actions: d.store.actions({ limit: q.data.limit, beforeId: q.data.before }) };
  });

  app.post('/api/route/override', { preHandler: requireRole('technician') }, async (req, reply) => {
    const b = overrideBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    d.supervisor.setOverride({ route: b.data.route, durationMs: b.data.minutes * 60_000, by: req.user?.username ?? '?', reason: b.data.reason });
    return d.supervisor.snapshot();
  });
  app.delete('/api/route/override', { preHandler: requireRole('technician') }, async (req) => {
    d.supervisor.clearOverride(req.user?.username ?? '?');
    return d.supervisor.snapshot();
  });

  // --- drills: switch to backup, verify, switch back, verify; every step recorded
  app.post('/api/drill', { preHandler: requireRole('technician') }, async (req) => d.drill.run(req.user?.username ?? '?'));

  // --- the simulated box (only when box.hardware is `simulated`) -----------------
  const sim = d.sim;
  if (sim) {
    app.get('/api/sim', async () => ({ state: sim.state, faults: Object.keys(SIM_FAULTS) }));
    app.post('/api/sim/fault', { preHandler: requireRole('technician') }, async (req, reply) => {
      const b = faultBody.safeParse(req.body);
      if (!b.success) return badRequest(reply, b.error);
      sim.injectFault(b.data.fault);
      d.supervisor.event({
        kind: 'sim.fault',
        severity: 'info',
        actor: req.user?.username,
        en: `Simulated fault injected: ${b.data.fault}`,
        nb: `Simulert feil: ${b.data.fault}`,
      });
      return { state: sim.state };
    });
    app.post('/api/sim/state', { preHandler: requireRole('technician') }, async (req, reply) => {
      const b = simPatchSchema.safeParse(req.body);
      if (!b.success) return badRequest(reply, b.error);
      try {
        sim.apply(b.data);
      } catch (err) {
        return reply.code(400).send({ error: (err as Error).message });
      }
      d.supervisor.event({
        kind: 'sim.state',
        severity: 'info',
        actor: req.user?.username,
        en: 'Simulated state changed',
        nb: 'Simulert tilstand endret',
        data: b.data,
      });
      return { state: sim.state };
    });
  }

  registerAlarmRoutes(app, { supervisor: d.supervisor, store: d.store, now: d.now });
  registerHistoryRoutes(app, { store: d.store, now: d.now });
  if (d.evidence) registerEvidenceRoutes(app, d.evidence);
  if (d.audiolog) registerAudiologRoutes(app, { ...d.audiolog, event: (e) => d.supervisor.event(e), now: d.now });
  registerAccountRoutes(app, { supervisor: d.supervisor, store: d.store, accounts: d.accounts, throttle: d.throttle });

  const metrics = createMetrics(d.supervisor, () => live.clients);
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  // Every upgrade (WebSocket) request goes through this router: unknown paths and
  // requests without a login are answered and closed at once (upgrades.ts).
  const upgrades = new UpgradeRouter(app.server, { log });
  app.decorate('upgrades', upgrades);
  const live = attachLive(
    upgrades,
    d.supervisor,
    (req) => {
      const t = tokenOf(req, parseCookieHeader(req.headers.cookie));
      return t ? d.accounts.resolve(t.token) : null;
    },
    { log: baseLog.child({ area: 'live' }), onDrop: metrics.liveDropped },
  );
  // A session ended (password, role, disabled, logout): sockets opened with it close now.
  const offSessionsEnded = d.accounts.onSessionsEnded(() => upgrades.revalidate());
  // preClose: sockets must go before the server waits for its connections to end.
  app.addHook('preClose', async () => {
    offSessionsEnded();
    upgrades.close();
    live.close();
  });
  return app;
}
