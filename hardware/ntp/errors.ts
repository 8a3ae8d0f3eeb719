/** Why an SNTP query gave no usable answer. Each message names the cause and what to check. */
export type SntpErrorCode = 'timeout' | 'resolve' | 'refused' | 'socket' | 'kiss-of-death' | 'bad-reply';

export class SntpError extends Error {
  override readonly name = 'SntpError';
  constructor(
    readonly code: SntpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
