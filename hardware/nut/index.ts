/** NUT (Network UPS Tools) driver library: a small upsd client and the reader interface. */
export { NutClient, type NutClientEvents, type NutClientOptions } from './client.js';
export {
  errFromLine,
  formatRequest,
  NUT_ERROR_CODES,
  NutError,
  type NutErrorCode,
  type NutTransportCode,
  parseVarList,
  quoteArg,
  tokenizeLine,
} from './protocol.js';
export type { UpsReader } from './reader.js';
export { parseUpsStatus, type UpsStatusFlags } from './status.js';
