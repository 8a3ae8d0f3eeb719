/**
 * The box's host firewall as an nftables ruleset, rendered from vaktpost.yaml
 * (`firewall:`, `calls:`, `audiolog.rtpengine`, `api`). Pure: text out.
 *
 * Guarantees of the rendered ruleset (tested in a network namespace,
 * test/integration/apply/firewall.test.ts):
 * - inbound is dropped unless a rule below accepts it (loopback, replies to the box's own
 *   traffic, the ICMP/ICMPv6 that keeps IP working, DHCP replies if `firewall.dhcp`);
 * - SIP (calls.sip.port, its transports) only from calls.trunk.sources and the centres'
 *   addresses; the media ports (audiolog.rtpengine.portMin–portMax, only when calls are
 *   recorded and so anchored in rtpengine) from the same addresses;
 * - NTP (udp 123) and the web UI (api.port) only from firewall.lanNetworks and
 *   firewall.managementNetworks; SSH only from managementNetworks;
 * - the local control ports (Kamailio JSON-RPC, rtpengine ng, call events, SIPp's control
 *   port) have no rule: nobody outside the box reaches them.
 * It lives in its own table (`inet vaktpost`) and replaces only that table when loaded, so
 * ops/nftables/vaktpost-local.nft (local users) and a drill table are left alone.
 */
import { isIP } from 'node:net';
import { parseSipUri } from '../../../hardware/sip/uri.js';
import type { FirewallConfig } from '../config/firewall.js';
import type { VaktpostConfig } from '../config/schema.js';

export const FIREWALL_TABLE = 'vaktpost';

export interface FirewallPlan {
  text: string;
  /** Things the operator should know (printed by apply), e.g. SIP open to anyone. */
  notes: string[];
}

/** A config problem only the firewall sees (e.g. a centre named by host name). */
export class FirewallConfigError extends Error {}

const split = (nets: readonly string[]) => ({
  v4: nets.filter((n) => isIP(n.split('/')[0] ?? '') === 4),
  v6: nets.filter((n) => isIP(n.split('/')[0] ?? '') === 6),
});

function setDecl(name: string, type: 'ipv4_addr' | 'ipv6_addr', elements: readonly string[], comment: string): string[] {
  const uniq = [...new Set(elements)];
  return [
    `  # ${comment}`,
    `  set ${name} {`,
    `    type ${type}; flags interval; auto-merge;`,
    ...(uniq.length > 0 ? [`    elements = { ${uniq.join(', ')} }`] : []),
    '  }',
  ];
}

/** The centres' and the announcement's addresses from their URIs; loopback ones need no rule. */
function centreAddresses(cfg: VaktpostConfig): string[] {
  const calls = cfg.calls;
  if (!calls) return [];
  const out: string[] = [];
  const named: string[] = [];
  for (const [where, uris] of [
    ['calls.centres.local.uris', calls.centres.local.uris],
    ['calls.centres.backup.uris', calls.centres.backup.uris],
    ['calls.announcement.uris', calls.announcement.uris],
  ] as const) {
    for (const uri of uris) {
      const host = parseSipUri(uri).host;
      if (isIP(host) === 4) {
        if (!host.startsWith('127.')) out.push(host);
      } else named.push(`${where}: ${uri}`);
    }
  }
  if (named.length > 0) {
    throw new FirewallConfigError(
      `the firewall opens SIP to the centres by address, but ${named.join('; ')} names a host — write the IPv4 address in the URI, or set firewall.enabled: false and manage the firewall yourself`,
    );
  }
  return out;
}

