/**
 * Issue #17 item 10, rtpengine: its ng control protocol has no authentication
 * at all, and it listens on a loopback UDP port every local account can reach
 * — `nobody` could list the calls, and `delete` one or stop its recording (a
 * hole in the audio log, which is part of the patient record). rtpengine 10.5
 * offers ng only on UDP/TCP ports (no unix socket), so the lock is
 * ops/nftables/vaktpost-local.nft: only root may send to the control ports.
 *
 * The test runs a real rtpengine on the production port (2223) inside a
 * network namespace of its own, loads the shipped nft file there, records a
 * call, and attacks it as `nobody` — first without the rules (the attack
 * works: that is the old box), then with them.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { type BencodeValue, decodeBencode, encodeBencode } from '../../hardware/rtpengine/bencode.js';
import { rtpengineDaemonSchema } from '../../supervisor/src/config/audiolog.js';
import { renderRtpengineConf } from '../../supervisor/src/audiolog/rtpengineConf.js';
import { RTPENGINE } from '../helpers/rtpengine.js';
import { run } from '../helpers/netns/sh.js';
import { scratchDir, waitFor } from '../helpers/util.js';
import { asLocalUser, asRoot, NG_SEND_JS, startLocalUserNode, UDP_SEND_JS } from './localUser.js';

const NFT_FILE = path.resolve(import.meta.dirname, '../../ops/nftables/vaktpost-local.nft');
const NG_PORT = 2223;
const NS = `vpsecctl-${process.pid}`;

type NgAnswer = { [k: string]: BencodeValue };

/** One ng command from inside the namespace, as root or as the attacker. */
async function ng(
  who: 'root' | 'nobody',
  dict: NgAnswer,
  timeoutMs = 1000,
): Promise<{ kind: 'reply'; answer: NgAnswer } | { kind: 'error' | 'timeout'; text: string }> {
  const runAs = who === 'root' ? asRoot : asLocalUser;
  const r = await runAs(process.execPath, ['-e', NG_SEND_JS, encodeBencode(dict).toString('base64'), String(NG_PORT), String(timeoutMs)], { netns: NS });
  const out = r.stdout.trim();
  if (out.startsWith('reply ')) {
    const decoded = decodeBencode(Buffer.from(out.slice(6), 'base64'));
    return { kind: 'reply', answer: decoded as NgAnswer };
  }
  return { kind: out.startsWith('error') ? 'error' : 'timeout', text: `${out} ${r.stderr.trim()}`.trim() };
}

