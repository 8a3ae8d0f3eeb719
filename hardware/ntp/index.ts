export { SntpError, type SntpErrorCode } from './errors.js';
export {
  NTP_MODE,
  NTP_PACKET_SIZE,
  type LeapIndicator,
  type NtpPacket,
  decodePacket,
  emptyPacket,
  encodePacket,
  refIdText,
  sameTimestamp,
} from './packet.js';
export { type SntpQueryOptions, type SntpResult, preciseWallNow, sntpQuery } from './sntp.js';
export {
  NTP_UNIX_OFFSET_S,
  type NtpTimestamp,
  createPreciseWallClock,
  isZeroTimestamp,
  ntpToUnixMs,
  unixMsToNtp,
} from './timestamp.js';
