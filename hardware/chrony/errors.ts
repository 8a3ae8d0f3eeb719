/**
 * Why chronyd could not tell us the time. Each subclass carries a message that
 * names the cause and the fix; `code` allows switching without instanceof.
 */
export type ChronyErrorCode = 'not-running' | 'not-authorised' | 'not-synchronised' | 'unparsable' | 'chronyc-failed';

export abstract class ChronyError extends Error {
  abstract readonly code: ChronyErrorCode;
}

/** chronyc could not reach chronyd: "506 Cannot talk to daemon" / "Could not open connection to daemon". */
export class ChronydNotRunningError extends ChronyError {
  override readonly name = 'ChronydNotRunningError';
  readonly code = 'not-running';
}

/** chronyd refused the command: "501 Not authorised". */
export class ChronyNotAuthorisedError extends ChronyError {
  override readonly name = 'ChronyNotAuthorisedError';
  readonly code = 'not-authorised';
}

/** chronyd runs but has no synchronised reference (leap status "Not synchronised"). */
export class ChronyNotSynchronisedError extends ChronyError {
  override readonly name = 'ChronyNotSynchronisedError';
  readonly code = 'not-synchronised';
}

/** chronyc answered, but not in the CSV layout we know (another chrony version?). */
export class ChronyParseError extends ChronyError {
  override readonly name = 'ChronyParseError';
  readonly code = 'unparsable';
}

/** chronyc itself failed: missing binary, timeout, unexpected exit. */
export class ChronycFailedError extends ChronyError {
  override readonly name = 'ChronycFailedError';
  readonly code = 'chronyc-failed';
}