export function renderFirewall(cfg: VaktpostConfig): FirewallPlan {
  const fw: FirewallConfig = cfg.firewall;
  const notes: string[] = [];
  const calls = cfg.calls;
  const trunk = calls?.trunk.sources ?? [];
  const centres = centreAddresses(cfg);
  const sipOpen = calls !== undefined && trunk.length === 0;
  if (sipOpen) notes.push('calls.trunk.sources is empty: SIP and media are open to every address (lab only) — list the carrier SBCs');
  const lan = split(fw.lanNetworks);
  const mgmt = split(fw.managementNetworks);
  if (fw.ssh.enabled && fw.managementNetworks.length === 0) {
    notes.push('firewall.managementNetworks is empty: SSH is closed from the network (console only)');
  }
  const recording = calls?.recording.enabled === true && cfg.audiolog?.enabled !== false;
  const rtp = cfg.audiolog?.rtpengine ?? { portMin: 30_000, portMax: 40_000 };

  const L: string[] = [
    '#!/usr/sbin/nft -f',
    '# Rendered by `vaktpost apply` from vaktpost.yaml (firewall, calls, audiolog, api) - do not edit;',
    '# change vaktpost.yaml and run `vaktpost apply`. ops/nftables/README.md explains every rule.',
    '# Loading it replaces only this table (the first two lines make that work on a fresh box too).',
    `table inet ${FIREWALL_TABLE}`,
    `delete table inet ${FIREWALL_TABLE}`,
    `table inet ${FIREWALL_TABLE} {`,
    ...setDecl('sip_peers', 'ipv4_addr', [...trunk, ...centres], 'calls.trunk.sources and the centres (calls.centres, calls.announcement)'),
    ...setDecl('lan4', 'ipv4_addr', lan.v4, 'firewall.lanNetworks (IPv4)'),
    ...setDecl('lan6', 'ipv6_addr', lan.v6, 'firewall.lanNetworks (IPv6)'),
    ...setDecl('mgmt4', 'ipv4_addr', mgmt.v4, 'firewall.managementNetworks (IPv4)'),
    ...setDecl('mgmt6', 'ipv6_addr', mgmt.v6, 'firewall.managementNetworks (IPv6)'),
    '',
    '  chain input {',
    '    type filter hook input priority filter; policy drop;',
    '    iif "lo" accept comment "the box itself (its control ports listen here)"',
    '    ct state established,related accept comment "replies to the box\'s own probes, calls and queries"',
    '    ct state invalid drop',
    '    meta l4proto icmp icmp type { echo-request, destination-unreachable, time-exceeded, parameter-problem } accept',
    '    meta l4proto ipv6-icmp icmpv6 type { echo-request, destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept',
  ];
  if (fw.dhcp) {
    L.push('    udp sport 67 udp dport 68 accept comment "DHCP replies (firewall.dhcp)"');
    L.push('    meta nfproto ipv6 udp sport 547 udp dport 546 accept comment "DHCPv6 replies (firewall.dhcp)"');
  }
  if (calls) {
    const from = sipOpen ? '' : 'ip saddr @sip_peers ';
    for (const proto of calls.sip.transports) {
      L.push(`    ${from}${proto} dport ${calls.sip.port} accept comment "SIP (calls.sip)"`);
    }
    if (recording) L.push(`    ${from}udp dport ${rtp.portMin}-${rtp.portMax} accept comment "media anchored in rtpengine (audiolog.rtpengine ports)"`);
  }
  // One rule per set: nft has no union of named sets in a match.
  const fromLanAndMgmt = (rule: string, comment: string) =>
    ['@lan4', '@mgmt4', '@lan6', '@mgmt6'].map((set) => `    ${set.endsWith('6') ? 'ip6' : 'ip'} saddr ${set} ${rule} accept comment "${comment}"`);
  L.push(...fromLanAndMgmt('udp dport 123', 'NTP for the centre (firewall.lanNetworks, managementNetworks)'));
  if (cfg.api.listen !== '127.0.0.1' && cfg.api.listen !== '::1' && cfg.api.listen !== 'localhost') {
    L.push(...fromLanAndMgmt(`tcp dport ${cfg.api.port}`, 'web UI and API (api.port)'));
  } else {
    notes.push(`api.listen is ${cfg.api.listen}: the web UI is reachable from this box only`);
  }
  if (fw.ssh.enabled) {
    L.push(
      `    ip saddr @mgmt4 tcp dport ${fw.ssh.port} accept comment "SSH (firewall.ssh, managementNetworks)"`,
      `    ip6 saddr @mgmt6 tcp dport ${fw.ssh.port} accept comment "SSH (firewall.ssh, managementNetworks)"`,
    );
  }
  if (fw.logDrops) L.push('    limit rate 10/second log prefix "vaktpost drop: " level info');
  L.push('    counter comment "dropped: everything else (the policy)"', '  }', '}', '');
  return { text: L.join('\n'), notes };
}
