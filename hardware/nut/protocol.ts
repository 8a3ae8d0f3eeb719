/**
 * The NUT network protocol's line format (docs/net-protocol.txt in NUT):
 * one request or reply per `\n`-terminated line, words separated by spaces,
 * a word with spaces or quotes sent inside double quotes, and `"` / `\`
 * inside a quoted word escaped with a backslash. upsd parses requests with
 * the same rules (its pconf parser), so a password such as `s3cr"et` must go
 * out as `"s3cr\"et"` or upsd answers `ERR INVALID-ARGUMENT`.
 */

/** Characters that force a word into quotes: anything that would split or start a quoted word. */
const NEEDS_QUOTES = /[\s"\\#]/;

/** Quote one request argument so upsd reads it back byte for byte. */
export function quoteArg(word: string): string {
  if (word.includes('\n') || word.includes('\r')) {
    // A newline would end the request line early and desynchronise every later reply.
    throw new Error(`NUT argument must not contain a line break: ${JSON.stringify(word)}`);
  }
  if (word !== '' && !NEEDS_QUOTES.test(word)) return word;
  return `"${word.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Build one request line (without the trailing newline). */
export function formatRequest(words: readonly string[]): string {
  return words.map(quoteArg).join(' ');
}

/**
 * Split one reply line into words, honouring quotes and backslash escapes.
 * Throws on an unterminated quote (a truncated or corrupt line).
 */
export function tokenizeLine(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let inQuotes = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i] as string;
      inWord = true;
      continue;
    }
    if (inQuotes) {
      if (ch === '"') inQuotes = false;
      else cur += ch;
      continue;
    }
    if (ch === '"') {
      inQuotes = true;
      inWord = true;
      continue;
    }
    if (ch === ' ' || ch === '\t') {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    cur += ch;
    inWord = true;
  }
  if (inQuotes) throw new Error(`unterminated quote in NUT reply: ${JSON.stringify(line)}`);
  if (inWord) words.push(cur);
  return words;
}

/** ERR codes upsd sends (NUT 2.8 docs/net-protocol.txt, "Error responses"). */
export const NUT_ERROR_CODES = [
  'ACCESS-DENIED',
  'UNKNOWN-UPS',
  'VAR-NOT-SUPPORTED',
  'CMD-NOT-SUPPORTED',
  'INVALID-ARGUMENT',
  'INSTCMD-FAILED',
  'SET-FAILED',
  'READONLY',
  'TOO-LONG',
  'FEATURE-NOT-SUPPORTED',
  'FEATURE-NOT-CONFIGURED',
  'ALREADY-SSL-MODE',
  'DRIVER-NOT-CONNECTED',
  'DATA-STALE',
  'ALREADY-LOGGED-IN',
  'INVALID-PASSWORD',
  'ALREADY-SET-PASSWORD',
  'INVALID-USERNAME',
  'ALREADY-SET-USERNAME',
  'USERNAME-REQUIRED',
  'PASSWORD-REQUIRED',
  'UNKNOWN-COMMAND',
  'INVALID-VALUE',
] as const;
export type NutErrorCode = (typeof NUT_ERROR_CODES)[number];

/**
 * Codes for failures that are not an `ERR` line from upsd but still a
 * monitoring fault of the same UPS: the TCP connection, a request timeout,
 * a reply we could not parse.
 */
export type NutTransportCode = 'CONNECT-FAILED' | 'CONNECTION-LOST' | 'TIMEOUT' | 'PROTOCOL' | 'CLOSED';

/** Short explanations and fixes for the ERR codes a monitoring client meets in practice. */
const HINTS: Partial<Record<NutErrorCode, string>> = {
  'ACCESS-DENIED': 'wrong user or password, or the user lacks `upsmon secondary` (or `actions = LOGIN`) in upsd.users',
  'UNKNOWN-UPS': 'no UPS of that name on this upsd — check the section names in ups.conf and the name in vaktpost.yaml',
  'DATA-STALE': 'the driver stopped updating (hung, or the UPS stopped answering) — check the driver process and the cable',
  'DRIVER-NOT-CONNECTED': 'upsd cannot reach the UPS driver — is the driver running? (`upsdrvctl start`, or the driver unit)',
  'VAR-NOT-SUPPORTED': 'this UPS does not report that variable',
  'USERNAME-REQUIRED': 'LOGIN needs USERNAME first',
  'PASSWORD-REQUIRED': 'LOGIN needs PASSWORD first',
  'ALREADY-LOGGED-IN': 'this connection already logged in to a UPS (use one connection per UPS)',
  'UNKNOWN-COMMAND': 'upsd does not know this command (older NUT?)',
  'INVALID-ARGUMENT': 'upsd could not parse the request (quoting?)',
};

/** A failure talking to upsd, with the ERR code (or a transport code) kept machine-readable. */
export class NutError extends Error {
  override readonly name = 'NutError';
  constructor(
    readonly code: NutErrorCode | NutTransportCode | string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True for upsd `ERR` replies (as opposed to TCP or timeout problems). */
  get isServerError(): boolean {
    return (NUT_ERROR_CODES as readonly string[]).includes(this.code);
  }
}

/** Turn an `ERR <code> [extra]` line into a NutError that names the request, the cause and the fix. */
export function errFromLine(words: readonly string[], request: string, where: string): NutError {
  const code = words[1] ?? 'UNKNOWN';
  const extra = words.slice(2).join(' ');
  const hint = HINTS[code as NutErrorCode];
  const msg = `upsd at ${where} answered ERR ${code}${extra ? ` (${extra})` : ''} to "${redact(request)}"` + (hint ? ` — ${hint}` : '');
  return new NutError(code, msg);
}

/** Never put a password in an error message or a log line. */
export function redact(request: string): string {
  return request.startsWith('PASSWORD ') ? 'PASSWORD ***' : request;
}

/**
 * What a request's reply looks like: a single line (`OK`, `VAR …`, the VER
 * banner) or a `BEGIN LIST …` … `END LIST …` block.
 */
export type ReplyShape = 'line' | 'list';

/** Parse the lines of a `LIST VAR <ups>` reply into a name → value map. */
export function parseVarList(lines: readonly string[][], ups: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const w of lines) {
    if (w[0] !== 'VAR' || w[1] !== ups || w.length < 4) {
      throw new NutError('PROTOCOL', `unexpected line in LIST VAR ${ups}: ${JSON.stringify(w.join(' '))}`);
    }
    vars.set(w[2] as string, w[3] as string);
  }
  return vars;
}
