/**
 * Route guards shared by every route module: role checks and the one shape of a
 * validation error. Kept apart from server.ts so route modules can use them
 * without importing the server (no import cycle).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { hasRole, type Role } from './auth.js';

export function badRequest(reply: FastifyReply, err: z.ZodError) {
  return reply.code(400).send({
    error: 'invalid input (ugyldig inndata)',
    issues: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  });
}

export function requireRole(need: Role) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    if (!req.user) return reply.code(401).send({ error: 'login required (innlogging kreves)' });
    if (!hasRole(req.user.role, need)) return reply.code(403).send({ error: `requires role ${need} (krever rollen ${need})` });
  };
}
