/**
 * Acceptance 3: a caller never hears busy.
 *  - local answers 486 → the call completes at the backup; the caller sees no 486
 *  - local rings without answer → after the ring-no-answer timer, the backup
 *  - both centres busy → the announcement answers (200) and plays the recorded
 *    "ring 113" prompt (checked byte for byte on the caller's RTP port)
 *  - both busy and the announcement dead → the configured final reply (480), never 486
 *  - a centre URI that cannot even be sent to → the next destination, not a 477/5xx
 * Real Kamailio + SIPp on loopback; counts are SIPp's own.
 */
import t from 'tap';
import { startRtpSink, playsPrompt } from '../../helpers/audio/rtpSink.js';
import { startCallLab, startKamailio } from '../../helpers/kamailio.js';
import { describeCaller, runCaller, startCentre } from '../../helpers/sipp.js';
import { waitFor } from '../../helpers/util.js';

// Each subtest has its own Kamailio and SIPps on their own ports: run three at a time.
t.jobs = 3;

t.test('local busy (486): every call completes at the backup, the caller never sees 486', async (t) => {
  const lab = await startCallLab(t, { local: 'busy' });
  const r = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 40, rate: 20, holdMs: 100, timeoutS: 30 });
  t.equal(r.stats?.successful, 40, `all 40 calls succeeded (${describeCaller(r)})`);
  t.equal(r.stats?.failed, 0, 'none failed');
  t.same(r.answersPerRole, { backup: 40 }, 'all answered by the backup');
  t.equal(r.unexpectedCodes[486] ?? 0, 0, 'the caller saw 486 zero times');
  const localStats = (await lab.local.stop()).stats;
  // The busy scenario completes when its 486 is ACKed (keepalive OPTIONS are not counted as calls).
  t.equal(localStats?.successful, 40, `the local centre really refused all 40 calls (SIPp local: ${localStats?.successful})`);
});

t.test('local rings without answer: the call moves to the backup after the ring timer', async (t) => {
  const lab = await startCallLab(t, { local: 'ringNoAnswer', timers: { ringNoAnswerMs: 2000 } });
  const r = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 4, rate: 4, holdMs: 100, timeoutS: 30 });
  t.same(r.answersPerRole, { backup: 4 }, `answered by the backup (${describeCaller(r)})`);
  t.equal(r.stats?.failed, 0, 'no call failed');
  for (const c of r.calls.values()) {
    const waited = (c.answeredAt ?? 0) - (c.sentAt ?? 0);
    // Not before the ring timer (the correctness part); < 10× is only a sanity bound.
    t.ok(waited >= 1900 && waited < 20_000, `call ${c.n} rang ${waited} ms at local before the backup took it (timer 2000 ms)`);
  }
});

t.test('the caller hangs up while local rings: the backup is not rung', async (t) => {
  // A 60 s ring timer: the caller's CANCEL after 1 s comes first however busy the machine is.
  const lab = await startCallLab(t, { local: 'ringNoAnswer', timers: { ringNoAnswerMs: 60_000 } });
  // The caller hears ringing, gives up after 1 s of it and sends CANCEL (with the 180's To-tag, as some UAs do).
  const r = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 3, rate: 3, holdMs: 0, hangUpAfterRingingMs: 1000, timeoutS: 60 });
  t.equal(r.rang, 3, `all 3 callers heard ringing (${describeCaller(r)})`);
  t.equal(r.cancelled, 3, 'all 3 CANCELs were answered with 487 Request Terminated');
  t.same(r.answersPerRole, {}, 'nobody answered');
  // The local centre completes CANCEL → 200, INVITE → 487 → ACK for each call.
  await waitFor(async () => ((await lab.local.proc.currentStats())?.successful ?? 0) >= 3, {
    timeoutMs: 30_000,
    what: 'the local centre to see all 3 calls cancelled (before its 60 s ring timer)',
  });
  const hungUp = () => lab.kam.log().match(/vaktpost: caller hung up/g)?.length ?? 0;
  await waitFor(() => hungUp() >= 3, { timeoutMs: 30_000, what: "Kamailio's failure_route to see the 3 cancellations" });
  t.notMatch(lab.kam.log(), /next destination/, 'failure_route did not move any cancelled call on');
  const backup = (await lab.backup.stop()).stats;
  t.equal(
    (backup?.successful ?? 0) + (backup?.failed ?? 0),
    0,
    `the backup never got an INVITE (SIPp backup: ${backup?.incoming} incoming = ${backup?.autoAnswered} keepalives)`,
  );
});

