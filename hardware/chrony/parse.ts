/**
 * Parsers for `chronyc -c` (CSV) output. Pure: text in, typed values out,
 * `ChronyParseError` naming the command, line and field otherwise.
 */
import { ChronyParseError } from './errors.js';
import {
  LEAP_STATUSES,
  type LeapStatus,
  type NtpSourceData,
  type NtpSourceInfo,
  type NtpSourceStats,
  type ServerStats,
  type SourceMode,
  type SourceState,
  type Tracking,
} from './types.js';

/** chronyc's "never" for lastRx (a 32-bit -1). */
export const LAST_RX_NEVER = 4294967295;

const MODES: Record<string, SourceMode> = { '^': 'server', '=': 'peer', '#': 'refclock' };
const STATES: Record<string, SourceState> = {
  '*': 'selected',
  '+': 'combined',
  '-': 'notCombined',
  x: 'falseticker',
  '~': 'jittery',
  '?': 'unusable',
};

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

class Row {
  constructor(
    private readonly cmd: string,
    private readonly line: string,
    private readonly fields: string[],
  ) {}

  static of(cmd: string, line: string, expected: number): Row {
    const fields = line.split(',');
    if (fields.length !== expected) {
      throw new ChronyParseError(
        `chronyc -c ${cmd}: expected ${expected} comma-separated fields, got ${fields.length} in "${line}" — is this chrony 4.x? (tested with chrony 4.3)`,
      );
    }
    return new Row(cmd, line, fields);
  }

  str(i: number): string {
    return this.fields[i] ?? '';
  }

  num(i: number, name: string): number {
    const raw = this.str(i);
    const v = raw === '' ? Number.NaN : Number(raw);
    if (!Number.isFinite(v)) this.fail(i, name, 'a number');
    return v;
  }

  int(i: number, name: string): number {
    const v = this.num(i, name);
    if (!Number.isInteger(v)) this.fail(i, name, 'an integer');
    return v;
  }

  fail(i: number, name: string, expected: string): never {
    throw new ChronyParseError(`chronyc -c ${this.cmd}: field ${i + 1} (${name}) is "${this.str(i)}", expected ${expected}, in "${this.line}"`);
  }
}

export function parseTracking(text: string): Tracking {
  const ls = lines(text);
  if (ls.length !== 1) {
    throw new ChronyParseError(`chronyc -c tracking: expected exactly one line, got ${ls.length}: "${text.trim()}"`);
  }
  const r = Row.of('tracking', ls[0] as string, 14);
  const leap = r.str(13);
  if (!(LEAP_STATUSES as readonly string[]).includes(leap)) {
    r.fail(13, 'leap status', LEAP_STATUSES.map((s) => `"${s}"`).join(' | '));
  }
  return {
    refId: r.str(0),
    refName: r.str(1),
    stratum: r.int(2, 'stratum'),
    refTime: r.num(3, 'ref time'),
    systemTimeS: r.num(4, 'system time'),
    lastOffsetS: r.num(5, 'last offset'),
    rmsOffsetS: r.num(6, 'RMS offset'),
    freqPpm: r.num(7, 'frequency'),
    residFreqPpm: r.num(8, 'residual frequency'),
    skewPpm: r.num(9, 'skew'),
    rootDelayS: r.num(10, 'root delay'),
    rootDispersionS: r.num(11, 'root dispersion'),
    updateIntervalS: r.num(12, 'update interval'),
    leapStatus: leap as LeapStatus,
  };
}

/** Parse chronyc's reach register, which it prints in octal (0–377). */
export function parseReach(octal: string): number | null {
  if (!/^[0-7]{1,3}$/.test(octal)) return null;
  const v = Number.parseInt(octal, 8);
  return v <= 0xff ? v : null;
}

