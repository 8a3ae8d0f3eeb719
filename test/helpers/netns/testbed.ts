/**
 * The WAN test-bed: a box with two uplinks, two ISPs, an "internet" core with an
 * anchor host, and three far ends (local centre, backup centre, SIP trunk), each in
 * its own network namespace, joined by veth pairs.
 *
 *   box ─wan1══down0─ isp1 ─up0══isp1─┐
 *       └wan2══down0─ isp2 ─up0══isp2─┤ core (anchor 198.18.0.1: UDP echo :7, TCP :7, HTTP :8080)
 *                                     ├─local══eth0─ local  198.51.100.10 (Kamailio :5060)
 *                                     ├─backup═eth0─ backup 203.0.113.10  (Kamailio :5060, UDP echo :7)
 *                                     └─trunk══eth0─ trunk  192.0.2.10    (Kamailio :5060)
 *
 * The box pins traffic per uplink like the real one (ops/net/README.md): table 101/102
 * with `default via <isp>` and an `unreachable default` fallback, `ip rule from <addr>`,
 * `ignore_routes_with_linkdown=1`. Faults are applied on the ISP side so the box sees
 * only what it would see in the field.
 *
 * Namespaces are named `vpn<pid>x<rand>-<role>`; `sweepStaleNamespaces()` removes those
 * of dead test processes (and kills what still runs in them), teardown removes ours.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WanConfigInput } from '../../../supervisor/src/config/wan.js';
import { scratchDir } from '../util.js';
import { IpShell } from './ipShell.js';
import { MonitorProcess, REPO_ROOT } from './monitorProcess.js';
import { NsProcess } from './nsProcess.js';
import { ip, nft, nsExec, run } from './sh.js';
import { startSipCentre } from './sipCentre.js';

export const LINKS = ['wan1', 'wan2'] as const;
export type LinkName = (typeof LINKS)[number];
export const CENTRES = ['local', 'backup', 'trunk'] as const;
export type CentreName = (typeof CENTRES)[number];

const NS_RE = /^vpn(\d+)x[0-9a-f]+-/;

export const ADDR = {
  wan1: { box: '100.64.1.2', isp: '100.64.1.1', table: 101, ispUp: '10.255.1.1', coreSide: '10.255.1.2' },
  wan2: { box: '100.64.2.2', isp: '100.64.2.1', table: 102, ispUp: '10.255.2.1', coreSide: '10.255.2.2' },
  anchor: '198.18.0.1',
  local: { host: '198.51.100.10', gw: '198.51.100.1' },
  backup: { host: '203.0.113.10', gw: '203.0.113.1' },
  trunk: { host: '192.0.2.10', gw: '192.0.2.1' },
  sipPort: 5060,
  echoPort: 7,
  tcpPort: 7,
  httpPort: 8080,
} as const;

/** Epoch-ms stamps around a fault: `at` is taken before the command runs (conservative). */
export interface FaultStamp {
  at: number;
  doneAt: number;
}

const FAULT_TABLE = 'vpfault';

/**
 * The test-bed's DNS (startDns): a server in the core, and host names for the far ends.
 * The box reaches it over wan1 (a /32 in its main table) and finds it through
 * /etc/netns/<box>/resolv.conf, which `ip netns exec` bind-mounts over /etc/resolv.conf
 * for every process started in the box afterwards — the monitor reads the system's
 * resolver config exactly as on the real box.
 */
export const DNS = {
  server: '198.18.0.53',
  names: { local: 'local.centre.test', backup: 'backup.centre.test', trunk: 'trunk.sbc.test' } as Record<CentreName, string>,
} as const;

const NETNS_ETC = '/etc/netns';

/** Control of the test-bed's DNS server (dnsResponder.ts). */
export class DnsServer {
  constructor(private readonly proc: NsProcess) {}