t.test('both centres busy: the announcement answers and plays the prompt — not busy', async (t) => {
  const lab = await startCallLab(t, { local: 'busy', backup: 'busy' });

  // One call listening to what the caller hears.
  const sink = await startRtpSink();
  t.teardown(() => sink.close());
  const one = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 1, rate: 1, holdMs: 1500, rtpPort: sink.port, timeoutS: 20 });
  t.same(one.answersPerRole, { announcement: 1 }, `answered by the announcement (${describeCaller(one)})`);
  const heard = sink.capture();
  t.ok(heard.packets >= 50, `the caller received ${heard.packets} RTP packets in 1.5 s (20 ms PCMU frames)`);
  t.same([...heard.payloadTypes], [0], 'payload type 0 (PCMU)');
  t.ok(playsPrompt(heard.payload, lab.prompt.bytes), `the audio is the recorded prompt, byte for byte (${heard.payload.length} bytes)`);

  // And a burst at 20 calls/s.
  const r = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 20, rate: 20, holdMs: 200, timeoutS: 30 });
  t.equal(r.stats?.successful, 20, `all 20 calls were answered and ended cleanly (${describeCaller(r)})`);
  t.same(r.answersPerRole, { announcement: 20 }, 'every call answered by the announcement');
  t.same(r.unexpectedCodes, {}, 'no 486 (or any error) reached the caller');
  const ann = (await lab.announcement.stop()).stats;
  t.equal(ann?.successful, 21, `the announcement server counted 21 completed calls (SIPp: ${ann?.successful})`);
});

t.test('a caller who stays on the line: the announcement hangs up through Kamailio', async (t) => {
  const lab = await startCallLab(t, { local: 'busy', backup: 'busy', announcementMaxPlayMs: 1500 });
  const r = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 2, rate: 2, holdMs: 0, waitForBye: true, timeoutS: 20 });
  t.equal(r.stats?.successful, 2, `both calls ended by the announcement's BYE, routed back via Record-Route (${describeCaller(r)})`);
  for (const c of r.calls.values()) {
    const played = (c.doneAt ?? 0) - (c.answeredAt ?? 0);
    // Not before maxPlayMs (the correctness part); < 10× is only a sanity bound.
    t.ok(played >= 1400 && played < 15_000, `call ${c.n}: the announcement played ${played} ms before hanging up (maxPlayMs 1500)`);
  }
});

t.test('both centres busy and the announcement dead: final reply 480, never 486', async (t) => {
  const lab = await startCallLab(t, { local: 'busy', backup: 'busy', announcementAnswerTimeoutMs: 1000 });
  await lab.announcement.kill();
  const r = await runCaller(t, { kamailioPort: lab.kam.sipPort, calls: 5, rate: 5, holdMs: 100, timeoutS: 30 });
  t.equal(r.stats?.successful, 0, `no call could be answered (${describeCaller(r)})`);
  t.same(r.unexpectedCodes, { 480: 5 }, 'each caller got 480 Temporarily Unavailable — not 486');
});

t.test('a centre that cannot even be sent to: the call goes on to the next destination', async (t) => {
  const backup = await startCentre(t, 'backup', 'answer');
  // ".invalid" never resolves (RFC 6761): t_relay fails synchronously.
  const kam = await startKamailio(t, {
    centres: { local: ['sip:local@centre.invalid:5060'], backup: [backup.uri] },
    announcementUris: ['sip:announcement@127.0.0.1:9'],
    timers: { keepaliveIntervalS: 0 },
  });
  const r = await runCaller(t, { kamailioPort: kam.sipPort, calls: 5, rate: 5, holdMs: 100, timeoutS: 30 });
  t.same(r.answersPerRole, { backup: 5 }, `every call reached the backup (${describeCaller(r)})`);
  t.same(r.unexpectedCodes, {}, 'no 477/5xx reached the caller');
});
