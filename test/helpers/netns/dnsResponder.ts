/**
 * A tiny authoritative-only UDP DNS server for the WAN test-bed, run inside a namespace
 * with `ip netns exec <ns> node --import tsx dnsResponder.ts '<json>'`.
 *
 * Answers A queries for the names it was given (with the given TTL); NOERROR with no
 * answer for other types of a known name (NODATA); NXDOMAIN for anything else.
 * Commands, one per stdin line, each acknowledged with a JSON line on stdout:
 *   silent            drop every query from now on (a DNS server that went away)
 *   answer            answer again
 *   set <name> <ip>   change (or add) a name's A record
 * Every query is logged as {"q":"<name>","type":<n>,"answered":<bool>}.
 * Prints {"ready":true} once bound; exits when stdin closes or on SIGTERM.
 */
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';

export interface DnsResponderSpec {
  host: string;
  port: number;
  /** name → IPv4 address. */
  records: Record<string, string>;
  ttlS: number;
}

export interface DnsQuestion {
  id: number;
  flags: number;
  name: string;
  type: number;
  /** The question section's bytes (to copy into the answer). */
  question: Buffer;
}

/** Parse the header and first question of a query; undefined for anything malformed. */
export function parseQuery(msg: Buffer): DnsQuestion | undefined {
  if (msg.length < 12 || msg.readUInt16BE(4) < 1) return undefined;
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off] as number;
    if (len === 0) break;
    if (len > 63) return undefined; // no compression in a question we accept
    labels.push(msg.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  off += 1;
  if (off + 4 > msg.length) return undefined;
  return {
    id: msg.readUInt16BE(0),
    flags: msg.readUInt16BE(2),
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(off),
    question: msg.subarray(12, off + 4),
  };
}

/** Build the response to a question. */
export function buildResponse(q: DnsQuestion, address: string | undefined, known: boolean, ttlS: number): Buffer {
  const A = 1;
  const answers = known && q.type === A && address !== undefined ? [address] : [];
  const rcode = known ? 0 : 3; // NXDOMAIN
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  // QR, the query's opcode and RD, AA (authoritative), RA; rcode.
  header.writeUInt16BE(0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | rcode, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const rrs = answers.map((a) => {
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
    rr.writeUInt16BE(A, 2);
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(ttlS, 6);
    rr.writeUInt16BE(4, 10);
    a.split('.').forEach((o, i) => {
      rr[12 + i] = Number(o);
    });
    return rr;
  });
  return Buffer.concat([header, q.question, ...rrs]);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2] ?? '{}') as DnsResponderSpec;
  const records = new Map(Object.entries(spec.records).map(([k, v]) => [k.toLowerCase(), v]));
  let silent = false;
  const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = parseQuery(msg);
    if (!q) return;
    out({ q: q.name, type: q.type, answered: !silent });
    if (silent) return;
    sock.send(buildResponse(q, records.get(q.name), records.has(q.name), spec.ttlS), rinfo.port, rinfo.address);
  });
  sock.on('error', (e) => process.stderr.write(`dns ${spec.host}:${spec.port}: ${e.message}\n`));
  await new Promise<void>((r) => sock.bind(spec.port, spec.host, () => r()));
  out({ ready: true, pid: process.pid });

  createInterface({ input: process.stdin }).on('line', (line) => {
    const [cmd, name, addr] = line.trim().split(/\s+/);
    if (cmd === 'silent') silent = true;
    else if (cmd === 'answer') silent = false;
    else if (cmd === 'set' && name && addr) records.set(name.toLowerCase(), addr);
    else return void out({ error: `unknown command ${line}` });
    out({ mode: silent ? 'silent' : 'answer', cmd });
  });
  // The test process holds our stdin: when it is gone, so are we.
  process.stdin.on('end', () => process.exit(0));
  process.on('SIGTERM', () => {
    sock.close();
    process.exit(0);
  });
}

if (process.argv[1]?.endsWith('dnsResponder.ts')) {
  main().catch((e: unknown) => {
    process.stderr.write(`dnsResponder: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