  private command(line: string, ack: (o: Record<string, unknown>) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.proc.off('line', onLine);
        reject(new Error(`DNS responder did not acknowledge "${line}"`));
      }, 10_000);
      const onLine = (l: string) => {
        try {
          if (ack(JSON.parse(l) as Record<string, unknown>)) {
            clearTimeout(timer);
            this.proc.off('line', onLine);
            resolve();
          }
        } catch {
          // not JSON
        }
      };
      this.proc.on('line', onLine);
      this.proc.child.stdin?.write(`${line}\n`);
    });
  }

  /** Stop answering (queries are still received and logged). */
  silent(): Promise<void> {
    return this.command('silent', (o) => o.mode === 'silent');
  }

  answer(): Promise<void> {
    return this.command('answer', (o) => o.mode === 'answer' && o.cmd === 'answer');
  }

  set(name: string, address: string): Promise<void> {
    return this.command(`set ${name} ${address}`, (o) => o.cmd === 'set');
  }

  /** Queries received so far (epoch ms is not logged; count and whether each was answered). */
  queries(): { q: string; answered: boolean }[] {
    return this.proc.lines.filter((l) => l.startsWith('{"q"')).map((l) => JSON.parse(l) as { q: string; answered: boolean });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove test-bed namespaces left by test processes that no longer exist. */
export async function sweepStaleNamespaces(): Promise<string[]> {
  const { stdout } = await ip(undefined, 'netns', 'list');
  const removed: string[] = [];
  for (const line of stdout.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = NS_RE.exec(name);
    if (!m || pidAlive(Number(m[1]))) continue;
    // Processes a crashed run left inside (responders, Kamailio, shims) were ours: end them by pid.
    const pids = await ip(undefined, 'netns', 'pids', name).then(
      (r) => r.stdout.split(/\s+/).filter(Boolean).map(Number),
      () => [] as number[],
    );
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await ip(undefined, 'netns', 'del', name).catch(() => undefined);
    removed.push(name);
  }
  // resolv.conf files startDns left for dead runs' boxes.
  for (const name of await readdir(NETNS_ETC).catch(() => [] as string[])) {
    const m = NS_RE.exec(name);
    if (m && !pidAlive(Number(m[1]))) await rm(path.join(NETNS_ETC, name), { recursive: true, force: true });
  }
  return removed;
}

export interface TestbedOptions {
  /** Start Kamailio in the three far ends (default true). */
  sip?: boolean;
}

export class Testbed {
  readonly prefix: string;
  readonly ns: Record<'box' | 'isp1' | 'isp2' | 'core' | CentreName, string>;
  private readonly procs: NsProcess[] = [];
  private readonly monitors: MonitorProcess[] = [];
  private readonly sip = new Map<CentreName, NsProcess>();
  private readonly shims = new Map<LinkName, NsProcess>();
  private dir = '';
  private cleanupDir: () => Promise<void> = async () => {};
  private created: string[] = [];
  private etcDir: string | undefined;
  private readonly shells = new Map<string, IpShell>();

  private constructor() {
    this.prefix = `vpn${process.pid}x${randomBytes(2).toString('hex')}`;
    const n = (r: string) => `${this.prefix}-${r}`;
    this.ns = {
      box: n('box'),
      isp1: n('isp1'),
      isp2: n('isp2'),
      core: n('core'),
      local: n('local'),
      backup: n('backup'),
      trunk: n('trunk'),
    };
  }

  static async create(opts: TestbedOptions = {}): Promise<Testbed> {
    await sweepStaleNamespaces();
    const bed = new Testbed();
    try {
      await bed.build(opts);
    } catch (e) {
      await bed.teardown();
      throw e;
    }
    return bed;
  }

  private ispNs(link: LinkName): string {
    return link === 'wan1' ? this.ns.isp1 : this.ns.isp2;
  }

  private async build(opts: TestbedOptions): Promise<void> {
    const sd = await scratchDir('netns');
    this.dir = sd.dir;
    this.cleanupDir = sd.cleanup;
    for (const name of Object.values(this.ns)) {
      await ip(undefined, 'netns', 'add', name);
      this.created.push(name);
      await ip(name, 'link', 'set', 'lo', 'up');
    }
    const { box, core } = this.ns;
    const sysctl = (ns: string, ...kv: string[]) => nsExec(ns, 'sysctl', ['-qw', ...kv]);

    // Before the uplinks exist, so they inherit it through `default` as well as `all`.
    await sysctl(
      box,
      'net.ipv4.conf.all.ignore_routes_with_linkdown=1',
      'net.ipv4.conf.default.ignore_routes_with_linkdown=1',
      'net.ipv4.conf.all.rp_filter=2',
      'net.ipv4.conf.default.rp_filter=2',
    );

    for (const link of LINKS) {
      const a = ADDR[link];
      const isp = this.ispNs(link);
      await ip(box, 'link', 'add', 'name', link, 'type', 'veth', 'peer', 'name', 'down0', 'netns', isp);
      await ip(box, 'addr', 'add', `${a.box}/24`, 'dev', link);
      await ip(isp, 'addr', 'add', `${a.isp}/24`, 'dev', 'down0');
      await ip(isp, 'link', 'add', 'name', 'up0', 'type', 'veth', 'peer', 'name', link === 'wan1' ? 'isp1' : 'isp2', 'netns', core);
      await ip(isp, 'addr', 'add', `${a.ispUp}/30`, 'dev', 'up0');
      await ip(core, 'addr', 'add', `${a.coreSide}/30`, 'dev', link === 'wan1' ? 'isp1' : 'isp2');
      await ip(box, 'link', 'set', link, 'up');
      await ip(isp, 'link', 'set', 'down0', 'up');
      await ip(isp, 'link', 'set', 'up0', 'up');
      await ip(core, 'link', 'set', link === 'wan1' ? 'isp1' : 'isp2', 'up');
      await sysctl(isp, 'net.ipv4.ip_forward=1');
      await ip(isp, 'route', 'add', 'default', 'via', a.coreSide);
      await ip(core, 'route', 'add', `${a.box.replace(/\.\d+$/, '.0')}/24`, 'via', a.ispUp);
      // The box's per-uplink table: via this ISP, else unreachable — never via the other link.
      await ip(box, 'route', 'add', 'unreachable', 'default', 'metric', '4278198272', 'table', String(a.table));
      await this.addUplinkRoute(link);
      await ip(box, 'rule', 'add', 'from', a.box, 'lookup', String(a.table), 'pref', String(1000 + a.table));
    }

    // Fault shells up front, so the first fault does not pay for starting `ip`.
    await Promise.all([box, this.ns.isp1, this.ns.isp2].map((ns) => this.shell(ns).run('addr show dev lo')));

    await sysctl(core, 'net.ipv4.ip_forward=1');
    await ip(core, 'addr', 'add', `${ADDR.anchor}/32`, 'dev', 'lo');
    for (const c of CENTRES) {
      const { host, gw } = ADDR[c];
      await ip(core, 'link', 'add', 'name', c, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.ns[c]);
      await ip(core, 'addr', 'add', `${gw}/24`, 'dev', c);
      await ip(this.ns[c], 'addr', 'add', `${host}/24`, 'dev', 'eth0');
      await ip(core, 'link', 'set', c, 'up');
      await ip(this.ns[c], 'link', 'set', 'eth0', 'up');
      await ip(this.ns[c], 'route', 'add', 'default', 'via', gw);
    }

    const responder = (ns: string, spec: object, label: string) =>
      NsProcess.start({
        ns,
        cmd: process.execPath,
        args: ['--import', 'tsx', path.join(REPO_ROOT, 'test/helpers/netns/responder.ts'), JSON.stringify(spec)],
        cwd: REPO_ROOT,
        ready: /"ready":true/,
        readyTimeoutMs: 30_000,
        label,
      });
    const starts: Promise<unknown>[] = [
      responder(
        core,
        {
          udpEcho: [{ host: ADDR.anchor, port: ADDR.echoPort }],
          tcp: [{ host: ADDR.anchor, port: ADDR.tcpPort }],
          http: [{ host: ADDR.anchor, port: ADDR.httpPort }],
        },
        'anchor responder',
      ).then((p) => this.procs.push(p)),
      responder(this.ns.backup, { udpEcho: [{ host: ADDR.backup.host, port: ADDR.echoPort }] }, 'backup echo').then((p) => this.procs.push(p)),
    ];
    if (opts.sip !== false) for (const c of CENTRES) starts.push(this.startCentre(c));
    const settled = await Promise.allSettled(starts);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async addUplinkRoute(link: LinkName): Promise<void> {
    const a = ADDR[link];
    await ip(this.ns.box, 'route', 'replace', 'default', 'via', a.isp, 'dev', link, 'table', String(a.table));
  }

  /** A WAN config for the monitor in the box, with per-test overrides. */
  wanConfig(overrides: Partial<WanConfigInput> = {}): WanConfigInput {
    const linkCfg = (link: LinkName) => ({
      name: link,
      interface: link,
      sourceAddress: ADDR[link].box,
      targets: [
        { kind: 'udp' as const, host: ADDR.anchor, port: ADDR.echoPort },
        { kind: 'udp' as const, host: ADDR.backup.host, port: ADDR.echoPort },
      ],
    });
    const sipEnd = (c: CentreName) => ({ endpoints: [{ host: ADDR[c].host, port: ADDR.sipPort }] });
    return {
      links: LINKS.map(linkCfg),
      centres: { local: sipEnd('local'), backup: sipEnd('backup'), trunk: { ...sipEnd('trunk'), intervalMs: 200 } },
      ...overrides,
    };
  }

  /**
   * Start a DNS server in the core answering A records for `records` (default: the
   * far ends' names in DNS.names) with `ttlS`, and point the box's resolver at it.
   * Call before startMonitor: the resolver config is bound at process start.
   */
  async startDns(opts: { ttlS: number; records?: Record<string, string> }): Promise<DnsServer> {
    const records = opts.records ?? Object.fromEntries(CENTRES.map((c) => [DNS.names[c], ADDR[c].host]));
    await ip(this.ns.core, 'addr', 'add', `${DNS.server}/32`, 'dev', 'lo');
    await ip(this.ns.box, 'route', 'add', `${DNS.server}/32`, 'via', ADDR.wan1.isp, 'dev', 'wan1');
    this.etcDir = path.join(NETNS_ETC, this.ns.box);
    await mkdir(this.etcDir, { recursive: true });
    await writeFile(path.join(this.etcDir, 'resolv.conf'), `# vaktpost test-bed ${this.prefix}\nnameserver ${DNS.server}\n`);
    const proc = await NsProcess.start({
      ns: this.ns.core,
      cmd: process.execPath,
      args: [
        '--import',
        'tsx',
        path.join(REPO_ROOT, 'test/helpers/netns/dnsResponder.ts'),
        JSON.stringify({ host: DNS.server, port: 53, records, ttlS: opts.ttlS }),
      ],
      cwd: REPO_ROOT,
      ready: /"ready":true/,
      readyTimeoutMs: 30_000,
      label: 'DNS responder',
    });
    this.procs.push(proc);
    return new DnsServer(proc);
  }

  async startMonitor(config: WanConfigInput, opts: { centres?: boolean; label?: string } = {}): Promise<MonitorProcess> {
    const m = await MonitorProcess.start(this.ns.box, config, opts);
    this.monitors.push(m);
    return m;
  }

  // ── Faults ───────────────────────────────────────────────────────────────

  private async stamp(fn: () => Promise<unknown>): Promise<FaultStamp> {
    const at = Date.now();
    await fn();
    return { at, doneAt: Date.now() };
  }

  private shell(ns: string): IpShell {
    let sh = this.shells.get(ns);
    if (!sh) {
      sh = new IpShell(ns);
      this.shells.set(ns, sh);
    }
    return sh;
  }

  /** `ip link set wanN down` on the box: the kernel also deletes the uplink's routes. */
  adminDown(link: LinkName): Promise<FaultStamp> {
    return this.stamp(() => this.shell(this.ns.box).run(`link set dev ${link} down`));
  }

  /** The ISP's end of the cable goes down: the box sees NO-CARRIER. */
  carrierLoss(link: LinkName): Promise<FaultStamp> {
    return this.stamp(() => this.shell(this.ispNs(link)).run('link set dev down0 down'));
  }

  private faultTable(body: string): string {
    // add+delete first makes the load atomic and idempotent (replaces an earlier fault).
    return `add table inet ${FAULT_TABLE}\ndelete table inet ${FAULT_TABLE}\ntable inet ${FAULT_TABLE} {\n${body}\n}\n`;
  }

  /** Silent blackhole: carrier stays up, the ISP drops everything to and from the box. */
  blackhole(link: LinkName): Promise<FaultStamp> {
    const rules = this.faultTable(
      [
        '  chain pre {\n    type filter hook prerouting priority -300; policy accept;\n    iifname "down0" drop\n  }',
        '  chain post {\n    type filter hook postrouting priority 300; policy accept;\n    oifname "down0" drop\n  }',
      ].join('\n'),
    );
    return this.stamp(() => nft(this.ispNs(link), rules));
  }

  /** Upstream-only failure: the ISP router itself answers, nothing beyond it does. */
  upstreamFailure(link: LinkName): Promise<FaultStamp> {
    const rules = this.faultTable(
      '  chain forward_filter {\n    type filter hook forward priority 0; policy accept;\n    iifname "down0" drop\n    oifname "down0" drop\n  }',
    );
    return this.stamp(() => nft(this.ispNs(link), rules));
  }

  /** Random loss of `pct` % of packets in *each* direction (a round trip loses ≈ 2·pct %). */
  loss(link: LinkName, pct: number): Promise<FaultStamp> {
    const rules = this.faultTable(
      `  chain forward_filter {\n    type filter hook forward priority 0; policy accept;\n    iifname "down0" numgen random mod 100 < ${pct} drop\n    oifname "down0" numgen random mod 100 < ${pct} drop\n  }`,
    );
    return this.stamp(() => nft(this.ispNs(link), rules));
  }

  /**
   * Added delay through the ISP: an NFQUEUE userspace shim (delayShim.py) holds each
   * forwarded packet `rttMs / 2` in each direction, so the round trip grows by `rttMs`.
   * The native nft `queue` expression is missing on this kernel; iptables' NFQUEUE
   * target (xt, via iptables-nft) works.
   */
  async delay(link: LinkName, rttMs: number, jitterMs = 0): Promise<FaultStamp> {
    const isp = this.ispNs(link);
    const queue = link === 'wan1' ? 11 : 12;
    await this.clearDelay(link);
    const shim = await NsProcess.start({
      ns: isp,
      cmd: '/usr/bin/python3',
      args: [
        path.join(REPO_ROOT, 'test/helpers/netns/delayShim.py'),
        '--queue',
        String(queue),
        '--delay-ms',
        String(rttMs / 2),
        '--jitter-ms',
        String(jitterMs / 2),
      ],
      ready: /"ready": true/,
      label: `delay shim (${link})`,
    });
    this.shims.set(link, shim);
    return this.stamp(async () => {
      await nsExec(isp, 'iptables', ['-A', 'FORWARD', '-i', 'down0', '-j', 'NFQUEUE', '--queue-num', String(queue)]);
      await nsExec(isp, 'iptables', ['-A', 'FORWARD', '-o', 'down0', '-j', 'NFQUEUE', '--queue-num', String(queue)]);
    });
  }

  private async clearDelay(link: LinkName): Promise<void> {
    await nsExec(this.ispNs(link), 'iptables', ['-F', 'FORWARD']).catch(() => undefined);
    const shim = this.shims.get(link);
    this.shims.delete(link);
    await shim?.stop();
  }

  /** Undo every fault on an uplink (idempotent), including the routes admin-down deleted. */
  async restore(link: LinkName): Promise<FaultStamp> {
    return this.stamp(async () => {
      const isp = this.ispNs(link);
      await nft(isp, `add table inet ${FAULT_TABLE}\ndelete table inet ${FAULT_TABLE}\n`);
      await this.clearDelay(link);
      await ip(isp, 'link', 'set', 'down0', 'up');
      await ip(this.ns.box, 'link', 'set', link, 'up');
      await this.addUplinkRoute(link);
    });
  }

  /** From the box, over one uplink: does the ISP router itself answer a ping? */
  async ispAnswersPing(link: LinkName): Promise<boolean> {
    return nsExec(this.ns.box, 'ping', ['-c', '1', '-W', '1', '-I', ADDR[link].box, ADDR[link].isp]).then(
      () => true,
      () => false,
    );
  }

  /** Kill the centre's SIP service (its host and the WAN stay up). */
  async stopCentre(c: CentreName): Promise<FaultStamp> {
    const p = this.sip.get(c);
    this.sip.delete(c);
    return this.stamp(async () => p?.stop());
  }

  async startCentre(c: CentreName): Promise<void> {
    if (this.sip.get(c)?.alive) return;
    const p = await startSipCentre(this.ns[c], ADDR[c].host, ADDR.sipPort, this.dir, c);
    this.sip.set(c, p);
  }

  /** Stop every process we started and delete every namespace. Safe to call twice. */
  async teardown(): Promise<void> {
    const stops: Promise<void>[] = [
      ...this.monitors.map((m) => m.stop()),
      ...this.procs.map((p) => p.stop()),
      ...[...this.sip.values()].map((p) => p.stop()),
      ...[...this.shims.values()].map((p) => p.stop()),
    ];
    await Promise.allSettled(stops);
    this.monitors.length = 0;
    this.procs.length = 0;
    this.sip.clear();
    this.shims.clear();
    for (const sh of this.shells.values()) sh.close();
    this.shells.clear();
    for (const name of this.created.reverse()) {
      await run('ip', ['netns', 'del', name]).catch(() => undefined);
    }
    this.created = [];
    if (this.etcDir) await rm(this.etcDir, { recursive: true, force: true });
    this.etcDir = undefined;
    await this.cleanupDir();
  }
}
