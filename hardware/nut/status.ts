/**
 * `ups.status` is a space-separated list of flags (NUT docs/new-drivers.txt):
 * OL on line, OB on battery, LB low battery, FSD forced shutdown (set by the
 * primary upsmon; it sticks in upsd until upsd restarts), RB replace battery,
 * OVER overload, BYPASS, OFF, CHRG/DISCHRG, TRIM/BOOST, CAL, ALARM, and WAIT
 * while upsd waits for a (re)starting driver's first data.
 */
export interface UpsStatusFlags {
  raw: string;
  flags: ReadonlySet<string>;
  online: boolean;
  onBattery: boolean;
  lowBattery: boolean;
  fsd: boolean;
  /** Driver (re)starting: no trustworthy data yet. */
  waiting: boolean;
  overload: boolean;
  replaceBattery: boolean;
}

export function parseUpsStatus(raw: string): UpsStatusFlags {
  const flags = new Set(raw.split(/\s+/).filter((f) => f.length > 0));
  return {
    raw,
    flags,
    online: flags.has('OL'),
    onBattery: flags.has('OB'),
    lowBattery: flags.has('LB'),
    fsd: flags.has('FSD'),
    waiting: flags.has('WAIT'),
    overload: flags.has('OVER'),
    replaceBattery: flags.has('RB'),
  };
}
