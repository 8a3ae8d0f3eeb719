/**
 * The audio log over HTTP. Recordings are reached ONLY here: listing, listening
 * and exporting need the configured role and a stated reason, and every access
 * is written to the hash chain (who, when, which, why) before a byte is served
 * and shown as an event. Health, verification and the test call need no reason
 * (they reveal no call content).
 */
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AccessRefused, type Accessor, AudiologAccess } from '../audiolog/access.js';
import type { AudioLog, AudiologEvent } from '../audiolog/service.js';
import { verifyAudiolog } from '../audiolog/verify.js';
import type { AudiologConfig } from '../config/audiolog.js';
import { badRequest, requireRole } from './guards.js';

export interface AudiologRouteDeps {
  audiolog: AudioLog;
  access: AudiologConfig['access'];
  /** Supervisor.event: accesses and holds become visible events. */
  event: (e: AudiologEvent) => void;
  now: () => number;
}

const idParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'a recording id like 20261122T024300Z-e54be67a6ebf') });
const reasonText = z.string().trim().max(500);
const listQuery = z
  .strictObject({
    limit: z.coerce.number().int().min(1).max(500).default(50),
    /** Started before / at or after (ms since the epoch). */
    before: z.coerce.number().int().positive().optional(),
    since: z.coerce.number().int().nonnegative().optional(),
    callId: z.string().max(256).optional(),
    /** Part of the caller's number: digits, optionally with a leading +. */
    caller: z
      .string()
      .trim()
      .regex(/^\+?[0-9]{2,32}$/, 'digits of the caller number, e.g. 90012345 or +4790012345')
      .optional(),
    reason: reasonText.optional(),
  })
  .refine((q) => q.since === undefined || q.before === undefined || q.since < q.before, {
    message: 'since must be before "before" (fra må være før til)',
    path: ['since'],
  });
