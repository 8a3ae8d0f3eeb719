/**
 * A centre's SIP side for the test-bed: a real Kamailio, answering OPTIONS with
 * 200 and everything else with 403, listening on the centre's address in its own
 * namespace. Killing it makes the centre "dead while its host and the WAN are fine".
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NsProcess } from './nsProcess.js';

const MODULES = '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export function centreKamailioCfg(address: string, port: number): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
auto_aliases=no
dns=no
rev_dns=no
listen=udp:${address}:${port}
mpath="${MODULES}"
loadmodule "sl.so"
request_route {
  if (method=="OPTIONS") { sl_send_reply("200", "OK"); exit; }
  sl_send_reply("403", "Test-bed centre answers OPTIONS only");
}
`;
}

export async function startSipCentre(ns: string, address: string, port: number, parentDir: string, label: string): Promise<NsProcess> {
  const dir = path.join(parentDir, label);
  await mkdir(dir, { recursive: true });
  const cfg = path.join(dir, 'kamailio.cfg');
  await writeFile(cfg, centreKamailioCfg(address, port));
  return NsProcess.start({
    ns,
    cmd: 'kamailio',
    args: ['-DD', '-E', '-f', cfg, '-Y', dir, '-P', path.join(dir, 'kamailio.pid'), '-m', '16', '-M', '4'],
    ready: /Listening on|INFO: <core>.*main.c.*/,
    readyTimeoutMs: 30_000,
    label: `kamailio (${label})`,
  });
}
