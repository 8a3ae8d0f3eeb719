/**
 * Link (carrier / admin / operstate) events for a set of interfaces.
 *
 * Events come from an `ip -o monitor link` subprocess: netlink pushes the change,
 * measured at ~1 ms for admin down and ~6 ms for carrier loss (measured in the netns test-bed), versus
 * ~60 ms for a 100 ms sysfs poll. The subprocess is restarted if it dies, and sysfs
 * is re-read at start, after each restart and every `resyncMs`, so a missed event
 * or a wedged subprocess costs at most one resync period, never a stale "up".
 *
 * But netlink is not always prompt for carrier *loss*: the kernel's linkwatch sends
 * the notification (and updates operstate, and marks routes linkdown) at most once a
 * second for "non-urgent" devices — physical NICs, and veths whose peer has the same
 * ifindex — so a carrier drop within a second of any other link event on the box
 * was reported 700–800 ms late in the test-bed. The carrier *bit* in sysfs changes at
 * once, so it is also polled every `carrierPollMs` (25 ms: one tiny sync read per
 * link; carrier loss is then seen in ≤ ~30 ms even when linkwatch holds it back).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';

export interface LinkSnapshot {
  ifname: string;
  /** The interface exists (a USB modem can be unplugged). */
  exists: boolean;
  /** IFF_UP: administratively up. */
  adminUp: boolean;
  /** Lower layer up (carrier / LOWER_UP). */
  carrier: boolean;
  /** Kernel operstate, lower case: up, down, lowerlayerdown, dormant, unknown, notpresent, … */
  operstate: string;
  source: 'netlink' | 'sysfs';
}

/** Usable for traffic: present, admin up, carrier, and operstate up (or unknown, as tun/ppp report). */
export function linkIsUp(s: LinkSnapshot): boolean {
  return s.exists && s.adminUp && s.carrier && (s.operstate === 'up' || s.operstate === 'unknown');
}

/** Human-readable reason for a link that is not up. */
export function linkDownReason(s: LinkSnapshot): string {
  if (!s.exists) return `interface ${s.ifname} does not exist (modem unplugged, or wrong \`interface\` in the WAN config)`;
  if (!s.adminUp) return `interface ${s.ifname} is administratively down (ip link set ${s.ifname} up)`;
  if (!s.carrier) return `interface ${s.ifname} has no carrier (cable, modem or the far end is down)`;
  if (!linkIsUp(s)) return `interface ${s.ifname} operstate is ${s.operstate}`;
  return `interface ${s.ifname} is up`;
}

const LINE_RE = /^(Deleted\s+)?\d+:\s+([^:@\s]+)(?:@[^:\s]+)?:\s+<([^>]*)>.*?\bstate\s+(\S+)/;

/** Parse one line of `ip -o monitor link`. Undefined for lines that are not link messages. */
export function parseIpMonitorLine(line: string): LinkSnapshot | undefined {
  const m = LINE_RE.exec(line.trim());
  if (!m) return undefined;
  const flags = (m[3] ?? '').split(',');
  const deleted = m[1] !== undefined;
  return {
    ifname: m[2] as string,
    exists: !deleted,
    adminUp: !deleted && flags.includes('UP'),
    carrier: !deleted && flags.includes('LOWER_UP') && !flags.includes('NO-CARRIER'),
    operstate: deleted ? 'notpresent' : (m[4] as string).toLowerCase(),
    source: 'netlink',
  };
}

/** Read one interface's state from sysfs. Never throws: a missing interface is a fact. */
export async function readLinkSysfs(ifname: string, root = '/sys/class/net'): Promise<LinkSnapshot> {
  const dir = path.join(root, ifname);
  const read = async (f: string): Promise<string | undefined> => {
    try {
      return (await readFile(path.join(dir, f), 'utf8')).trim();
    } catch {
      return undefined; // `carrier` reads EINVAL while admin down
    }
  };
  const [operstate, carrier, flags] = await Promise.all([read('operstate'), read('carrier'), read('flags')]);
  if (operstate === undefined && flags === undefined) {
    return { ifname, exists: false, adminUp: false, carrier: false, operstate: 'notpresent', source: 'sysfs' };
  }
  const adminUp = flags !== undefined ? (Number.parseInt(flags, 16) & 0x1) === 1 : false;
  return { ifname, exists: true, adminUp, carrier: carrier === '1', operstate: operstate ?? 'unknown', source: 'sysfs' };
}

export interface LinkWatcherOptions {
  ifnames: string[];
  /** Called on every change of an interface's snapshot (and once per interface at start). */
  onChange: (snap: LinkSnapshot) => void;
  /** Called when the event source fails or recovers (for the monitor's detail text). */
  onFault?: (message: string | undefined) => void;
  /** `ip` binary; default `ip` from PATH. */
  ipCommand?: string;
  /** Re-read sysfs this often as a safety net (ms). Default 1000. */
  resyncMs?: number;
  /** Wait before restarting a dead `ip monitor` (ms). Default 200. */
  restartMs?: number;
  /** Poll the sysfs carrier bit this often (ms); 0 disables. Default 25. */
  carrierPollMs?: number;
  sysfsRoot?: string;
}

