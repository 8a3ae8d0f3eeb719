/**
 * History of one numeric signal over a time range, for the technician's charts.
 * The store folds samples into buckets, so any range costs a bounded answer.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import { badRequest } from './guards.js';

export interface HistoryRouteDeps {
  store: Store;
  now: () => number;
}

const DAY = 24 * 3600_000;
const MAX_RANGE = 400 * DAY;

export const samplesQuery = z
  .strictObject({
    key: z
      .string()
      .max(128)
      .regex(/^[a-z]+(\.[A-Za-z0-9_:-]+)+$/, 'a signal key such as time.offset or wan.wan1.rtt'),
    since: z.coerce.number().int().nonnegative().optional(),
    until: z.coerce.number().int().positive().optional(),
    buckets: z.coerce.number().int().min(10).max(2000).default(300),
  })
  .refine((q) => q.since === undefined || q.until === undefined || q.until > q.since, { message: 'until must be after since', path: ['until'] })
  .refine((q) => q.since === undefined || q.until === undefined || q.until - q.since <= MAX_RANGE, {
    message: 'range too long (at most 400 days)',
    path: ['since'],
  });

export function registerHistoryRoutes(app: FastifyInstance, d: HistoryRouteDeps): void {
  app.get('/api/samples', async (req, reply) => {
    const q = samplesQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    const until = q.data.until ?? d.now();
    const since = q.data.since ?? until - 3600_000;
    if (until <= since) return reply.code(400).send({ error: 'until must be after since (slutt må være etter start)' });
    return { key: q.data.key, since, until, points: d.store.sampleSeries(q.data.key, since, until, q.data.buckets) };
  });
}
