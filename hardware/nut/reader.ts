/**
 * The one thing the UPS monitor needs from a UPS source. Implemented by the
 * real NUT client (`NutClient`) and by the simulated box (`hardware/sim`), so
 * the monitor runs unchanged against either.
 *
 * `listVars` resolves with every variable upsd knows for `ups`
 * (`ups.status` → `"OB LB"`, `battery.charge` → `"42"`, …) or rejects with an
 * Error whose message names the cause and the fix. A rejection is a
 * monitoring fault, never a statement about mains power.
 */
export interface UpsReader {
  listVars(ups: string): Promise<Map<string, string>>;
  /** Release sockets and timers. */
  close?(): Promise<void>;
}