export function parseSources(text: string): NtpSourceInfo[] {
  return lines(text).map((line) => {
    const r = Row.of('sources', line, 10);
    const mode = MODES[r.str(0)] ?? r.fail(0, 'mode', '^, = or #');
    const state = STATES[r.str(1)] ?? r.fail(1, 'state', 'one of * + - x ~ ?');
    const reach = parseReach(r.str(5)) ?? r.fail(5, 'reach', 'an octal number 0–377');
    const lastRx = r.int(6, 'last rx');
    return {
      mode,
      state,
      address: r.str(2),
      stratum: r.int(3, 'stratum'),
      pollLog2: r.int(4, 'poll'),
      reach,
      lastRxS: lastRx === LAST_RX_NEVER ? null : lastRx,
      adjustedOffsetS: r.num(7, 'adjusted offset'),
      measuredOffsetS: r.num(8, 'measured offset'),
      errorS: r.num(9, 'error'),
    };
  });
}

export function parseSourceStats(text: string): NtpSourceStats[] {
  return lines(text).map((line) => {
    const r = Row.of('sourcestats', line, 8);
    return {
      address: r.str(0),
      samples: r.int(1, 'samples'),
      runs: r.int(2, 'runs'),
      spanS: r.num(3, 'span'),
      freqPpm: r.num(4, 'frequency'),
      freqSkewPpm: r.num(5, 'frequency skew'),
      offsetS: r.num(6, 'offset'),
      stdDevS: r.num(7, 'std dev'),
    };
  });
}

/**
 * `chronyc -c ntpdata` (chrony 4.3: 34 fields per source; one line per NTP
 * source, refclocks have none). Fields used: 1 remote address, 6 leap status,
 * 9 stratum, 10 poll, 14/15 root delay/dispersion, 16/17 reference ID,
 * 24–26 tests, 31–34 total TX / RX / valid RX / good RX.
 */
export function parseNtpData(text: string): NtpSourceData[] {
  return lines(text).map((line) => {
    const r = Row.of('ntpdata', line, 34);
    const leap = r.str(5);
    if (!(LEAP_STATUSES as readonly string[]).includes(leap)) {
      r.fail(5, 'leap status', LEAP_STATUSES.map((s) => `"${s}"`).join(' | '));
    }
    return {
      address: r.str(0),
      leapStatus: leap as LeapStatus,
      stratum: r.int(8, 'stratum'),
      pollLog2: r.int(9, 'poll'),
      rootDelayS: r.num(13, 'root delay'),
      rootDispersionS: r.num(14, 'root dispersion'),
      refId: r.str(15),
      refName: r.str(16),
      tests: `${r.str(23)} ${r.str(24)} ${r.str(25)}`,
      totalTx: r.int(30, 'total TX'),
      totalRx: r.int(31, 'total RX'),
      totalValidRx: r.int(32, 'total valid RX'),
      totalGoodRx: r.int(33, 'total good RX'),
    };
  });
}

/** `chronyc -c serverstats` (chrony 4.3: 11 counters). Needs the Unix socket: over UDP it is "501 Not authorised". */
export function parseServerStats(text: string): ServerStats {
  const ls = lines(text);
  if (ls.length !== 1) {
    throw new ChronyParseError(`chronyc -c serverstats: expected exactly one line, got ${ls.length}: "${text.trim()}"`);
  }
  const r = Row.of('serverstats', ls[0] as string, 11);
  return {
    ntpPacketsReceived: r.int(0, 'NTP packets received'),
    ntpPacketsDropped: r.int(1, 'NTP packets dropped'),
    commandPacketsReceived: r.int(2, 'command packets received'),
    commandPacketsDropped: r.int(3, 'command packets dropped'),
    clientLogRecordsDropped: r.int(4, 'client log records dropped'),
    ntsKeConnectionsAccepted: r.int(5, 'NTS-KE connections accepted'),
    ntsKeConnectionsDropped: r.int(6, 'NTS-KE connections dropped'),
    authenticatedNtpPackets: r.int(7, 'authenticated NTP packets'),
    interleavedNtpPackets: r.int(8, 'interleaved NTP packets'),
    ntpTimestampsHeld: r.int(9, 'NTP timestamps held'),
    ntpTimestampSpanS: r.num(10, 'NTP timestamp span'),
  };
}

/** Format a reach register the way chronyc shows it (octal). */
export function reachOctal(reach: number): string {
  return reach.toString(8);
}
