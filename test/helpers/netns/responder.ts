/**
 * Far-end services for the WAN test-bed, run inside a namespace with
 * `ip netns exec <ns> node --import tsx responder.ts '<json>'`:
 * UDP echo (RFC 862: the datagram straight back), a TCP listener that accepts and
 * closes, and an HTTP server answering 204. Prints `{"ready":true}` once every
 * socket is bound; exits on SIGTERM.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';

export interface ResponderSpec {
  udpEcho?: { host: string; port: number }[];
  tcp?: { host: string; port: number }[];
  http?: { host: string; port: number }[];
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as ResponderSpec;
  const closers: (() => void)[] = [];
  const ready: Promise<void>[] = [];

  for (const a of spec.udpEcho ?? []) {
    const s = dgram.createSocket('udp4');
    s.on('message', (msg, rinfo) => s.send(msg, rinfo.port, rinfo.address));
    s.on('error', (e) => process.stderr.write(`udp echo ${a.host}:${a.port}: ${e.message}\n`));
    ready.push(new Promise((r) => s.bind(a.port, a.host, () => r())));
    closers.push(() => s.close());
  }
  for (const a of spec.tcp ?? []) {
    const srv = net.createServer((c) => c.end());
    ready.push(new Promise((r) => srv.listen(a.port, a.host, () => r())));
    closers.push(() => srv.close());
  }
  for (const a of spec.http ?? []) {
    const srv = http.createServer((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    ready.push(new Promise((r) => srv.listen(a.port, a.host, () => r())));
    closers.push(() => srv.close());
  }
  await Promise.all(ready);
  process.stdout.write(`${JSON.stringify({ ready: true, pid: process.pid })}\n`);
  if (process.env.VAKTPOST_EXIT_ON_STDIN_EOF === '1') {
    // The test process holds our stdin: when it is gone, so are we.
    process.stdin.on('end', () => process.exit(0));
    process.stdin.resume();
  }
  process.on('SIGTERM', () => {
    for (const c of closers) c();
    process.exit(0);
  });
}

main().catch((e: unknown) => {
  process.stderr.write(`responder: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
