/**
 * Acceptance 6 (issue #7): recordings only through the API, with role and a
 * stated reason; every access logged (who, when, which, why) in the hash chain
 * and visible (the event without the reason: #17). Playback without a reason is
 * refused; with one the access is logged and a playback ticket streams the WAV. The export bundle checks out with `sha256sum -c` and its
 * own dependency-free verifier.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Fastify from 'fastify';
import t from 'tap';
import { registerAudiologRoutes } from '../../../supervisor/src/api/audiologRoutes.js';
import { Accounts } from '../../../supervisor/src/api/auth.js';
import { audiologSchema } from '../../../supervisor/src/config/audiolog.js';
import { talkingCalls } from '../../helpers/rtpengine.js';
import { startHarness } from './harness.js';

const run = promisify(execFile);

t.test('listen and export need a role and a reason; every access is chained and visible', async (t) => {
  const h = await startHarness(t);
  const { audiolog } = h;
  const calls = await talkingCalls(t, h.lab, { caller: '4790000006', holdMs: 2000 });
  const rec = await audiolog.waitForRecording(calls.callIds.get(1) as string, 30_000);
  t.ok(rec, 'a real call archived');
  if (!rec) return;

  // The API as server.ts builds it: bearer sessions from the real accounts table.
  const accounts = new Accounts(h.db, Date.now);
  const kari = await accounts.createUser('kari', 'correct horse battery', 'admin');
  const ola = await accounts.createUser('ola', 'correct horse battery', 'operator');
  const tokens = { kari: accounts.createSession(kari, 1), ola: accounts.createSession(ola, 1) };
  const app = Fastify({ logger: false });
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (req, reply) => {
    const tok = req.headers.authorization?.replace(/^Bearer /, '');
    req.user = tok ? accounts.resolve(tok) : null;
    if (!req.user) return reply.code(401).send({ error: 'login required' });
  });
  registerAudiologRoutes(app, { audiolog, access: audiologSchema.parse({}).access, event: (e) => h.events.push(e), now: Date.now });
  await app.ready();
  t.teardown(() => app.close());
  const as = (who: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[who]}` });
  const accessEntries = () => audiolog.store.entriesOfKind('access', { limit: 100 });

  // No reason → refused, and nothing served.
  const before = accessEntries().length;
  const noReason = await app.inject({ method: 'POST', url: `/api/audiolog/recordings/${rec.id}/listen`, headers: as('kari'), payload: {} });
  t.equal(noReason.statusCode, 400, `playback without a reason is refused: ${noReason.json().error}`);
  t.notOk(noReason.headers['content-type']?.toString().startsWith('audio/'), 'no audio in the refusal');
  const short = await app.inject({ method: 'POST', url: `/api/audiolog/recordings/${rec.id}/listen`, headers: as('kari'), payload: { reason: 'x' } });
  t.equal(short.statusCode, 400, 'a token reason ("x") is refused too');
  t.equal(accessEntries().length, before, 'refusals serve nothing and log no access');

  // The wrong role, even with a reason.
  const operator = await app.inject({
    method: 'POST',
    url: `/api/audiolog/recordings/${rec.id}/listen`,
    headers: as('ola'),
    payload: { reason: 'Klagesak 2026-114' },
  });
  t.equal(operator.statusCode, 403, 'an operator may not listen (listenRole admin)');
  const anon = await app.inject({ method: 'POST', url: `/api/audiolog/recordings/${rec.id}/listen`, payload: { reason: 'Klagesak 2026-114' } });
  t.equal(anon.statusCode, 401, 'not logged in: 401');

  // With a reason: logged first, visible, then streamed with the ticket.
  const reason = 'Klagesak 2026-114: pårørende klager på vurderingen';
  const askedAt = Date.now();
  const grant = await app.inject({ method: 'POST', url: `/api/audiolog/recordings/${rec.id}/listen`, headers: as('kari'), payload: { reason } });
  const answeredAt = Date.now();
  t.equal(grant.statusCode, 200, 'a playback ticket with a reason');
  const g = grant.json() as { url: string; accessSeq: number };
  const ok = await app.inject({ method: 'GET', url: g.url, headers: as('kari') });
  t.equal(ok.statusCode, 200, 'served with the ticket');
  t.equal(ok.headers['content-type'], 'audio/wav');
  t.ok(ok.rawPayload.equals(await readFile(audiolog.filePath(rec, 'audio.wav'))), 'the archived WAV, byte for byte');
  const logged = accessEntries()[0];
  const body = JSON.parse(logged?.bodyJson ?? '{}') as Record<string, unknown>;
  t.match(body, { action: 'listen', by: 'kari', role: 'admin', reason, recordings: [rec.id] }, 'who, which and why are in the chain');
  t.ok(logged && logged.at >= askedAt && logged.at <= answeredAt, `and when: during the request (${logged?.at} in [${askedAt}, ${answeredAt}])`);
  t.equal(g.accessSeq, logged?.seq, 'the ticket names its access entry');
  t.equal(String(ok.headers['x-vaktpost-access-seq']), String(logged?.seq), 'and so does the stream');
  t.equal(accessEntries().length, before + 1, 'streaming wrote nothing more: one listen, one entry');
  const ev = h.events.find((e) => e.kind === 'recording.access');
  t.match(ev, { actor: 'kari', severity: 'info', data: { action: 'listen', recordings: [rec.id], chainSeq: logged?.seq } }, `visible as an event: ${ev?.en}`);
  t.notMatch(JSON.stringify(ev), 'Klagesak', 'but the reason is not in the event (every role reads those)');
  const log = await app.inject({ method: 'GET', url: `/api/audiolog/access?recording=${rec.id}`, headers: as('kari') });
  t.match(log.json(), { access: [{ action: 'listen', by: 'kari', reason, recordingId: rec.id }] }, 'listed by the access log API');

  // Export: a reason again; the bundle proves itself.
  t.equal(
    (await app.inject({ method: 'POST', url: '/api/audiolog/export', headers: as('kari'), payload: { ids: [rec.id] } })).statusCode,
    400,
    'export without a reason is refused',
  );
  const exp = await app.inject({
    method: 'POST',
    url: '/api/audiolog/export',
    headers: as('kari'),
    payload: { ids: [rec.id], reason: 'Tilsynssak Statsforvalteren 2026/77' },
  });
  t.equal(exp.statusCode, 200, 'export served');
  t.equal(exp.headers['content-type'], 'application/x-tar');
  const dir = path.join(h.dir, 'export');
  await mkdir(dir);
  await writeFile(path.join(dir, 'bundle.tar'), exp.rawPayload);
  await run('tar', ['-xf', 'bundle.tar'], { cwd: dir });
  const sums = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir });
  t.match(sums.stdout, new RegExp(`${rec.id}/audio.wav: OK`), 'sha256sum -c: audio OK');
  const check = await run(process.execPath, ['verify-bundle.mjs'], { cwd: dir });
  t.match(check.stdout, /^OK: files match the chain/, `the bundle's own verifier: ${check.stdout.trim()}`);
  const proof = JSON.parse(await readFile(path.join(dir, 'chain-proof.json'), 'utf8')) as { head: { seq: number }; access: { reason: string } };
  t.equal(proof.access.reason, 'Tilsynssak Statsforvalteren 2026/77', 'the proof says why it was exported');
  t.equal(proof.head.seq, audiolog.store.head()?.seq, 'and reaches the chain head (which holds the export itself)');
  // Tamper with the extracted audio: the verifier says so.
  const wavPath = path.join(dir, rec.id, 'audio.wav');
  const wav = await readFile(wavPath);
  wav[wav.length - 1] = (wav[wav.length - 1] as number) ^ 0xff;
  await writeFile(wavPath, wav);
  const bad = await run(process.execPath, ['verify-bundle.mjs'], { cwd: dir }).catch((e: { stdout: string; code: number }) => e);
  t.match(bad.stdout, /audio\.wav was altered/, 'a changed exported file fails the bundle check');

  // Legal hold: reason + case, chained.
  const hold = await app.inject({
    method: 'POST',
    url: `/api/audiolog/recordings/${rec.id}/hold`,
    headers: as('kari'),
    payload: { reason: 'Erstatningssak, NPE', case: 'NPE-2026-0042' },
  });
  t.match(hold.json(), { held: true, case: 'NPE-2026-0042' }, 'put on legal hold');
  t.ok(
    audiolog.store.entriesFor(rec.id).some((e) => e.kind === 'hold'),
    'the hold is in the chain',
  );
});