const sdp = (port: number) =>
  ['v=0', `o=- ${port} 1 IN IP4 127.0.0.1`, 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=sendrecv', ''].join('\r\n');

t.test('rtpengine ng: a local user can neither list nor delete calls once vaktpost-local.nft is loaded', async (t) => {
  await run('ip', ['netns', 'add', NS]);
  t.teardown(() => run('ip', ['netns', 'del', NS]).catch(() => undefined));
  await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);

  const s = await scratchDir('sec-rtpengine');
  t.teardown(s.cleanup);
  const spoolDir = path.join(s.dir, 'spool');
  await mkdir(spoolDir);
  const daemon = rtpengineDaemonSchema.parse({ interface: '127.0.0.1', portMin: 30_000, portMax: 30_100, spoolDir, mediaTimeoutS: 60, logLevel: 6 });
  const confFile = path.join(s.dir, 'rtpengine.conf');
  await writeFile(confFile, renderRtpengineConf({ daemon, ng: { host: '127.0.0.1', port: NG_PORT } }));
  const rtp = spawn('ip', ['netns', 'exec', NS, RTPENGINE, `--config-file=${confFile}`, '--config-section=rtpengine'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  rtp.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-8000);
  });
  t.teardown(async () => {
    if (rtp.exitCode !== null || rtp.signalCode !== null) return;
    const gone = once(rtp, 'exit');
    rtp.kill('SIGTERM');
    await gone;
  });
  await waitFor(async () => (await ng('root', { command: 'ping' }, 300)).kind === 'reply', {
    timeoutMs: 20_000,
    intervalMs: 100,
    what: `rtpengine ng on 127.0.0.1:${NG_PORT} in ${NS} (log: ${log.slice(-500)})`,
  });

  // A recorded call, set up the way Kamailio does it.
  const callId = `sec-ctl-${process.pid}@box`;
  const offer = await ng('root', { command: 'offer', 'call-id': callId, 'from-tag': 'caller1', sdp: sdp(40_000), 'record-call': 'yes', replace: ['origin'] });
  t.equal(offer.kind === 'reply' && String(offer.answer.result), 'ok', 'offer taken');
  const answer = await ng('root', { command: 'answer', 'call-id': callId, 'from-tag': 'caller1', 'to-tag': 'taker1', sdp: sdp(40_002), 'record-call': 'yes' });
  t.equal(answer.kind === 'reply' && String(answer.answer.result), 'ok', 'answer taken');
  const recording = await waitFor(async () => (await readdir(path.join(spoolDir, 'pcaps'))).find((f) => f.startsWith(callId.split('@')[0] ?? '')), {
    timeoutMs: 10_000,
    what: "the call's pcap in the spool",
  });
  t.ok(recording, `the call is being recorded (${recording})`);

  await t.test('without the rules (the old box): the local user lists the calls', async (t) => {
    const r = await ng('nobody', { command: 'list' });
    t.equal(r.kind, 'reply', 'rtpengine answers nobody');
    t.match(r.kind === 'reply' ? String(r.answer.calls) : '', callId, "and hands over the call's Call-ID");
  });

  const load = await asRoot('nft', ['-f', NFT_FILE], { netns: NS });
  t.equal(load.code, 0, `the shipped ${path.basename(NFT_FILE)} loads (${load.stderr.trim()})`);

  await t.test('with vaktpost-local.nft: list, delete and stop recording from the local user never leave its socket', async (t) => {
    const attacks: NgAnswer[] = [
      { command: 'list' },
      { command: 'delete', 'call-id': callId, 'from-tag': 'caller1' },
      { command: 'stop recording', 'call-id': callId },
    ];
    for (const cmd of attacks) {
      const r = await ng('nobody', cmd);
      t.equal(r.kind, 'error', `${String(cmd.command)}: refused`);
      t.match(r.kind === 'reply' ? '' : r.text, /EPERM/, `${String(cmd.command)}: EPERM at the sender (dropped on the output path)`);
    }
    // The same rule covers the call-events port and the announcement's SIPp control port.
    for (const [what, port] of [
      ['call events (5074)', 5074],
      ["the announcement's SIPp control port (8888)", 8888],
    ] as const) {
      const r = await asLocalUser(process.execPath, ['-e', UDP_SEND_JS, Buffer.from('q').toString('base64'), String(port)], { netns: NS });
      t.equal(r.stdout.trim(), 'error EPERM', `a datagram to ${what}: EPERM`);
    }
    const counters = (await asRoot('nft', ['list', 'table', 'inet', 'vaktpost_local'], { netns: NS })).stdout;
    t.match(counters, /udp dport .* counter packets 5 /, 'the five attempts are counted');
  });

  await t.test('root (Kamailio, the supervisor) still controls rtpengine, and the call is still recording', async (t) => {
    const list = await ng('root', { command: 'list' });
    t.equal(list.kind, 'reply', 'root gets answers');
    t.match(list.kind === 'reply' ? String(list.answer.calls) : '', callId, 'the call is still there');
    const q = await ng('root', { command: 'query', 'call-id': callId });
    t.equal(q.kind === 'reply' && String(q.answer.result), 'ok', 'query: ok');
    t.same(await readdir(path.join(spoolDir, 'metadata')), [], 'its recording has not been finalised (nobody ended it)');
    t.ok((await readdir(path.join(spoolDir, 'pcaps'))).includes(recording), 'its pcap is still there');
    const del = await ng('root', { command: 'delete', 'call-id': callId, 'from-tag': 'caller1' });
    t.equal(del.kind === 'reply' && String(del.answer.result), 'ok', 'root ends the call');
    await waitFor(async () => (await readdir(path.join(spoolDir, 'metadata'))).length === 1, {
      timeoutMs: 10_000,
      what: 'the recording to be finalised by the delete',
    });
  });

  await t.test('rtpengine down: a local user who binds its port cannot answer Kamailio in its place', async (t) => {
    const gone = once(rtp, 'exit');
    rtp.kill('SIGTERM');
    await gone;
    // The impostor answers every ng command with a "result ok" of its own (a real one would
    // carry an SDP steering the call's media to it) and reports whether its answer left.
    const impostor = startLocalUserNode(
      t,
      `const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => s.send(Buffer.from(m.toString('latin1').split(' ')[0] + ' d6:result2:oke'), r.port, r.address, (e) => console.log(e ? 'error ' + e.code : 'answered')));
s.bind(${NG_PORT}, '127.0.0.1', () => console.log('listening'));`,
      { netns: NS },
    );
    // Binding the free port is nothing a local user can be stopped from.
    await impostor.waitLine(/^listening$/);
    const outcome = impostor.waitLine(/^(answered|error )/);
    const r = await ng('root', { command: 'ping' }, 500);
    t.equal(await outcome, 'error EPERM', "the impostor's answer is dropped at its socket");
    t.not(r.kind, 'reply', 'Kamailio (root) gets no answer from the impostor');
  });
});
