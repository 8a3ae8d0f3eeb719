/**
 * Evidence over HTTP: the report for any period (JSON, CSV, printable HTML),
 * the call list (with caller IDs: technicians only), the deviations register
 * (read by anyone logged in; acknowledged, closed and recorded by hand by a
 * technician, always with who and when) and the duty log.
 *
 *   GET  /api/evidence/report?month=YYYY-MM | from=…&to=…  &format=json|csv|html
 *   GET  /api/evidence/calls?…&format=json|csv                (technician)
 *   GET  /api/deviations?state=open|acknowledged|closed|notClosed|all&from&to
 *   GET  /api/deviations/export?format=csv|html&from&to
 *   GET  /api/deviations/:id
 *   POST /api/deviations                  {title, subsystem?}  (technician)
 *   POST /api/deviations/:id/ack          {comment?}           (technician)
 *   POST /api/deviations/:id/close        {comment}            (technician)
 *   GET  /api/duties?from&to&duty&format=json|csv
 *   POST /api/duties/:name/run                                 (technician)
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { deviationsCsv, callsCsv, dutiesCsv, reportCsv } from '../evidence/reportCsv.js';
import { deviationsHtml, REPORT_PAGE_INLINE, reportHtml } from '../evidence/reportHtml.js';
import { appCsp, cspHash } from './securityHeaders.js';

const REPORT_PAGE_CSP = appCsp({
  style: REPORT_PAGE_INLINE.style.map(cspHash),
  script: ["'unsafe-hashes'", ...REPORT_PAGE_INLINE.handlers.map(cspHash)],
});
import { parsePeriod } from '../evidence/period.js';
import type { EvidenceService } from '../evidence/service.js';
import type { Store } from '../store/store.js';
import { badRequest, requireRole } from './guards.js';

export interface EvidenceRouteDeps {
  evidence: EvidenceService;
  /** For the events linked to a deviation. */
  store: Store;
  box: string;
  timeZone: string;
  now: () => number;
}

const periodFields = {
  month: z.string().max(7).optional(),
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
};
const reportQuery = z.strictObject({ ...periodFields, format: z.enum(['json', 'csv', 'html']).default('json') });
const callsQuery = z.strictObject({ ...periodFields, format: z.enum(['json', 'csv']).default('json') });
const deviationsQuery = z.strictObject({
  state: z.enum(['open', 'acknowledged', 'closed', 'notClosed', 'all']).default('all'),
  from: z.string().max(40).optional(),
  to: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
});
const exportQuery = z.strictObject({ format: z.enum(['csv', 'html']).default('csv'), ...periodFields });
const dutiesQuery = z.strictObject({ ...periodFields, duty: z.string().max(64).optional(), format: z.enum(['json', 'csv']).default('json') });
const idParams = z.strictObject({ id: z.coerce.number().int().positive() });
const nameParams = z.strictObject({ name: z.string().min(1).max(64) });
/** Only the box's own CLI (root at the console) may say which person it acts for. */
const onBehalf = z
  .string()
  .regex(/^[a-zA-Z0-9._-]{2,64}$/)
  .optional();
const ackBody = z
  .strictObject({ comment: z.string().trim().max(1000).optional(), by: onBehalf })
  .optional()
  .transform((b) => b ?? {});
const closeBody = z.strictObject({ comment: z.string().trim().min(3, 'say what was done (hva ble gjort)').max(2000), by: onBehalf });
const openBody = z.strictObject({ title: z.string().trim().min(3).max(300), subsystem: z.string().trim().max(32).optional(), by: onBehalf });

/** Who signs: the logged-in person; for the CLI token (user `cli`), the person named with --as. */
function signer(user: { username: string } | null | undefined, by: string | undefined): string | { error: string } {
  const name = user?.username ?? '?';
  if (by === undefined) return name;
  if (name !== 'cli') return { error: '"by" is only for the box\'s own CLI; a logged-in user signs as themselves' };
  return `${by} (cli)`;
}

function fileName(box: string, what: string, from: number, to: number, ext: string): string {
  const safe = box.replace(/[^A-Za-z0-9_-]/g, '_');
  const d = (t: number) => new Date(t).toISOString().slice(0, 10);
  return `vaktpost-${safe}-${what}-${d(from)}_${d(to)}.${ext}`;
}

function send(reply: FastifyReply, format: 'csv' | 'html', name: string, body: string) {
  const type = format === 'csv' ? 'text/csv; charset=utf-8' : 'text/html; charset=utf-8';
  // The printable page's inline style and print button, allowed by hash and nothing else (securityHeaders.ts).
  if (format === 'html') void reply.header('content-security-policy', REPORT_PAGE_CSP);
  void reply.header('content-disposition', `${format === 'csv' ? 'attachment' : 'inline'}; filename="${name}"`);
  return reply.type(type).send(body);
}

