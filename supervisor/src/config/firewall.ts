/**
 * The host firewall `vaktpost apply` renders (ops/nftables/README.md): inbound is
 * dropped unless a rule below lets it in. SIP and the media ports are opened only
 * to the trunk (`calls.trunk.sources`) and the centres (`calls.centres`); NTP, the
 * web UI and SSH only to the networks named here. The local control ports (Kamailio
 * RPC, rtpengine ng, call events, SIPp's control port) get no rule: never reachable
 * from outside the box.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

/** An IPv4 or IPv6 address or CIDR block: `10.20.0.0/24`, `10.20.9.5`, `fd00:20::/64`. */
export function isNetwork(s: string): boolean {
  const [addr, bits, extra] = s.split('/');
  if (extra !== undefined || addr === undefined) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (bits === undefined) return true;
  const max = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

const network = z.string().refine(isNetwork, { message: 'expected an IP address or CIDR block like 10.20.0.0/24 (IPv6: fd00::/64)' });

export const firewallSchema = z.strictObject({
  /** false: `vaktpost apply` renders no ruleset (the box's firewall is managed elsewhere). */
  enabled: z.boolean().default(true),
  /**
   * Where the ruleset is written (root's, 0600). Not in box.dataDir: root loads it, and
   * the service user, who owns the data dir, must not be able to change what root loads.
   */
  rulesetFile: z.string().startsWith('/', { message: 'an absolute path' }).default('/etc/vaktpost/vaktpost.nft'),
  /**
   * The centre's own LAN(s): operator PCs, the phone system, the recorder. They may use
   * the box's NTP server (chrony `allow` is rendered from this list too) and the web UI.
   */
  lanNetworks: z.array(network).default([]),
  /** Where technicians work from: SSH, the web UI and NTP. Keep it small. */
  managementNetworks: z.array(network).default([]),
  ssh: z
    .strictObject({
      /** Let SSH in from managementNetworks. Turn off only with console access to the box. */
      enabled: z.boolean().default(true),
      port: z.number().int().min(1).max(65535).default(22),
    })
    .prefault({}),
  /** Accept DHCP replies (an uplink or the LAN gets its address by DHCP). */
  dhcp: z.boolean().default(true),
  /** Log dropped packets (rate-limited, prefix "vaktpost drop: ") — for finding a missing network. */
  logDrops: z.boolean().default(false),
});

export type FirewallConfig = z.infer<typeof firewallSchema>;
