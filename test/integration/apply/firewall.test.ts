/**
 * The host firewall `vaktpost apply` renders (supervisor/src/apply/firewall.ts), loaded for
 * real: nft -c accepts it, then it is loaded into a fresh network namespace (the "box")
 * joined by a veth pair to a second one (the network outside). Listeners in the box on every
 * port that matters — the allowed ones and the local control ports that must never be
 * reachable — and probes from the outside from five source addresses: the trunk, a centre,
 * the LAN, the management network and a stranger. Asserted per port and source: allowed
 * ones answer (TCP connects, the UDP datagram reaches the listener), all others time out
 * and never reach the listener.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { renderFirewall } from '../../../supervisor/src/apply/firewall.js';
import { configSchema } from '../../../supervisor/src/config/schema.js';
import { NsProcess } from '../../helpers/netns/nsProcess.js';
import { ip, nsExec, run } from '../../helpers/netns/sh.js';
import { REPO_ROOT } from '../../helpers/netns/monitorProcess.js';
import { scratchDir, waitFor } from '../../helpers/util.js';

const BOX = '10.77.0.1';
const SRC = { trunk: '10.77.0.2', centre: '10.77.0.3', lan: '10.77.0.20', mgmt: '10.77.0.40', stranger: '10.77.0.99' } as const;
type Who = keyof typeof SRC;

const cfg = configSchema.parse({
  api: { listen: '0.0.0.0', port: 8080 },
  calls: {
    sip: { port: 5060, transports: ['udp', 'tcp'] },
    trunk: { sources: [`${SRC.trunk}/32`] },
    centres: { local: { uris: [`sip:lv@${SRC.centre}:5060`] }, backup: { uris: ['sip:lv@10.88.0.10:5060'] } },
    announcement: { uris: ['sip:announcement@127.0.0.1:5090'] },
    rpc: { port: 5071 },
    recording: { enabled: true, rtpengine: { port: 2223 }, eventsPort: 5074 },
  },
  audiolog: { rtpengine: { portMin: 30_000, portMax: 30_100 } },
  firewall: { lanNetworks: ['10.77.0.16/28'], managementNetworks: ['10.77.0.32/28'], ssh: { port: 22 } },
});

/** What the box listens on (every address): the services and the local control ports. */
const TCP = [5060, 8080, 22, 5071];
const UDP = [5060, 30_000, 30_050, 123, 2223, 5074, 8888, 5090, 16_000];
const NAME: Record<string, string> = {
  'tcp 5060': 'SIP',
  'udp 5060': 'SIP',
  'udp 30000': 'RTP',
  'udp 30050': 'RTP',
  'udp 123': 'NTP',
  'tcp 8080': 'web UI',
  'tcp 22': 'SSH',
  'tcp 5071': 'Kamailio RPC',
  'udp 2223': 'rtpengine ng',
  'udp 5074': 'call events',
  'udp 8888': 'SIPp control',
  'udp 5090': 'announcement SIP',
  'udp 16000': 'announcement media',
};

const ALLOWED: Record<Who, string[]> = {
  trunk: ['udp 5060', 'tcp 5060', 'udp 30000', 'udp 30050'],
  centre: ['udp 5060', 'tcp 5060', 'udp 30000', 'udp 30050'],
  lan: ['udp 123', 'tcp 8080'],
  mgmt: ['udp 123', 'tcp 8080', 'tcp 22'],
  stranger: [],
};
const ALL = [...TCP.map((p) => `tcp ${p}`), ...UDP.map((p) => `udp ${p}`)];

