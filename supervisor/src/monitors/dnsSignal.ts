/**
 * The DNS cache's state as one signal's status and detail, shared by the WAN and centres
 * monitors (`wan.dns`, `centres.dns`). DNS trouble is a warning, never a failure: the
 * probes go on with the last good addresses.
 */
import { type DnsCache, describeEntry, entryState } from '../../../hardware/net/dnsCache.js';
import type { SignalStatus } from '../core/signal.js';

export function dnsSummary(
  dns: DnsCache,
  nowMono: number,
  what: { names: string; fault: string },
): { status: SignalStatus; failing: number; detail: string } | null {
  const names = dns.names();
  if (names.length === 0) return null;
  const entries = names.map((n) => dns.get(n)).filter((e) => e !== undefined);
  const failing = entries.filter((e) => e.error !== undefined);
  const waiting = entries.filter((e) => e.error === undefined && entryState(e) === 'none');
  const status: SignalStatus = failing.length > 0 ? 'warn' : waiting.length > 0 ? 'unknown' : 'ok';
  const head =
    failing.length > 0 ? `${failing.length} of ${entries.length} ${what.names} failing to resolve (${what.fault})` : `${entries.length} ${what.names} resolve`;
  return { status, failing: failing.length, detail: `${head} — ${entries.map((e) => describeEntry(e, nowMono)).join('; ')}` };
}
