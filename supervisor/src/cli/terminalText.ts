/**
 * Text from the store or the API, made safe to print on a terminal (issue #17). A user
 * name like "\u001b]0;pwned\u0007\u001b[31mX" in a failed login must not retitle the
 * window, recolour, move the cursor or rewrite earlier lines when an admin runs
 * `vaktpost events`. Every control character is shown as a visible `\uXXXX` escape
 * instead of being sent to the terminal:
 *  - C0 (U+0000–U+001F: ESC, BEL, BS, CR, …) and DEL (U+007F);
 *  - C1 (U+0080–U+009F: CSI, OSC, … — single-character escape sequences);
 *  - bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069, U+200E/F,
 *    U+061C), which reorder what is shown ("Trojan Source").
 * `\uXXXX` is also a JSON string escape, so JSON output stays valid JSON with the same
 * value (JSON.stringify escapes C0 itself but leaves C1 and bidi characters raw).
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
/** The same, except line feed, tab and the CR of a CRLF: the layout of a whole output. */
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|\r(?!\n)/g;

const visible = (c: string) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`;

/** One field on one line: every control character escaped, line breaks and tabs too. */
export function oneLine(s: string): string {
  return s.replace(CONTROL, visible);
}

/**
 * A whole output (lines we formatted around stored text, CSV, JSON): its line breaks and
 * tabs kept, every other control character escaped.
 */
export function textForTerminal(s: string): string {
  return s.replace(CONTROL_IN_TEXT, visible);
}
