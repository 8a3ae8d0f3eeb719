/**
 * Typed views of what chronyd reports through `chronyc -c` (CSV mode).
 * Field layouts: shared FACTS "Time via chrony" (chrony 4.3).
 */

export const LEAP_STATUSES = ['Normal', 'Insert second', 'Delete second', 'Not synchronised'] as const;
export type LeapStatus = (typeof LEAP_STATUSES)[number];

/** `chronyc -c tracking`: chronyd's view of the system clock against its reference. */
export interface Tracking {
  /** Reference ID as chronyc prints it: 8 hex digits (an IPv4 address, a hash, or a refclock name). */
  refId: string;
  /** Reference source address/name; empty before the first sync. */
  refName: string;
  stratum: number;
  /** When the reference was last updated, epoch seconds in NTP (corrected) time; 0 = never. */
  refTime: number;
  /**
   * How far the system clock is from NTP time, seconds.
   * **Positive = the system clock is SLOW** (behind), as chronyc's "x seconds slow of NTP time".
   */
  systemTimeS: number;
  lastOffsetS: number;
  rmsOffsetS: number;
  /** Clock frequency error, ppm; positive = slow. */
  freqPpm: number;
  residFreqPpm: number;
  skewPpm: number;
  rootDelayS: number;
  rootDispersionS: number;
  updateIntervalS: number;
  leapStatus: LeapStatus;
}

/** First column of `chronyc -c sources`. */
export type SourceMode = 'server' | 'peer' | 'refclock';

/**
 * Second column of `chronyc -c sources`:
 * `*` selected (the clock follows it), `+` combined, `-` not combined,
 * `x` falseticker, `~` too variable, `?` unusable / connectivity lost.
 */
export type SourceState = 'selected' | 'combined' | 'notCombined' | 'falseticker' | 'jittery' | 'unusable';

/** One row of `chronyc -c sources`. */
export interface NtpSourceInfo {
  mode: SourceMode;
  state: SourceState;
  /** Address (chronyc runs with -n, so numeric) or refclock name. */
  address: string;
  stratum: number;
  /** Polling interval, log2 seconds (-2 = 0.25 s, 6 = 64 s). */
  pollLog2: number;
  /**
   * Reach register as a number (chronyc prints it in OCTAL: 377 = 0xff = the
   * last 8 polls all answered; 0 = none of them).
   */
  reach: number;
  /** Seconds since the last good sample; null = never (chronyc prints 4294967295). */
  lastRxS: number | null;
  /** Offset of the last sample adjusted for later clock updates, seconds (chrony: positive = local clock ahead). */
  adjustedOffsetS: number;
  /** Offset as measured, seconds. */
  measuredOffsetS: number;
  /** Error margin of the sample (±), seconds. */
  errorS: number;
}

/** One row of `chronyc -c sourcestats`: chronyd's regression over a source's samples. */
export interface NtpSourceStats {
  address: string;
  /** Sample points retained. */
  samples: number;
  /** Runs of residuals with the same sign (few runs = not a straight line). */
  runs: number;
  spanS: number;
  freqPpm: number;
  freqSkewPpm: number;
  offsetS: number;
  stdDevS: number;
}

/** `chronyc -c serverstats`: what chronyd has served (the box is the centre's NTP server). */
export interface ServerStats {
  ntpPacketsReceived: number;
  ntpPacketsDropped: number;
  commandPacketsReceived: number;
  commandPacketsDropped: number;
  clientLogRecordsDropped: number;
  ntsKeConnectionsAccepted: number;
  ntsKeConnectionsDropped: number;
  authenticatedNtpPackets: number;
  interleavedNtpPackets: number;
  ntpTimestampsHeld: number;
  ntpTimestampSpanS: number;
}

/**
 * What the time monitor needs from a clock daemon. Implemented by the real
 * chronyc wrapper (`ChronycClient`) and by the simulated box.
 * Both methods reject with a `ChronyError` subclass when the daemon cannot
 * be asked or answers nonsense.
 */
export interface TimeSource {
  tracking(): Promise<Tracking>;
  sources(): Promise<NtpSourceInfo[]>;
}
