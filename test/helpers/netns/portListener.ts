/**
 * Listens on the given TCP and UDP ports (every address) inside a namespace and says
 * what reached it, one JSON line each: `{"proto":"tcp","port":22,"from":"10.77.0.40"}`
 * per accepted connection, the same per received datagram. Prints `{"ready":true}` once
 * every socket is bound. For firewall tests: a port's listener proves the port is open
 * on the box; only the ruleset decides who reaches it.
 *   ip netns exec <ns> node --import tsx portListener.ts '{"tcp":[22],"udp":[123]}'
 */
import dgram from 'node:dgram';
import net from 'node:net';

const spec = JSON.parse(process.argv[2] ?? '{}') as { tcp?: number[]; udp?: number[] };
const say = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
const ready: Promise<void>[] = [];
for (const port of spec.tcp ?? []) {
  const srv = net.createServer((c) => {
    say({ proto: 'tcp', port, from: (c.remoteAddress ?? '').replace(/^::ffff:/, '') });
    c.end();
  });
  ready.push(new Promise((r) => srv.listen(port, '0.0.0.0', () => r())));
}
for (const port of spec.udp ?? []) {
  const s = dgram.createSocket('udp4');
  s.on('message', (msg, rinfo) => say({ proto: 'udp', port, from: rinfo.address, data: msg.toString('utf8') }));
  ready.push(new Promise((r) => s.bind(port, '0.0.0.0', () => r())));
}
await Promise.all(ready);
say({ ready: true });
// The test process holds our stdin: when it is gone, so are we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
