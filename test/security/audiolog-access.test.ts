/**
 * Issue #17, items 4 and 6, against the REAL supervisor process whose audio log
 * archives REAL calls (Kamailio → rtpengine → talking SIPp ends):
 *  - a GET can no longer write the audio log's access record: a page on another
 *    port of this host that makes the admin's browser GET any audio-log URL
 *    (cookie sent, no Origin, no CSRF header, `?reason=` of its choosing)
 *    writes no access entry and no event — nor does a cross-site POST;
 *  - playing is a logged POST that hands out a playback ticket; the ticket
 *    streams the WAV (Range → 206, the archived bytes) and the listen is in the
 *    access record exactly once, with its reason; the ticket is useless to
 *    another user, another session of the same user and for another recording;
 *  - an operator finds the reason nowhere (events, live feed, status, history,
 *    evidence, the `vaktpost events` CLI): only the admin's access record has it.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { AUDIOLOG_SESSION_COOKIE } from '../../supervisor/src/api/audiologRoutes.js';
import { SESSION_COOKIE } from '../../supervisor/src/api/server.js';
import { startRecordingLab, talkingCalls } from '../helpers/rtpengine.js';
import { writeRecordingConfig } from '../helpers/supervisorCallLab.js';
import { liveClient, startSupervisor } from '../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../helpers/util.js';

const run = promisify(execFile);
const REPO = path.resolve(import.meta.dirname, '../..');
const ADMIN_PW = 'security-admin-password-1';
const CALLERS = { first: '4790000131', second: '4790000232' } as const;

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
  text: string;
}
interface AccessEntry {
  seq: number;
  action: string;
  by: string;
  reason: string;
  recordings: string[];
}
interface Recording {
  id: string;
  dir: string;
  caller: string | null;
}

t.test('audio log: no state change over GET, playback by ticket, reasons only in the admin access record', async (t) => {
  t.equal(AUDIOLOG_SESSION_COOKIE, SESSION_COOKIE, 'the audio routes read the session cookie server.ts sets');

  const lab = await startRecordingLab(t);
  const { dir, cleanup } = await scratchDir('sec-audiolog');
  t.teardown(cleanup);
  const archiveDir = path.join(dir, 'archive');
  const { file, port } = await writeRecordingConfig(dir, lab, { name: 'sec-audiolog', archiveDir });
  const sup = await startSupervisor(file, port, { VAKTPOST_ADMIN_PASSWORD: ADMIN_PW });
  t.teardown(() => sup.kill('SIGKILL'));
  for (const u of [
    { username: 'kari', password: 'second-admin-password', role: 'admin' },
    { username: 'ola', password: 'operator-password-1', role: 'operator' },
  ]) {
    t.equal((await sup.api('POST', '/api/users', u)).status, 201, `account ${u.username} (${u.role})`);
  }

  /** One HTTP request as a browser or client would send it; nothing added behind the test's back. */
  const req = async (
    method: string,
    p: string,
    o: { session?: string; bearer?: string; csrf?: boolean; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.session) headers.cookie = `${SESSION_COOKIE}=${o.session}`;
    if (o.bearer) headers.authorization = `Bearer ${o.bearer}`;
    if (o.csrf) headers['x-vaktpost-csrf'] = '1';
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(sup.url + p, { method, headers, body: o.body === undefined ? null : JSON.stringify(o.body) });
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, text: body.toString('utf8') } satisfies Answer;
  };
  const login = async (username: string, password: string) => {
    const r = await req('POST', '/api/login', { body: { username, password } });
    t.equal(r.status, 200, `${username} logs in`);
    return (JSON.parse(r.text) as { token: string }).token;
  };
  const admin = await login('admin', ADMIN_PW);
  const adminOtherSession = await login('admin', ADMIN_PW);
  const kari = await login('kari', 'second-admin-password');
  const ola = await login('ola', 'operator-password-1');

  // Two real calls, archived.
  await talkingCalls(t, lab, { caller: CALLERS.first, holdMs: 1500 });
  await talkingCalls(t, lab, { caller: CALLERS.second, holdMs: 1500 });
  await waitFor(async () => ((await sup.api<{ recordings: number }>('GET', '/api/audiolog/status')).json.recordings ?? 0) >= 2, {
    timeoutMs: 30_000,
    what: 'the supervisor to archive both recordings',
  });
  const search = await req('POST', '/api/audiolog/recordings/search', { session: admin, csrf: true, body: { reason: 'Testoppsett: finn opptakene' } });
  t.equal(search.status, 200, 'the admin searches (a logged POST)');
  const recs = (JSON.parse(search.text) as { recordings: Recording[] }).recordings;
  const first = recs.find((r) => r.caller === CALLERS.first);
  const second = recs.find((r) => r.caller === CALLERS.second);
  if (!first || !second) throw new Error(`both recordings expected, got ${JSON.stringify(recs)}`);
  const wav = await readFile(path.join(archiveDir, first.dir, 'audio.wav'));

  /** What an access leaves behind: the chain head, the access record, the recording.access events. */
  const traces = async () => {
    const status = JSON.parse((await req('GET', '/api/audiolog/status', { bearer: admin })).text) as { chainHead: { seq: number; hash: string } };
    const access = (JSON.parse((await req('GET', '/api/audiolog/access?limit=1000', { bearer: admin })).text) as { access: AccessEntry[] }).access;
    const events = (JSON.parse((await req('GET', '/api/events?kind=recording.access&limit=1000', { bearer: admin })).text) as { events: unknown[] }).events;
    return { head: status.chainHead, access, events };
  };

  await t.test('a cross-site GET to every audio-log route writes no access record and no event', async (t) => {
    const attacker = 'attacker-reason-5f1c: routine quality check';
    const q = encodeURIComponent(attacker);
    const before = await traces();
    const attacks: Array<[string, string]> = [
      ['GET', `/api/audiolog/status?reason=${q}`],
      ['GET', `/api/audiolog/recordings?reason=${q}`],
      ['GET', `/api/audiolog/recordings?reason=${q}&caller=${CALLERS.first}&limit=500`],
      ['HEAD', `/api/audiolog/recordings?reason=${q}`],
      ['GET', `/api/audiolog/recordings/${first.id}/audio?reason=${q}`],
      ['HEAD', `/api/audiolog/recordings/${first.id}/audio?reason=${q}`],
      ['GET', `/api/audiolog/recordings/${first.id}/listen?reason=${q}`],
      ['GET', `/api/audiolog/recordings/search?reason=${q}`],
      ['GET', `/api/audiolog/access?reason=${q}`],
      ['GET', `/api/audiolog/access?recording=${first.id}`],
      ['GET', `/api/audiolog/calls?reason=${q}`],
      ['GET', '/api/audiolog/calls?state=recorded'],
    ];
    for (const [method, p] of attacks) {
      // What an <img src> / <audio src> on http://this-host:OTHER-PORT/ makes Chromium send: the
      // SameSite=Strict cookie goes along (same site), no Origin, no CSRF header.
      const r = await req(method, p, {
        session: admin,
        headers: { accept: 'image/avif,image/webp,*/*', 'sec-fetch-site': 'same-site', 'sec-fetch-dest': 'image' },
      });
      t.notOk(r.headers.get('content-type')?.startsWith('audio/'), `${method} ${p.split('?')[0]} → ${r.status}, no audio served`);
    }
    // The same page can also send a simple (preflight-free) cross-site form POST; the CSRF guard refuses it.
    for (const p of [`/api/audiolog/recordings/${first.id}/listen`, '/api/audiolog/recordings/search']) {
      const r = await req('POST', p, { session: admin, body: { reason: attacker } });
      t.equal(r.status, 403, `POST ${p} without the CSRF header is refused`);
    }
    const after = await traces();
    t.same(after.head, before.head, `the access chain did not move (head #${before.head.seq})`);
    t.equal(after.access.length, before.access.length, 'no access entry was written');
    t.equal(after.events.length, before.events.length, 'no recording.access event was written');
    t.notMatch(JSON.stringify(after), 'attacker-reason-5f1c', "the attacker's reason is nowhere in the record");
    const all = (await req('GET', '/api/events?limit=1000', { bearer: admin })).text;
    t.notMatch(all, 'attacker-reason-5f1c', 'nor in any event');
  });

  const REASON = `Klagesak 2026-114 unik-${process.pid}-${Date.now()}: datteren klager på vurderingen`;
  let listenSeq = 0;
  let audioUrl = '';
  // The operator watches the live feed from before the admin listens.
  const live = await liveClient(sup.url, ola);
  t.teardown(() => live.close());

  await t.test('playing: a logged POST gives a ticket; its GETs stream (Range → 206) and write nothing', async (t) => {
    const before = await traces();
    const grant = await req('POST', `/api/audiolog/recordings/${first.id}/listen`, { session: admin, csrf: true, body: { reason: REASON } });
    t.equal(grant.status, 200, 'the listen is granted');
    const g = JSON.parse(grant.text) as { url: string; ticket: string; accessSeq: number; expiresAt: number };
    t.match(g, { url: `/api/audiolog/recordings/${first.id}/audio?ticket=${g.ticket}` }, 'with the URL to play');
    audioUrl = g.url;
    listenSeq = g.accessSeq;

    // What the <audio> element does: a first range, a seek, the whole file — with the cookie.
    const part = await req('GET', g.url, { session: admin, headers: { range: 'bytes=0-1023' } });
    t.equal(part.status, 206, 'a range request answers 206');
    t.equal(part.headers.get('content-range'), `bytes 0-1023/${wav.length}`);
    t.equal(part.headers.get('content-type'), 'audio/wav');
    t.ok(part.body.equals(wav.subarray(0, 1024)), 'the first 1024 bytes of the archived WAV');
    t.equal(part.body.subarray(0, 4).toString('latin1'), 'RIFF');
    const seek = await req('GET', g.url, { session: admin, headers: { range: `bytes=${wav.length - 500}-` } });
    t.equal(seek.status, 206, 'a seek to near the end');
    t.ok(seek.body.equals(wav.subarray(wav.length - 500)), 'the last 500 bytes');
    const whole = await req('GET', g.url, { session: admin });
    t.equal(whole.status, 200);
    t.ok(whole.body.equals(wav), 'the whole WAV, byte for byte');
    const past = await req('GET', g.url, { session: admin, headers: { range: `bytes=${wav.length}-` } });
    t.equal(past.status, 416, 'a range past the end: 416');
    // The same ticket by bearer (an API client holding the same session) streams too.
    t.equal((await req('GET', g.url, { bearer: admin, headers: { range: 'bytes=0-3' } })).status, 206, 'the session, whichever way it is sent');

    const after = await traces();
    t.equal(after.head.seq, before.head.seq + 1, 'the chain grew by exactly one entry');
    const listens = after.access.filter((e) => e.reason === REASON);
    t.equal(listens.length, 1, 'recorded exactly once, however often the player asked');
    t.match(listens[0], { seq: g.accessSeq, action: 'listen', by: 'admin', recordings: [first.id] }, 'as a listen by admin of that recording');
    t.equal(after.events.length, before.events.length + 1, 'one recording.access event');
  });

  await t.test('the ticket is useless to another user, another session, and for another recording', async (t) => {
    const before = await traces();
    const otherUser = await req('GET', audioUrl, { session: kari, headers: { range: 'bytes=0-1023' } });
    t.equal(otherUser.status, 403, "another admin's session: 403");
    t.match(otherUser.text, /another login session/, `with the cause: ${otherUser.text}`);
    const otherSession = await req('GET', audioUrl, { session: adminOtherSession, headers: { range: 'bytes=0-1023' } });
    t.equal(otherSession.status, 403, 'the same user in another session: 403');
    const ticket = new URL(audioUrl, sup.url).searchParams.get('ticket') ?? '';
    const otherRec = await req('GET', `/api/audiolog/recordings/${second.id}/audio?ticket=${ticket}`, { session: admin });
    t.equal(otherRec.status, 403, 'the ticket on another recording: 403');
    t.match(otherRec.text, /another recording/, `with the cause: ${otherRec.text}`);
    const forged = await req('GET', `/api/audiolog/recordings/${first.id}/audio?ticket=${'A'.repeat(43)}`, { session: admin });
    t.equal(forged.status, 403, 'a made-up ticket: 403');
    t.match(forged.text, /unknown playback ticket: press Play again/);
    const none = await req('GET', `/api/audiolog/recordings/${first.id}/audio`, { session: admin });
    t.equal(none.status, 400, 'no ticket: 400');
    t.match(none.text, /playback needs a ticket: POST .*\/listen/, 'saying how to get one');
    for (const r of [otherUser, otherSession, otherRec, forged, none]) t.notOk(r.headers.get('content-type')?.startsWith('audio/'), 'no audio in a refusal');
    const after = await traces();
    t.same(after.head, before.head, 'refusals write nothing');
  });

  await t.test('an operator finds the listening reason nowhere; the admin access record has it', async (t) => {
    // The live event of this very listen, as the operator received it.
    const ev = await live.next((m) => m.type === 'event' && (m.event as { kind?: string; data?: { action?: string } }).data?.action === 'listen', 30_000);
    t.match(
      ev.event,
      { kind: 'recording.access', actor: 'admin', data: { action: 'listen', recordings: [first.id] } },
      'the operator sees that admin listened',
    );
    t.equal((ev.event as { data?: { chainSeq?: number } }).data?.chainSeq, listenSeq, 'and which access entry holds the rest');
    t.notMatch(JSON.stringify(live.messages), REASON.slice(0, 30), 'the live feed carries no reason');
    t.notMatch(JSON.stringify(live.messages), 'unik-', 'not even part of it');

    const readable = [
      '/api/events?limit=1000',
      '/api/events?kind=recording.access&limit=1000',
      '/api/status',
      '/api/alarms',
      '/api/decisions?limit=1000',
      '/api/actions?limit=1000',
      '/api/deviations',
      `/api/evidence/report?month=${new Date().toISOString().slice(0, 7)}`,
      '/api/duties',
      '/api/samples?key=recording.rtpengine',
      '/api/audiolog/status',
      '/api/me',
      '/metrics',
    ];
    for (const p of readable) {
      const r = await req('GET', p, { session: ola });
      t.equal(r.status, 200, `operator reads ${p}`);
      t.notMatch(r.text, 'unik-', `${p} holds no reason text`);
    }
    for (const p of ['/api/audiolog/access?limit=1000', `/api/audiolog/access?recording=${first.id}`]) {
      t.equal((await req('GET', p, { session: ola })).status, 403, `${p} is the admin's`);
    }
    const cli = await run(process.execPath, ['--import', 'tsx', 'supervisor/src/cli/main.ts', 'events', '-c', sup.configFile, '--limit', '1000', '--json'], {
      cwd: REPO,
      maxBuffer: 64 * 1024 * 1024,
    });
    t.match(cli.stdout, /recording\.access/, '`vaktpost events` shows the accesses');
    t.notMatch(cli.stdout, 'unik-', 'and no reason');

    const access = (JSON.parse((await req('GET', `/api/audiolog/access?recording=${first.id}`, { session: admin })).text) as { access: AccessEntry[] }).access;
    t.match(
      access.find((e) => e.seq === listenSeq),
      { action: 'listen', by: 'admin', reason: REASON },
      'the admin access record holds the reason',
    );
  });
});
