/**
 * Typed views of what chronyd reports through `chronyc -c` (CSV mode).
 * Field layouts: `chronyc -c` output of chrony 4.3, as read here.
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
 * One record of `chronyc -c ntpdata`: the last NTP packet chronyd got from a
 * source, as it was (before chronyd's tests). The only place chronyc shows
 * that an upstream answers but calls itself unsynchronised (leap 3 / stratum
 * 16): `sources` keeps the last good stratum and `*` for a few polls, and
 * `tracking` stays "Normal". Over chronyd's UDP command port it may be refused
 * (501); the Unix socket allows it.
 */
export interface NtpSourceData {
  /** Remote address (numeric with -n), matches `NtpSourceInfo.address`. */
  address: string;
  /** Leap indicator of the last packet. */
  leapStatus: LeapStatus;
  /** Stratum of the last packet (16 = unsynchronised, 0 = kiss-o'-death/unspecified). */
  stratum: number;
  /** Poll interval (log2 s) chronyd uses for it. */
  pollLog2: number;
  /** Root delay / dispersion the server advertised, seconds. */
  rootDelayS: number;
  rootDispersionS: number;
  /** Reference ID as hex (e.g. 54455354), and its text form ("TEST"; empty when unsynchronised). */
  refId: string;
  refName: string;
  /** RFC 5905 tests as chronyc prints them: "111" (1–3), "111" (5–7), "1111" (A–D); 1 = passed. */
  tests: string;
  totalTx: number;
  totalRx: number;
  /** Packets that were responses to our requests (a leap-3 reply is valid, not good). */
  totalValidRx: number;
  /** Packets whose sample chronyd could use. */
  totalGoodRx: number;
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
  /**
   * Optional: the last packet of each source (`chronyc -c ntpdata`). Without it
   * an upstream that answers "unsynchronised" is seen only as a lost source
   * (after the loss time) instead of at once.
   */
  ntpData?(): Promise<NtpSourceData[]>;
}
