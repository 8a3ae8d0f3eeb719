/**
 * The CLI's exit codes: sysexits(3) for errors, so a script or systemd can tell a typo in
 * the command line from a bad config from a supervisor that is not running. Commands whose
 * answer is a verdict use small codes of their own (below 64), listed in COMMAND_RESULTS.
 * README's "CLI" section prints this table; keep the two in step.
 */
export const EXIT = {
  ok: 0,
  /** EX_USAGE: unknown command or option, a missing or malformed argument. */
  usage: 64,
  /** EX_DATAERR: the config is invalid, or the supervisor refused the request's data (400/404/409/422). */
  dataErr: 65,
  /** EX_UNAVAILABLE: the command needs the running supervisor and it is not running or not answering. */
  unavailable: 69,
  /** EX_SOFTWARE: an internal error (a bug, or the supervisor answered 5xx). */
  software: 70,
  /** EX_CANTCREAT: an output file cannot be written (no such folder, disk full, read-only). */
  cantCreate: 73,
  /** EX_NOPERM: no permission (the CLI token or a file is unreadable: run as root; the API said 401/403). */
  noPerm: 77,
  /** EX_CONFIG: the box is in a state this version cannot run on (a store written by a newer version). */
  config: 78,
} as const;

/** Verdicts of single commands, documented with them in README. */
export const COMMAND_RESULTS = {
  status: { normal: 0, degraded: 1, critical: 2, unknown: 3 },
  drillFailed: 3,
  reportTargetMissed: 4,
  audiologVerifyFailed: 1,
} as const;

/** An error that carries its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

/** The exit code for a failed API answer. */
export function exitForHttpStatus(status: number): number {
  if (status === 401 || status === 403) return EXIT.noPerm;
  // 503: the supervisor is up but the part asked for is not (e.g. the flows are off).
  if (status === 503) return EXIT.unavailable;
  if (status >= 500) return EXIT.software;
  return EXIT.dataErr;
}

/** The exit code for a file-system error (errno code), or undefined when it is not one. */
export function exitForErrno(code: string | undefined): number | undefined {
  if (code === 'EACCES' || code === 'EPERM') return EXIT.noPerm;
  if (code && ['ENOENT', 'ENOTDIR', 'EISDIR', 'ENOSPC', 'EROFS', 'EEXIST', 'EDQUOT'].includes(code)) return EXIT.cantCreate;
  return undefined;
}