t.test('the rendered firewall lets in exactly what the config allows, per port and source', async (t) => {
  const s = await scratchDir('firewall');
  t.teardown(s.cleanup);
  const { text, notes } = renderFirewall(cfg);
  t.same(notes, [], 'no warnings for a complete config');
  const file = path.join(s.dir, 'vaktpost.nft');
  await writeFile(file, text);
  await run('nft', ['-c', '-f', file]);
  t.pass('nft -c accepts the ruleset');

  const tag = `vpfw${process.pid}`;
  const box = `${tag}-box`;
  const out = `${tag}-out`;
  await ip(undefined, 'netns', 'add', box);
  t.teardown(() => ip(undefined, 'netns', 'del', box).then(() => undefined));
  await ip(undefined, 'netns', 'add', out);
  t.teardown(() => ip(undefined, 'netns', 'del', out).then(() => undefined));
  await ip(undefined, 'link', 'add', `${tag}b`, 'netns', box, 'type', 'veth', 'peer', 'name', `${tag}o`, 'netns', out);
  await ip(box, 'addr', 'add', `${BOX}/24`, 'dev', `${tag}b`);
  await ip(box, 'link', 'set', 'lo', 'up');
  await ip(box, 'link', 'set', `${tag}b`, 'up');
  for (const a of Object.values(SRC)) await ip(out, 'addr', 'add', `${a}/24`, 'dev', `${tag}o`, 'nodad');
  await ip(out, 'link', 'set', 'lo', 'up');
  await ip(out, 'link', 'set', `${tag}o`, 'up');
  await nsExec(box, 'nft', ['-f', file]);
  const listed = await nsExec(box, 'nft', ['list', 'chain', 'inet', 'vaktpost', 'input']);
  t.match(listed.stdout, /policy drop;/, 'loaded: inbound default drop');

  const listener = await NsProcess.start({
    ns: box,
    cmd: process.execPath,
    args: ['--import', 'tsx', path.join(REPO_ROOT, 'test/helpers/netns/portListener.ts'), JSON.stringify({ tcp: TCP, udp: UDP })],
    cwd: REPO_ROOT,
    ready: /"ready":true/,
    label: 'port listener',
  });
  t.teardown(() => listener.stop());

  const probes = (Object.keys(SRC) as Who[]).flatMap((who) =>
    ALL.map((k) => {
      const [proto, port] = k.split(' ');
      // An allowed port answers at once, so it may wait long (a loaded machine is no reason to fail);
      // a dropped one is waited for 2 s: a SYN that got through would have been answered by then.
      const timeoutMs = ALLOWED[who].includes(k) ? 15_000 : 2000;
      return { who, key: k, proto: proto as 'tcp' | 'udp', src: SRC[who], port: Number(port), timeoutMs };
    }),
  );
  const started = Date.now();
  // Not nsExec: its 10 s default limit is not for a prober that may wait 15 s on a busy machine.
  const r = await run(
    'ip',
    [
      'netns',
      'exec',
      out,
      process.execPath,
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'test/helpers/netns/portProbe.ts'),
      JSON.stringify({ dst: BOX, timeoutMs: 2000, probes, sentinel: { src: SRC.trunk, port: 5060 } }),
    ],
    { timeoutMs: 120_000 },
  );
  const results = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as string[];
  // The sentinel went last over the same veth: once it is in, every earlier datagram has been delivered or dropped.
  await waitFor(() => listener.lines.some((l) => l.includes('"sentinel"')), { timeoutMs: 30_000, what: 'the sentinel datagram' });
  const probeMs = Date.now() - started;
  const arrived = listener.lines.map((l) => JSON.parse(l) as { proto?: string; port?: number; from?: string; data?: string });
  const reached = (proto: string, port: number, from: string) =>
    arrived.some((a) => a.proto === proto && a.port === port && a.from === from && a.data !== 'sentinel');

  const table: string[] = [];
  probes.forEach((p, i) => {
    const allowed = ALLOWED[p.who].includes(p.key);
    const got = reached(p.proto, p.port, p.src);
    const verdict = p.proto === 'tcp' ? (results[i] ?? '?') : got ? 'received' : 'not received';
    table.push(`${p.who.padEnd(8)} ${p.key.padEnd(9)} ${(NAME[p.key] ?? '').padEnd(18)} ${allowed ? 'allow' : 'deny '}  ${verdict}`);
    if (allowed) {
      t.ok(got, `${p.who} (${p.src}) reaches ${NAME[p.key]} (${p.key})`);
      if (p.proto === 'tcp') t.equal(results[i], 'open', `${p.who} connects to ${p.key}`);
    } else {
      t.notOk(got, `${p.who} (${p.src}) does not reach ${NAME[p.key]} (${p.key})`);
      if (p.proto === 'tcp') t.equal(results[i], 'timeout', `${p.who} → ${p.key}: dropped (times out), not even refused`);
    }
  });
  t.comment(`per port and source (probes took ${probeMs} ms):\n${table.join('\n')}`);

  // The box itself still reaches its control ports over loopback (Kamailio, rtpengine, the supervisor).
  const self = await run(
    'ip',
    [
      'netns',
      'exec',
      box,
      process.execPath,
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'test/helpers/netns/portProbe.ts'),
      JSON.stringify({ dst: '127.0.0.1', timeoutMs: 15_000, probes: [{ proto: 'tcp', src: '127.0.0.1', port: 5071 }] }),
    ],
    { timeoutMs: 120_000 },
  );
  t.same(JSON.parse(self.stdout.trim()), ['open'], 'on the box, 127.0.0.1:5071 (RPC) is reachable: loopback is not filtered');
  const ping = await nsExec(out, 'ping', ['-c', '1', '-W', '2', '-I', SRC.stranger, BOX]);
  t.match(ping.stdout, /1 received/, 'ICMP echo answered (path MTU and diagnostics keep working)');
  const counters = await nsExec(box, 'nft', ['list', 'chain', 'inet', 'vaktpost', 'input']);
  t.match(counters.stdout, /counter packets [1-9]\d* bytes \d+ comment "dropped/, 'the drops are counted');
});
