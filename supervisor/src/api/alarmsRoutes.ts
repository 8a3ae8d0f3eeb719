/**
 * Alarms: every event of severity `alarm` stays open until someone acknowledges it.
 * The acknowledgement is stored with the user, the time and an optional comment, and
 * is itself an audited event (so other screens learn of it over the live channel).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import type { Supervisor } from '../supervisor.js';
import { badRequest, requireRole } from './guards.js';

export interface AlarmRouteDeps {
  supervisor: Supervisor;
  store: Store;
  now: () => number;
}

const listQuery = z.strictObject({
  state: z.enum(['open', 'acked', 'all']).default('open'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  before: z.coerce.number().int().positive().optional(),
});
const ackParams = z.strictObject({ id: z.coerce.number().int().positive() });
const ackBody = z
  .strictObject({ comment: z.string().trim().max(500).optional() })
  .optional()
  .transform((b) => b ?? {});

export function registerAlarmRoutes(app: FastifyInstance, d: AlarmRouteDeps): void {
  app.get('/api/alarms', async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    return { alarms: d.store.alarms({ state: q.data.state, limit: q.data.limit, beforeId: q.data.before }), open: d.store.countOpenAlarms() };
  });

  // Operators acknowledge alarms: it is the first thing the person on duty does.
  app.post('/api/alarms/:id/ack', { preHandler: requireRole('operator') }, async (req, reply) => {
    const p = ackParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const b = ackBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    const by = req.user?.username ?? '?';
    const comment = b.data.comment ? b.data.comment : null;
    const r = d.store.ackEvent(p.data.id, by, comment, d.now());
    if (r.result === 'missing') return reply.code(404).send({ error: `no event with id ${p.data.id} (finnes ikke)` });
    if (r.result === 'notAlarm') return reply.code(400).send({ error: `event ${p.data.id} is not an alarm (ikke en alarm)` });
    if (r.result === 'already') {
      return reply.code(409).send({ error: `already acknowledged by ${r.ack.by} (allerede kvittert av ${r.ack.by})`, ack: r.ack });
    }
    d.supervisor.event({
      kind: 'alarm.acknowledged',
      severity: 'info',
      actor: by,
      en: `Alarm ${p.data.id} acknowledged by ${by}${comment ? `: ${comment}` : ''}`,
      nb: `Alarm ${p.data.id} kvittert av ${by}${comment ? `: ${comment}` : ''}`,
      data: { eventId: p.data.id, comment },
    });
    return { eventId: p.data.id, ack: r.ack, open: d.store.countOpenAlarms() };
  });
}
