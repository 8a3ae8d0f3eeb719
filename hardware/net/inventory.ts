/**
 * Interface inventory and counters for the UI (systeminformation). NOT for the probe
 * path: `networkInterfaces()` runs synchronous child processes and blocks the event
 * loop for ~150 ms (measured here) — long enough to delay a whole probe round. It is
 * cached here and refreshed at most every `maxAgeMs`. `networkStats(iface)` is cheap
 * (~0.1 ms: it reads sysfs counters) and may be called per UI refresh.
 */
import { access } from 'node:fs/promises';
import si from 'systeminformation';

export interface InterfaceInfo {
  iface: string;
  mac: string;
  ip4: string;
  ip6: string;
  operstate: string;
  type: string;
  mtu: number | null;
  /** Link speed in Mbit/s when the driver reports it. */
  speedMbit: number | null;
  carrierChanges: number;
}

export interface InterfaceCounters {
  iface: string;
  operstate: string;
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDropped: number;
  txDropped: number;
  /** Bytes per second since the previous call for this interface (null on the first). */
  rxPerSec: number | null;
  txPerSec: number | null;
}

export class InterfaceInventory {
  private cache: { at: number; data: InterfaceInfo[] } | undefined;
  private pending: Promise<InterfaceInfo[]> | undefined;

  constructor(private readonly maxAgeMs = 60_000) {}

  /** Cached inventory; at most one (blocking) refresh in flight. */
  async interfaces(): Promise<InterfaceInfo[]> {
    if (this.cache && performance.now() - this.cache.at < this.maxAgeMs) return this.cache.data;
    this.pending ??= si
      .networkInterfaces()
      .then((list) =>
        (Array.isArray(list) ? list : [list]).map((n) => ({
          iface: n.iface,
          mac: n.mac,
          ip4: n.ip4,
          ip6: n.ip6,
          operstate: n.operstate,
          type: n.type,
          mtu: n.mtu,
          speedMbit: n.speed,
          carrierChanges: n.carrierChanges,
        })),
      )
      .then((data) => {
        this.cache = { at: performance.now(), data };
        return data;
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }
}

/** Counters for one interface (cheap; safe to call often). Undefined when it does not exist. */
export async function interfaceCounters(iface: string, sysfsRoot = '/sys/class/net'): Promise<InterfaceCounters | undefined> {
  // systeminformation answers zeros for an interface that does not exist: check first.
  if (!/^[A-Za-z0-9_.@-]{1,15}$/.test(iface)) return undefined;
  const exists = await access(`${sysfsRoot}/${iface}`).then(
    () => true,
    () => false,
  );
  if (!exists) return undefined;
  const [s] = await si.networkStats(iface);
  if (!s || s.iface !== iface) return undefined;
  const rate = (x: number) => (Number.isFinite(x) && x >= 0 ? x : null);
  return {
    iface: s.iface,
    operstate: s.operstate,
    rxBytes: s.rx_bytes,
    txBytes: s.tx_bytes,
    rxErrors: s.rx_errors,
    txErrors: s.tx_errors,
    rxDropped: s.rx_dropped,
    txDropped: s.tx_dropped,
    rxPerSec: rate(s.rx_sec),
    txPerSec: rate(s.tx_sec),
  };
}