const audioQuery = z.strictObject({ reason: reasonText.optional() });
const listenBody = z.strictObject({ reason: reasonText.optional() }).optional();
const exportBody = z.strictObject({ ids: z.array(idParams.shape.id).min(1).max(100), reason: reasonText.optional() });
const holdBody = z.strictObject({ reason: reasonText.optional(), case: z.string().trim().min(1).max(100) });
const releaseBody = z.strictObject({ reason: reasonText.optional() });
const accessQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
  recording: idParams.shape.id.optional(),
});
const callsQuery = z.strictObject({
  state: z.enum(['missing', 'incomplete', 'lost', 'recorded', 'active', 'ended', 'faults']).default('faults'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().positive().optional(),
});

function accessor(req: FastifyRequest): Accessor {
  return { username: req.user?.username ?? '?', role: req.user?.role ?? '?', from: req.ip };
}

function refused(reply: FastifyReply, err: unknown) {
  if (err instanceof AccessRefused) return reply.code(err.status).send({ error: err.message });
  throw err;
}

export function registerAudiologRoutes(app: FastifyInstance, d: AudiologRouteDeps): void {
  const access = new AudiologAccess({ audiolog: d.audiolog, event: d.event, now: d.now, minReasonLength: d.access.minReasonLength });
  const listen = requireRole(d.access.listenRole);

  // Health of the audio log: no call content.
  app.get('/api/audiolog/status', async () => {
    const head = d.audiolog.store.head();
    return {
      recordings: d.audiolog.store.countRecordings(),
      chainHead: head ? { seq: head.seq, hash: head.hash, at: head.at } : null,
      backlog: d.audiolog.backlog(),
      calls: d.audiolog.audit.counts(3_600_000),
      testCall: d.audiolog.testCall?.last ?? null,
      // What the UI needs to offer search and playback (who may, and how long a reason must be).
      access: { listenRole: d.access.listenRole, exportRole: d.access.exportRole, holdRole: d.access.holdRole, minReasonLength: d.access.minReasonLength },
    };
  });

  app.get('/api/audiolog/recordings', { preHandler: listen }, async (req, reply) => {
    const q = listQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    const rows = access.list(accessor(req), q.data.reason, {
      limit: q.data.limit,
      ...(q.data.before !== undefined ? { before: q.data.before } : {}),
      ...(q.data.since !== undefined ? { since: q.data.since } : {}),
      ...(q.data.callId ? { callId: q.data.callId } : {}),
      ...(q.data.caller ? { caller: q.data.caller } : {}),
    });
    return { recordings: rows.map(({ summary, source, ...r }) => ({ ...r, capturedMs: summary.capturedMs, reasons: summary.reasons })) };
  });

  const sendAudio = async (req: FastifyRequest, reply: FastifyReply, reason: string | undefined) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    try {
      const a = await access.listen(p.data.id, accessor(req), reason);
      return reply
        .header('content-type', 'audio/wav')
        .header('content-length', a.size)
        .header('cache-control', 'no-store')
        .header('x-vaktpost-access-seq', a.accessSeq)
        .send(createReadStream(a.file));
    } catch (err) {
      return refused(reply, err);
    }
  };

  // <audio src="…?reason=…"> and the API alike; without a reason: 400.
  app.get('/api/audiolog/recordings/:id/audio', { preHandler: listen }, async (req, reply) => {
    const q = audioQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    return sendAudio(req, reply, q.data.reason);
  });

  app.post('/api/audiolog/recordings/:id/listen', { preHandler: listen }, async (req, reply) => {
    const b = listenBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    return sendAudio(req, reply, b.data?.reason);
  });

  app.post('/api/audiolog/export', { preHandler: requireRole(d.access.exportRole) }, async (req, reply) => {
    const b = exportBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    try {
      const e = access.export(b.data.ids, accessor(req), b.data.reason);
      return reply
        .header('content-type', 'application/x-tar')
        .header('content-disposition', `attachment; filename="${e.name}"`)
        .header('cache-control', 'no-store')
        .header('x-vaktpost-access-seq', e.accessSeq)
        .send(e.stream);
    } catch (err) {
      return refused(reply, err);
    }
  });

  app.post('/api/audiolog/recordings/:id/hold', { preHandler: requireRole(d.access.holdRole) }, async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const b = holdBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    try {
      const r = access.hold(p.data.id, accessor(req), b.data.reason, b.data.case);
      return { id: r.id, held: r.held, case: r.holdCase };
    } catch (err) {
      return refused(reply, err);
    }
  });

  app.post('/api/audiolog/recordings/:id/release', { preHandler: requireRole(d.access.holdRole) }, async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const b = releaseBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    try {
      const r = access.release(p.data.id, accessor(req), b.data.reason);
      return { id: r.id, held: r.held };
    } catch (err) {
      return refused(reply, err);
    }
  });

  // Who accessed what, when and why (itself from the chain).
  app.get('/api/audiolog/access', { preHandler: requireRole('admin') }, async (req, reply) => {
    const q = accessQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    return {
      access: access.accessLog({
        limit: q.data.limit,
        ...(q.data.before !== undefined ? { beforeSeq: q.data.before } : {}),
        ...(q.data.recording ? { recordingId: q.data.recording } : {}),
      }),
    };
  });

  // Kamailio's calls and their verdicts ("calls without recording" by default).
  app.get('/api/audiolog/calls', { preHandler: listen }, async (req, reply) => {
    const q = callsQuery.safeParse(req.query);
    if (!q.success) return badRequest(reply, q.error);
    const states = q.data.state === 'faults' ? (['missing', 'incomplete', 'lost'] as const) : ([q.data.state] as const);
    return { calls: d.audiolog.store.calls({ limit: q.data.limit, states, ...(q.data.before !== undefined ? { before: q.data.before } : {}) }) };
  });

  app.post('/api/audiolog/verify', { preHandler: requireRole('technician') }, async () =>
    verifyAudiolog({ store: d.audiolog.store, archiveDir: d.audiolog.archiveDir, pendingSources: new Set(d.audiolog.pendingSources()) }),
  );

  app.post('/api/audiolog/test-call', { preHandler: requireRole('technician') }, async (_req, reply) => {
    if (!d.audiolog.testCall) return reply.code(409).send({ error: 'the recording test call is disabled (audiolog.testCall.enabled)' });
    return d.audiolog.testCall.runNow();
  });
}
