/**
 * The audio log over HTTP. Recordings are reached ONLY here: listing, listening
 * and exporting need the configured role and a stated reason, and every access
 * is written to the hash chain (who, when, which, why) before a byte is served
 * and shown as an event (without the reason: access.ts). Health, verification
 * and the test call need no reason (they reveal no call content).
 *
 * No GET here changes anything. A browser sends cookies with any same-site GET —
 * an <img> or <audio> tag on a page on another port of this host makes one — so
 * a GET that wrote an access record would let that page write one in the
 * admin's name, with its own reason. Every access is therefore a POST (which the
 * CSRF header guards): searching is POST /recordings/search; listening is POST
 * /recordings/:id/listen, which chains the access and hands out a playback
 * ticket; GET /recordings/:id/audio?ticket=… only streams (Range requests
 * included, for the <audio> element) and writes nothing.
 */
import { createReadStream } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AccessRefused, type Accessor, AudiologAccess } from '../audiolog/access.js';
import { PlaybackTickets, type Redeemed, TICKET_PATTERN, type TicketHolder } from '../audiolog/playbackTickets.js';
import type { AudioLog, AudiologEvent } from '../audiolog/service.js';
import { verifyAudiolog } from '../audiolog/verify.js';
import type { AudiologConfig } from '../config/audiolog.js';
import { byteRange } from './byteRange.js';
import { badRequest, requireRole } from './guards.js';

export interface AudiologRouteDeps {
  audiolog: AudioLog;
  access: AudiologConfig['access'];
  /** Supervisor.event: accesses and holds become visible events. */
  event: (e: AudiologEvent) => void;
  now: () => number;
}

/**
 * The session cookie's name; must equal server.ts SESSION_COOKIE (test/security/audiolog-get.test.ts
 * checks). Not imported: buildApi imports this module, and the layout allows no cycles.
 */
export const AUDIOLOG_SESSION_COOKIE = 'vaktpost_session';

/** A ticket is good for the recording's length plus this long: enough to listen through, pause and seek. */
const TICKET_SLACK_MS = 10 * 60_000;

const idParams = z.strictObject({ id: z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'a recording id like 20261122T024300Z-e54be67a6ebf') });
const reasonText = z.string().trim().max(500);
const searchBody = z
  .strictObject({
    limit: z.number().int().min(1).max(500).default(50),
    /** Started before / at or after (ms since the epoch). */
    before: z.number().int().positive().optional(),
    since: z.number().int().nonnegative().optional(),
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
const audioQuery = z.strictObject({ ticket: z.string().regex(TICKET_PATTERN) });
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

/** Why a ticket was refused, in words that say what to do (403: the ticket is not yours to use). */
const TICKET_REFUSED: Record<Exclude<Redeemed, { ok: true }>['why'], string> = {
  unknown:
    'unknown playback ticket: press Play again — POST /api/audiolog/recordings/:id/listen with a reason gives a new one (ukjent avspillingsbillett: trykk Spill av igjen)',
  expired:
    'the playback ticket has expired: press Play again — a new ticket is a new, logged access (avspillingsbilletten er utløpt: trykk Spill av igjen; ny tilgang logges)',
  session:
    'this playback ticket belongs to another login session: ask for your own with POST /api/audiolog/recordings/:id/listen (billetten tilhører en annen innlogging)',
  recording: 'this playback ticket is for another recording: ask for one for this recording (billetten gjelder et annet opptak)',
};

function accessor(req: FastifyRequest): Accessor {
  return { username: req.user?.username ?? '?', role: req.user?.role ?? '?', from: req.ip };
}

/** The request's session credential, as server.ts reads it (bearer first, then the cookie). */
function holder(req: FastifyRequest): TicketHolder {
  const h = req.headers.authorization;
  const session = h?.startsWith('Bearer ') ? h.slice(7).trim() : (req.cookies?.[AUDIOLOG_SESSION_COOKIE] ?? '');
  return { userId: req.user?.id ?? -1, username: req.user?.username ?? '?', session };
}

function refused(reply: FastifyReply, err: unknown) {
  if (err instanceof AccessRefused) return reply.code(err.status).send({ error: err.message });
  throw err;
}

export function registerAudiologRoutes(app: FastifyInstance, d: AudiologRouteDeps): void {
  const access = new AudiologAccess({ audiolog: d.audiolog, event: d.event, now: d.now, minReasonLength: d.access.minReasonLength });
  const listen = requireRole(d.access.listenRole);
  const tickets = new PlaybackTickets(d.now);

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

  // Searching shows caller numbers: an access, logged, so a POST (see the top of this file).
  app.post('/api/audiolog/recordings/search', { preHandler: listen }, async (req, reply) => {
    const q = searchBody.safeParse(req.body ?? {});
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

  // The old GET search wrote an access record: gone, with directions (writes nothing).
  app.get('/api/audiolog/recordings', { preHandler: listen }, async (_req, reply) =>
    reply.code(405).header('allow', 'POST').send({
      error:
        'searching recordings is a logged access: use POST /api/audiolog/recordings/search with {reason, since, before, caller, callId, limit} (søk i opptak logges: bruk POST …/recordings/search)',
    }),
  );

  // Listening: the access (with its reason) is chained here, then a ticket for the player.
  app.post('/api/audiolog/recordings/:id/listen', { preHandler: listen }, async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const b = listenBody.safeParse(req.body);
    if (!b.success) return badRequest(reply, b.error);
    try {
      const a = await access.listen(p.data.id, accessor(req), b.data?.reason);
      const t = tickets.issue(p.data.id, holder(req), a.accessSeq, a.recording.audioMs + TICKET_SLACK_MS);
      return reply.header('cache-control', 'no-store').send({
        accessSeq: a.accessSeq,
        ticket: t.ticket,
        expiresAt: t.expiresAt,
        url: `/api/audiolog/recordings/${encodeURIComponent(p.data.id)}/audio?ticket=${t.ticket}`,
        size: a.size,
      });
    } catch (err) {
      return refused(reply, err);
    }
  });

  // The player's GETs: redeem the ticket and stream (whole or one range). Writes nothing.
  app.get('/api/audiolog/recordings/:id/audio', { preHandler: listen }, async (req, reply) => {
    const p = idParams.safeParse(req.params);
    if (!p.success) return badRequest(reply, p.error);
    const q = audioQuery.safeParse(req.query);
    if (!q.success) {
      return reply.code(400).send({
        error:
          'playback needs a ticket: POST /api/audiolog/recordings/:id/listen with {reason} (that is the logged access), then GET the url it returns (avspilling krever en billett fra …/listen)',
      });
    }
    const r = tickets.redeem(q.data.ticket, p.data.id, holder(req));
    if (!r.ok) return reply.code(403).send({ error: TICKET_REFUSED[r.why] });
    try {
      const a = await access.audioFile(p.data.id);
      const range = byteRange(req.headers.range, a.size);
      void reply
        .header('content-type', 'audio/wav')
        .header('accept-ranges', 'bytes')
        .header('cache-control', 'no-store')
        .header('x-vaktpost-access-seq', r.grant.accessSeq);
      if (range.kind === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${a.size}`).send();
      if (range.kind === 'whole') return reply.header('content-length', a.size).send(createReadStream(a.file));
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${a.size}`)
        .header('content-length', range.end - range.start + 1)
        .send(createReadStream(a.file, { start: range.start, end: range.end }));
    } catch (err) {
      return refused(reply, err);
    }
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
