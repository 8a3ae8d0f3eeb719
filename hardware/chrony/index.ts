export { type ChronycOptions, ChronycClient, requireSynchronised } from './chronyc.js';
export {
  ChronyError,
  type ChronyErrorCode,
  ChronycFailedError,
  ChronydNotRunningError,
  ChronyNotAuthorisedError,
  ChronyNotSynchronisedError,
  ChronyParseError,
} from './errors.js';
export {
  LAST_RX_NEVER,
  parseNtpData,
  parseReach,
  parseServerStats,
  parseSourceStats,
  parseSources,
  parseTracking,
  reachOctal,
} from './parse.js';
export {
  LEAP_STATUSES,
  type LeapStatus,
  type NtpSourceData,
  type NtpSourceInfo,
  type NtpSourceStats,
  type ServerStats,
  type SourceMode,
  type SourceState,
  type TimeSource,
  type Tracking,
} from './types.js';
