/**
 * The box's control secret: what makes the supervisor the only local process
 * that can steer the call path. Kamailio's JSON-RPC (`dispatcher.set_state`
 * moves the emergency calls) and its call events to the supervisor both listen
 * on loopback ports that every local user can reach; without a secret any
 * unprivileged account on the box could fail the centre over or forge "call not
 * recorded" alarms. So:
 *   - the supervisor sends `Authorization: Bearer <secret>` with every RPC, and
 *     the rendered kamailio.cfg refuses any request whose header does not hash
 *     to the rendered SHA-256 (403);
 *   - Kamailio puts the secret in every call event, and the supervisor drops
 *     (counts, alarms on) events without it.
 * Each use gets its own key, derived from the secret (controlKeys): the RPC key
 * is never written into kamailio.cfg (only its hash), and the events key —
 * which the cfg does hold, and which a process squatting the events port while
 * the supervisor is down could read — opens nothing but the events port.
 * The secret is 32 random bytes (hex) in `<calls.configDir>/control.secret`,
 * mode 0600, created on first use by whichever of `vaktpost kamailio-render`
 * and the supervisor comes first (both read the same vaktpost.yaml, so the
 * same path). Kamailio gets it only through its rendered cfg, also 0600.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { KamailioRpc } from '../../../../hardware/kamailio/rpc.js';
import type { CallsConfig } from '../../config/calls.js';

/** Hex, 32–128 characters: safe inside a Kamailio cfg string and a UDP datagram field. */
export const CONTROL_SECRET_FORMAT = /^[0-9a-f]{32,128}$/;

export interface ControlKeys {
  /** Sent by the supervisor as `Authorization: Bearer <rpc>`; the cfg holds only SHA-256("Bearer <rpc>"). */
  rpc: string;
  /** In every call event Kamailio sends (so it is in the cfg verbatim). */
  events: string;
}

/** One key per use, HMAC-SHA-256 of the control secret (hex). */
export function controlKeys(secret: string): ControlKeys {
  const key = (purpose: string) => createHmac('sha256', secret).update(`vaktpost control key: ${purpose}`).digest('hex');
  return { rpc: key('kamailio json-rpc'), events: key('call events') };
}

export function controlSecretPathOf(calls: Pick<CallsConfig, 'configDir'>): string {
  return path.join(calls.configDir, 'control.secret');
}

/**
 * The secret in `file`, created (0600, exclusive: two starters cannot write two
 * different secrets) if it does not exist. A file others could read is made
 * owner-only again. Synchronous: called once at start-up, before anything listens.
 */
export function loadControlSecret(file: string): string {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const fd = openSync(file, 'wx', 0o600);
    try {
      writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new Error(
        `cannot create the control secret ${file} (${(err as Error).message}) — check that ${path.dirname(file)} exists and is writable by the supervisor (calls.configDir)`,
      );
    }
  }
  const fd = openSync(file, 'r');
  let text: string;
  try {
    if ((fstatSync(fd).mode & 0o077) !== 0) chmodSync(file, 0o600);
    text = readFileSync(fd, 'utf8').trim();
  } finally {
    closeSync(fd);
  }
  if (!CONTROL_SECRET_FORMAT.test(text)) {
    throw new Error(
      `the control secret ${file} is not 32–128 lowercase hex characters — delete it; the next \`vaktpost kamailio-render\` creates a new one (then restart Kamailio and the supervisor)`,
    );
  }
  return text;
}

/** The box's control secret for this `calls:` section (created on first use). */
export function controlSecretOf(calls: Pick<CallsConfig, 'configDir'>): string {
  return loadControlSecret(controlSecretPathOf(calls));
}

/**
 * The supervisor's JSON-RPC client for Kamailio, authenticated with the control secret.
 * The port may be held by `calls.rpc.trustedUids` or by the supervisor's own uid: the
 * packaged units run Kamailio as the supervisor's user `vaktpost` (ops/systemd/README.md),
 * and a process of that user can read the secret anyway, so trusting it gives nothing away.
 */
export function kamailioRpcFromConfig(calls: Pick<CallsConfig, 'configDir' | 'rpc'>, secret = controlSecretOf(calls)): KamailioRpc {
  const trustedUids = [...new Set([...calls.rpc.trustedUids, process.getuid?.() ?? 0])];
  return new KamailioRpc({ port: calls.rpc.port, timeoutMs: calls.rpc.timeoutMs, secret: controlKeys(secret).rpc, trustedUids });
}
