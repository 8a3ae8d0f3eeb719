/**
 * POST /api/test/fault {place} — arm a one-shot fault (testHooks.ts). Registered only
 * when the process runs with VAKTPOST_TEST_HOOKS=1; admin only. `api` throws inside this
 * very handler, so the test sees the API's fault path (500, log line, alarm).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HOOK_PLACES, type TestHooks } from '../testHooks.js';
import { badRequest, requireRole } from './guards.js';

const body = z.strictObject({ place: z.enum(HOOK_PLACES) });

export function registerTestHooksRoutes(app: FastifyInstance, hooks: TestHooks): void {
  app.post('/api/test/fault', { preHandler: requireRole('admin') }, async (req, reply) => {
    const b = body.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    hooks.arm(b.data.place);
    if (b.data.place === 'api') hooks.trip('api');
    return { armed: b.data.place };
  });
}
