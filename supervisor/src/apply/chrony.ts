/**
 * The part of chronyd's config that depends on this box, rendered from vaktpost.yaml:
 * the upstream servers (`time.chronyd.sources`) and which networks may use the box as
 * their NTP server (`allow` for firewall.lanNetworks and managementNetworks — the same
 * networks the firewall lets through to udp 123). Pure: text out. The static rest
 * (stratum fallback, makestep, command socket) is ops/chrony/chrony.conf, which reads
 * this file through `confdir /etc/chrony/conf.d`.
 */
import type { VaktpostConfig } from '../config/schema.js';

export function renderChronyConf(cfg: VaktpostConfig): string {
  const L = [
    '# Rendered by `vaktpost apply` from vaktpost.yaml (time.chronyd, firewall) - do not edit.',
    "# Upstream NTP. maxpoll 6 (64 s): Vaktpost's time.maxSourceLossS must exceed the longest poll interval.",
  ];
  for (const s of cfg.time.chronyd.sources) {
    L.push(s.kind === 'pool' ? `pool ${s.host} iburst maxpoll 6 maxsources 4` : `server ${s.host} iburst maxpoll 6`);
  }
  const nets = [...new Set([...cfg.firewall.lanNetworks, ...cfg.firewall.managementNetworks])];
  L.push('# NTP for the centre: the LAN and management networks (the firewall opens udp 123 to the same).');
  if (nets.length === 0) L.push('# (firewall.lanNetworks and managementNetworks are empty: the box serves no one)');
  for (const n of nets) L.push(`allow ${n}`);
  return `${L.join('\n')}\n`;
}