export function registerEvidenceRoutes(app: FastifyInstance, d: EvidenceRouteDeps): void {
  const period = (reply: FastifyReply, q: { month?: string | undefined; from?: string | undefined; to?: string | undefined }) => {
    try {
      return parsePeriod(q, d.timeZone, d.now());
    } catch (err) {
      void reply.code(400).send({ error: `${(err as Error).message} (ugyldig periode)` });
      return null;
    }
  };

  app.get('/api/evidence/report', async (req, reply) => {
    const q = reportQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    const p = period(reply, q.data);
    if (!p) return reply;
    const r = await d.evidence.report(p);
    if (q.data.format === 'csv') return send(reply, 'csv', fileName(d.box, 'report', p.from, p.to, 'csv'), reportCsv(r));
    if (q.data.format === 'html') return send(reply, 'html', fileName(d.box, 'report', p.from, p.to, 'html'), reportHtml(r));
    return r;
  });

  // Caller IDs are personal data (T22: they follow the case): technicians only.
  app.get('/api/evidence/calls', { preHandler: requireRole('technician') }, async (req, reply) => {
    const q = callsQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    const p = period(reply, q.data);
    if (!p) return reply;
    const calls = await d.evidence.calls(p);
    if (q.data.format === 'csv') {
      return send(reply, 'csv', fileName(d.box, 'calls', p.from, p.to, 'csv'), callsCsv(calls, d.timeZone, d.evidence.shortAbandonMs));
    }
    return { period: p, calls };
  });

  app.get('/api/deviations', async (req, reply) => {
    const q = deviationsQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    let from: number | undefined;
    let to: number | undefined;
    if (q.data.from !== undefined || q.data.to !== undefined) {
      const p = period(reply, q.data);
      if (!p) return reply;
      ({ from, to } = p);
    }
    return {
      deviations: d.evidence.store.deviations({ state: q.data.state, from, to, limit: q.data.limit }),
      notClosed: d.evidence.store.countOpenDeviations(),
    };
  });

  app.get('/api/deviations/export', async (req, reply) => {
    const q = exportQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    const all = q.data.month === undefined && q.data.from === undefined && q.data.to === undefined;
    const p = all ? null : period(reply, q.data);
    if (!all && !p) return reply;
    const ds = d.evidence.store.deviations(p ? { from: p.from, to: p.to, limit: 100_000 } : { limit: 100_000 });
    const now = d.now();
    const [from, to] = p ? [p.from, p.to] : [ds[ds.length - 1]?.openedAt ?? now, now];
    if (q.data.format === 'csv') return send(reply, 'csv', fileName(d.box, 'deviations', from, to, 'csv'), deviationsCsv(ds, d.timeZone));
    return send(reply, 'html', fileName(d.box, 'deviations', from, to, 'html'), deviationsHtml(d.box, ds, d.timeZone, p, now));
  });

  app.get('/api/deviations/:id', async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const dev = d.evidence.store.deviation(p.data.id);
    if (!dev) return reply.code(404).send({ error: `no deviation ${p.data.id} (finnes ikke)` });
    const ids = new Set(d.evidence.store.deviationEventIds(dev.id));
    const events =
      ids.size === 0
        ? []
        : d.store
            .events({ limit: 1000, since: dev.openedAt, until: dev.lastEventAt + 1 })
            .filter((e) => ids.has(e.id))
            .reverse();
    return { deviation: dev, events };
  });

  app.post('/api/deviations', { preHandler: requireRole('technician') }, async (req, reply) => {
    const b = openBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    const who = signer(req.user, b.data.by);
    if (typeof who !== 'string') return reply.code(400).send(who);
    const dev = d.evidence.deviations.openManual(who, b.data.title, b.data.subsystem ?? null);
    return reply.code(201).send({ deviation: dev });
  });

  app.post('/api/deviations/:id/ack', { preHandler: requireRole('technician') }, async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const b = ackBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    const who = signer(req.user, b.data.by);
    if (typeof who !== 'string') return reply.code(400).send(who);
    const r = d.evidence.deviations.acknowledge(p.data.id, who, b.data.comment ? b.data.comment : null);
    if (!r.ok) return reply.code(r.status).send({ error: r.error, deviation: r.deviation ?? null });
    return { deviation: r.deviation };
  });

  app.post('/api/deviations/:id/close', { preHandler: requireRole('technician') }, async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const b = closeBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    const who = signer(req.user, b.data.by);
    if (typeof who !== 'string') return reply.code(400).send(who);
    const r = d.evidence.deviations.close(p.data.id, who, b.data.comment);
    if (!r.ok) return reply.code(r.status).send({ error: r.error, deviation: r.deviation ?? null });
    return { deviation: r.deviation };
  });

  app.get('/api/duties', async (req, reply) => {
    const q = dutiesQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    let p: { from: number; to: number } | null = null;
    if (q.data.month !== undefined || q.data.from !== undefined || q.data.to !== undefined) {
      p = period(reply, q.data);
      if (!p) return reply;
    }
    const runs = d.evidence.store.dutyRuns({ duty: q.data.duty, from: p?.from, to: p?.to, limit: 5000 });
    if (q.data.format === 'csv') {
      const now = d.now();
      return send(
        reply,
        'csv',
        fileName(d.box, 'duties', p?.from ?? runs[runs.length - 1]?.startedAt ?? now, p?.to ?? now, 'csv'),
        dutiesCsv(runs, d.timeZone),
      );
    }
    return { duties: d.evidence.duties.status(), runs };
  });

  app.post('/api/duties/:name/run', { preHandler: requireRole('technician') }, async (req, reply) => {
    const p = nameParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    if (!d.evidence.duties.names().includes(p.data.name) || p.data.name === 'drill') {
      return reply.code(404).send({
        error: `no duty "${p.data.name}" to run here (${d.evidence.duties
          .names()
          .filter((n) => n !== 'drill')
          .join(', ')}); the drill: POST /api/drill`,
      });
    }
    return { run: await d.evidence.duties.runNow(p.data.name, 'manual') };
  });
}
