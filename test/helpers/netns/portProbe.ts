/**
 * One-shot prober for firewall tests, run in the namespace outside the box:
 *   ip netns exec <ns> node --import tsx portProbe.ts '<json>'
 * Input: { dst, timeoutMs, probes: [{ proto, src, port, timeoutMs? }], sentinel?: { src, port } }.
 * Every probe starts at once, each from its own source address. TCP: `open` (connected),
 * `refused` (RST) or `timeout` (dropped). UDP: the datagram is sent (`sent`); whether it
 * arrived is for the listener to say. After the TCP probes have finished, the sentinel
 * datagram is sent: the same veth delivers in order, so once the listener has it, every
 * earlier datagram has been either received or dropped.
 * Output: one JSON line with the results in the probes' order.
 */
import dgram from 'node:dgram';
import net from 'node:net';

interface Probe {
  proto: 'tcp' | 'udp';
  src: string;
  port: number;
  /** This probe's own TCP timeout (e.g. long for a port that should answer: it returns at once). */
  timeoutMs?: number;
}
const spec = JSON.parse(process.argv[2] ?? '{}') as { dst: string; timeoutMs: number; probes: Probe[]; sentinel?: { src: string; port: number } };

function tcp(p: Probe): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host: spec.dst, port: p.port, localAddress: p.src });
    const done = (r: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done('timeout'), p.timeoutMs ?? spec.timeoutMs);
    s.once('connect', () => done('open'));
    s.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED' ? 'refused' : `error ${e.code}`));
  });
}

function udp(src: string, port: number, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, src, () =>
      s.send(data, port, spec.dst, (err) => {
        s.close();
        if (err) reject(err);
        else resolve('sent');
      }),
    );
  });
}

const results = await Promise.all(spec.probes.map((p) => (p.proto === 'tcp' ? tcp(p) : udp(p.src, p.port, `probe ${p.src} ${p.port}`))));
if (spec.sentinel) await udp(spec.sentinel.src, spec.sentinel.port, 'sentinel');
process.stdout.write(`${JSON.stringify(results)}\n`);
