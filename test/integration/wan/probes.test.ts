/**
 * The probe drivers against real services on loopback: Kamailio for SIP OPTIONS,
 * plain UDP/TCP/HTTP servers for the rest. Covers answers, refusals (ICMP port
 * unreachable / RST), a missing source address, and timeouts that follow RTT.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { TargetProber } from '../../../hardware/net/prober.js';
import { sipOptions } from '../../../hardware/net/sipOptions.js';
import { centreKamailioCfg } from '../../helpers/netns/sipCentre.js';
import { freePort, scratchDir, waitFor } from '../../helpers/util.js';

const RTT = { floorMs: 250, capMs: 2000, initialMs: 1000 };

async function udpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A UDP echo server that answers after `delayMs`. */
async function echoServer(delayMs = 0): Promise<{ port: number; close: () => void }> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => setTimeout(() => s.send(m, r.port, r.address), delayMs));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return { port: s.address().port, close: () => s.close() };
}

let kamailio: ChildProcess | undefined;
let sipPort = 0;

t.before(async () => {
  const { dir, cleanup } = await scratchDir('wan-kamailio');
  t.teardown(cleanup);
  sipPort = await udpPort();
  const cfg = path.join(dir, 'k.cfg');
  await writeFile(cfg, centreKamailioCfg('127.0.0.1', sipPort));
  const k = spawn('kamailio', ['-DD', '-E', '-f', cfg, '-Y', dir, '-P', path.join(dir, 'k.pid'), '-m', '16', '-M', '4'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  kamailio = k;
  let err = '';
  k.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  t.teardown(() => {
    k.kill('SIGTERM');
  });
  await waitFor(async () => (await sipOptions({ host: '127.0.0.1', port: sipPort, timeoutMs: 300 })).ok, {
    timeoutMs: 10_000,
    what: `kamailio answering OPTIONS on 127.0.0.1:${sipPort} (stderr: ${err.slice(-300)})`,
  });
});

t.test('sipOptions: Kamailio answers 200 with an RTT', async (t) => {
  t.ok(kamailio?.pid, 'kamailio running');
  const r = await sipOptions({ host: '127.0.0.1', port: sipPort, timeoutMs: 1000 });
  t.equal(r.ok, true);
  t.equal(r.status, 200);
  // An answer is only an answer if it came before the timeout: the rtt cannot exceed it.
  t.ok(r.rttMs !== undefined && r.rttMs >= 0 && r.rttMs <= 1000, `rtt ${r.rttMs?.toFixed(2)} ms, within the 1000 ms timeout`);
  t.match(r.detail, /200 OK/);
});

t.test('sipOptions: concurrent probes each match their own response (unique Call-ID/branch)', async (t) => {
  const rs = await Promise.all(Array.from({ length: 20 }, () => sipOptions({ host: '127.0.0.1', port: sipPort, timeoutMs: 1000 })));
  t.ok(
    rs.every((r) => r.ok && r.status === 200),
    'all 20 answered 200',
  );
});

t.test('sipOptions: bound to a source address (the uplink pinning)', async (t) => {
  const r = await sipOptions({ host: '127.0.0.1', port: sipPort, timeoutMs: 1000, localAddress: '127.0.0.2' });
  t.equal(r.ok, true);
  const missing = await sipOptions({ host: '127.0.0.1', port: sipPort, timeoutMs: 500, localAddress: '192.0.2.77' });
  t.equal(missing.ok, false);
  t.match(missing.detail, /EADDRNOTAVAIL.*sourceAddress/);
});

t.test('sipOptions: nothing listening → fast ICMP answer, not a timeout', async (t) => {
  const port = await udpPort();
  // A 60 s timeout: had it waited for the timer instead of the ICMP answer, the detail would
  // say "no answer … within 60000 ms". The detail is the proof, not a stopwatch.
  const r = await sipOptions({ host: '127.0.0.1', port, timeoutMs: 60_000 });
  t.equal(r.ok, false);
  t.match(r.detail, /ICMP port unreachable/, 'ended by the ICMP answer, not by the timeout');
});

t.test('sipOptions: a silent UDP socket times out after timeoutMs', async (t) => {
  const silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));
  t.teardown(() => silent.close());
  const started = performance.now();
  const r = await sipOptions({ host: '127.0.0.1', port: silent.address().port, timeoutMs: 300 });
  const took = performance.now() - started;
  t.equal(r.ok, false);
  t.match(r.detail, /no answer .* within 300 ms/);
  // Not before the timeout; < 10× is only a sanity bound.
  t.ok(took >= 290 && took < 3000, `gave up after ${took.toFixed(0)} ms (timeout 300 ms)`);
});