export class LinkWatcher {
  private readonly last = new Map<string, LinkSnapshot>();
  private child: ChildProcess | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  /** Bumped on every netlink event and carrier-poll change, so a slower sysfs read cannot overwrite them with older data. */
  private readonly generation = new Map<string, number>();
  private restartTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private fault: string | undefined;
  /** Consecutive quick deaths of `ip monitor`, for the restart back-off. */
  private quickDeaths = 0;
  private readonly watched: Set<string>;

  constructor(private readonly opts: LinkWatcherOptions) {
    this.watched = new Set(opts.ifnames);
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.spawnMonitor();
    await this.resync();
    const every = this.opts.resyncMs ?? 1000;
    this.resyncTimer = setInterval(() => void this.resync(), every);
    const poll = this.opts.carrierPollMs ?? 25;
    if (poll > 0) this.pollTimer = setInterval(() => this.pollCarrier(), poll);
  }

  stop(): void {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.kill('SIGTERM');
    this.child = undefined;
  }

  current(ifname: string): LinkSnapshot | undefined {
    return this.last.get(ifname);
  }

  /** The event source's current fault, if any (undefined when `ip monitor` runs). */
  currentFault(): string | undefined {
    return this.fault;
  }

  private async resync(): Promise<void> {
    const names = [...this.watched];
    const gens = names.map((n) => this.generation.get(n) ?? 0);
    const snaps = await Promise.all(names.map((n) => readLinkSysfs(n, this.opts.sysfsRoot)));
    if (this.stopped) return;
    snaps.forEach((s, i) => {
      // A netlink event or carrier poll landed while we were reading: it is newer.
      if ((this.generation.get(s.ifname) ?? 0) === gens[i]) this.update(s);
    });
  }

  private bump(ifname: string): void {
    this.generation.set(ifname, (this.generation.get(ifname) ?? 0) + 1);
  }

  /** The carrier bit only (a synchronous read of a one-byte sysfs file per link). */
  private pollCarrier(): void {
    const root = this.opts.sysfsRoot ?? '/sys/class/net';
    for (const name of this.watched) {
      const last = this.last.get(name);
      if (!last?.exists || !last.adminUp) continue; // admin changes are not delayed by linkwatch
      let carrier: boolean;
      try {
        carrier = readFileSync(path.join(root, name, 'carrier'), 'utf8').trim() === '1';
      } catch {
        void this.resync(); // gone or admin down: let the full read decide
        continue;
      }
      if (carrier !== last.carrier) {
        this.bump(name);
        this.update({ ...last, carrier, source: 'sysfs' });
      }
    }
  }

  private update(s: LinkSnapshot): void {
    if (!this.watched.has(s.ifname)) return;
    const prev = this.last.get(s.ifname);
    this.last.set(s.ifname, s);
    if (prev && prev.exists === s.exists && prev.adminUp === s.adminUp && prev.carrier === s.carrier && prev.operstate === s.operstate) {
      return;
    }
    this.opts.onChange(s);
  }

  private setFault(message: string | undefined): void {
    if (message === this.fault) return;
    this.fault = message;
    this.opts.onFault?.(message);
  }

  private spawnMonitor(): void {
    if (this.stopped) return;
    const cmd = this.opts.ipCommand ?? 'ip';
    const child = spawn(cmd, ['-o', 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-500);
    });
    child.once('spawn', () => {
      this.setFault(undefined);
      // Anything that changed while no monitor was listening is caught here.
      void this.resync();
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const s = parseIpMonitorLine(line);
      if (!s) return;
      this.bump(s.ifname);
      this.update(s);
    });
    const startedAt = performance.now();
    const onGone = (why: string) => {
      if (this.child !== child) return;
      this.child = undefined;
      if (this.stopped) return;
      // Back off when it keeps dying at once (no `ip` binary, no netlink): 200 ms … 5 s.
      this.quickDeaths = performance.now() - startedAt < 5000 ? this.quickDeaths + 1 : 0;
      const delay = Math.min(5000, (this.opts.restartMs ?? 200) * 2 ** Math.max(0, this.quickDeaths - 1));
      this.setFault(
        `\`${cmd} -o monitor link\` ${why}${stderr ? `: ${stderr.trim()}` : ''} — carrier changes are seen only by the ${this.opts.resyncMs ?? 1000} ms sysfs poll until it restarts (is iproute2 installed?)`,
      );
      this.restartTimer = setTimeout(() => this.spawnMonitor(), delay);
    };
    child.once('error', (err) => onGone(`failed to start (${err.message})`));
    child.once('exit', (code, signal) => onGone(`exited (${signal ?? `code ${code}`})`));
  }
}
