/**
 * NTP timestamps (RFC 5905 §6): 32-bit seconds since 1900-01-01 plus a 32-bit
 * binary fraction. Converted to and from Unix epoch milliseconds (floats, so
 * sub-millisecond parts survive).
 */

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;
const ERA_S = 2 ** 32;
const FRAC = 2 ** 32;

export interface NtpTimestamp {
  seconds: number; // unsigned 32-bit
  fraction: number; // unsigned 32-bit
}

export function unixMsToNtp(ms: number): NtpTimestamp {
  const totalS = ms / 1000 + NTP_UNIX_OFFSET_S;
  let seconds = Math.floor(totalS);
  let fraction = Math.round((totalS - seconds) * FRAC);
  if (fraction >= FRAC) {
    seconds += 1;
    fraction = 0;
  }
  return { seconds: seconds % ERA_S, fraction };
}

/**
 * Convert back to Unix ms. The 32-bit seconds field wraps every 136 years
 * (next in 2036), so the era is chosen that puts the result closest to
 * `pivotMs` (our own clock) — right as long as the two differ by < 68 years.
 */
export function ntpToUnixMs(ts: NtpTimestamp, pivotMs: number): number {
  const inEraS = ts.seconds + ts.fraction / FRAC;
  const pivotNtpS = pivotMs / 1000 + NTP_UNIX_OFFSET_S;
  const era = Math.round((pivotNtpS - inEraS) / ERA_S);
  return (inEraS + era * ERA_S - NTP_UNIX_OFFSET_S) * 1000;
}

export function isZeroTimestamp(ts: NtpTimestamp): boolean {
  return ts.seconds === 0 && ts.fraction === 0;
}

/**
 * Wall-clock time with sub-millisecond resolution.
 * `Date.now()` only has 1 ms steps, which alone would cost up to ±1 ms per
 * timestamp; the monotonic clock fills in the fraction. The anchor is taken
 * right at a `Date.now()` tick (a ≤ 1 ms spin, once) so it carries no
 * truncation error. When the estimate and `Date.now()` disagree by more than
 * the 1 ms tick allows (a wall-clock step, or chronyd slewing), it re-anchors:
 * steps are followed, never hidden.
 */
export function createPreciseWallClock(): () => number {
  let anchorWall = 0;
  let anchorMono = 0;
  const anchor = (): void => {
    const start = Date.now();
    let wall = start;
    // Spin to the next millisecond tick (bounded: the tick comes within 1 ms).
    while (wall === start) wall = Date.now();
    anchorWall = wall;
    anchorMono = performance.now();
  };
  anchor();
  return () => {
    const est = anchorWall + (performance.now() - anchorMono);
    const skew = est - Date.now(); // in [0, 1) while nothing moved
    if (skew > 1.5 || skew < -0.5) {
      anchor();
      return anchorWall + (performance.now() - anchorMono);
    }
    return est;
  };
}