t.test('TargetProber: every kind answers, refusals prove the path', async (t) => {
  const echo = await echoServer();
  t.teardown(echo.close);
  const tcp = net.createServer((c) => c.end());
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => tcp.close());
  const web = http.createServer((_q, s) => {
    s.statusCode = 503;
    s.end('busy');
  });
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => web.close());
  const port = (s: net.Server | http.Server) => (s.address() as net.AddressInfo).port;

  const cases = [
    { kind: 'udp' as const, port: echo.port },
    { kind: 'tcp' as const, port: port(tcp) },
    { kind: 'http' as const, port: port(web) },
    { kind: 'sip' as const, port: sipPort },
  ];
  for (const c of cases) {
    const p = new TargetProber({ kind: c.kind, host: '127.0.0.1', port: c.port }, '127.0.0.1', RTT);
    const r = await p.probe();
    p.close();
    t.equal(r.answered, true, `${c.kind} answered`);
    t.equal(r.serviceAnswered, true, `${c.kind} service answered`);
    t.ok(r.rttMs !== undefined, `${c.kind} rtt ${r.rttMs?.toFixed(2)} ms`);
    if (c.kind === 'http') t.equal(r.status, 503, 'any HTTP status counts, and is reported');
    if (c.kind === 'sip') t.equal(r.status, 200);
  }

  const closedTcp = await freePort();
  const refusedTcp = await new TargetProber({ kind: 'tcp', host: '127.0.0.1', port: closedTcp }, '127.0.0.1', RTT).probe();
  t.match(refusedTcp, { answered: true, serviceAnswered: false }, 'RST: host reachable, service not');
  const refusedUdp = await new TargetProber({ kind: 'udp', host: '127.0.0.1', port: await udpPort() }, '127.0.0.1', RTT).probe();
  t.match(refusedUdp, { answered: true, serviceAnswered: false }, 'ICMP port unreachable: host reachable');
  t.match(refusedUdp.detail, /port unreachable/);
});

t.test('TargetProber: a probe that cannot leave is lost with the cause', async (t) => {
  const echo = await echoServer();
  t.teardown(echo.close);
  const r = await new TargetProber({ kind: 'udp', host: '127.0.0.1', port: echo.port }, '192.0.2.77', RTT).probe();
  t.equal(r.answered, false);
  t.equal(r.errorCode, 'EADDRNOTAVAIL');
});

t.test('TargetProber: the timeout follows the measured RTT (late answers teach it)', async (t) => {
  const slow = await echoServer(400);
  t.teardown(slow.close);
  const p = new TargetProber({ kind: 'udp', host: '127.0.0.1', port: slow.port }, '127.0.0.1', { floorMs: 100, capMs: 2000, initialMs: 100 });
  t.teardown(() => p.close());
  const first = await p.probe();
  t.equal(first.answered, false, 'first probe judged by the 100 ms initial timeout: lost');
  t.equal(first.timeoutMs, 100);
  await waitFor(() => p.rtt.srttMs !== undefined, { timeoutMs: 2000, what: 'the late answer to be sampled' });
  t.ok((p.rtt.srttMs ?? 0) >= 390, `late answer sampled: srtt ${p.rtt.srttMs?.toFixed(0)} ms`);
  const second = await p.probe();
  t.equal(second.answered, true, `second probe waits ${second.timeoutMs.toFixed(0)} ms and gets its 400 ms answer`);
  t.ok(second.timeoutMs > 400);
});

t.test('TargetProber: a stalled event loop is not a lost probe (the answer is read before judging)', async (t) => {
  // A UDP echo in its own process, so it answers while we stall. It says "got" on stdout when a
  // probe arrives, answers 50 ms later, and then touches `sentFile`: the stall below waits for
  // that file (and for the probe's deadline), not for a guessed number of milliseconds.
  const { dir, cleanup } = await scratchDir('stall');
  t.teardown(cleanup);
  const sentFile = path.join(dir, 'sent');
  const port = await udpPort();
  const echo = spawn(
    process.execPath,
    [
      '-e',
      `const fs=require('fs');const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>{console.log('got');setTimeout(()=>s.send(m,r.port,r.address,()=>fs.writeFileSync(${JSON.stringify(sentFile)},'')),50)});s.bind(${port},'127.0.0.1',()=>console.log('ready'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.teardown(() => {
    echo.kill('SIGTERM');
  });
  const lines: string[] = [];
  let onLine: (() => void) | undefined;
  echo.stdout?.on('data', (d: Buffer) => {
    lines.push(...d.toString().split('\n').filter(Boolean));
    onLine?.();
  });
  const line = (what: string, n: number) =>
    new Promise<void>((resolve) => {
      onLine = () => {
        if (lines.filter((l) => l === what).length >= n) resolve();
      };
      onLine();
    });
  await line('ready', 1);
  // The probe's timeout is 1 s; the worst order is reproduced on purpose: the stall starts once
  // the probe has reached the echo (before its deadline) and ends only when the reply is in our
  // socket buffer AND the deadline has passed. The stall runs in the check phase, so the next
  // loop turn runs the timers phase (timeout) before the poll phase (answer).
  const TIMEOUT_MS = 1000;
  for (let attempt = 1; ; attempt++) {
    rmSync(sentFile, { force: true });
    const p = new TargetProber({ kind: 'udp', host: '127.0.0.1', port }, '127.0.0.1', { floorMs: TIMEOUT_MS, capMs: TIMEOUT_MS, initialMs: TIMEOUT_MS });
    const sentAt = performance.now(); // the prober arms its deadline synchronously in probe()
    const pending = p.probe();
    await line('got', attempt);
    const stalledBeforeDeadline = await new Promise<boolean>((resolve) =>
      setImmediate(() => {
        const inTime = performance.now() < sentAt + TIMEOUT_MS;
        const giveUp = performance.now() + 30_000;
        // busy: simulates a GC pause or a blocking call elsewhere in the supervisor
        while ((!existsSync(sentFile) || performance.now() < sentAt + TIMEOUT_MS + 20) && performance.now() < giveUp) {}
        resolve(inTime);
      }),
    );
    const r = await pending;
    p.close();
    if (!stalledBeforeDeadline && attempt < 5) {
      t.comment(`attempt ${attempt}: the machine was too busy to start the stall before the deadline; again`);
      continue;
    }
    t.ok(stalledBeforeDeadline, 'the stall began before the deadline and ended after it, with the reply waiting');
    t.equal(r.answered, true, 'answered, although the timer fired before the reply was read');
    break;
  }
});
