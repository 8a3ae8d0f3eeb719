/**
 * Who owns the other end of a loopback TCP connection, from the kernel's socket
 * table (/proc/net/tcp). The supervisor asks before it sends Kamailio its RPC
 * key: a local user who binds the RPC port while Kamailio is down (a restart,
 * or boot before Kamailio is up) would otherwise be handed the key by the
 * supervisor's next request. A connection the kernel accepted on the listener's
 * behalf carries the listener's uid, even before the listener calls accept().
 */
import { readFile } from 'node:fs/promises';

/** `127.0.0.1:port` as /proc/net/tcp prints it (little-endian address, hex port). */
function procAddress(port: number): string {
  return `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The uid owning the socket at 127.0.0.1:`serverPort` whose peer is our
 * 127.0.0.1:`clientPort`; null if the kernel lists no such connection.
 */
export async function loopbackPeerUid(serverPort: number, clientPort: number, table = '/proc/net/tcp'): Promise<number | null> {
  const text = await readFile(table, 'utf8');
  const local = procAddress(serverPort);
  const remote = procAddress(clientPort);
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local rem st tx:rx tr:when retrnsmt uid …
    if (f[1] === local && f[2] === remote) {
      const uid = Number(f[7]);
      return Number.isInteger(uid) ? uid : null;
    }
  }
  return null;
}
