/**
 * Moves calls between the local and the backup centre by switching Kamailio's
 * dispatcher at run time (JSON-RPC), and reads back what Kamailio really does.
 *
 *  - `backup`: every local destination → state `d` (disabled). Not `i`: the next
 *    good keepalive turns an inactive destination active again within ~1 s.
 *  - `local`: disabled local destinations → `ap` (active, probed). Kamailio's own
 *    keepalives and failure_route still protect each call if local then fails.
 *  - Backup destinations are never disabled; one found disabled is re-enabled.
 *  - Every change is confirmed by reading `dispatcher.list` back.
 *  - A Kamailio restart or `dispatcher.reload` resets every state to the list
 *    file: `observe()` then reports the drift (and `core.uptime`/`core.ps` the restart) so
 *    the reconciler re-applies. With `persist` (the supervisor always sets it) the
 *    list file itself follows the target — written atomically alongside the RPCs, so
 *    a restart comes back already on the right route even with the supervisor down.
 *  - `verify` takes an AbortSignal: a new target pre-empts it (the test call is killed).
 */
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DispatcherDestination, KamailioRpc } from '../../../../hardware/kamailio/rpc.js';
import { sipOptions, type SipOptionsParams, type SipOptionsResult } from '../../../../hardware/net/sipOptions.js';
import { runTestCall, type TestCallOptions, type TestCallResult } from '../../../../hardware/sip/testCall.js';
import { parseSipUri } from '../../../../hardware/sip/uri.js';
import type { RouteActuator, RouteTarget, VerifyResult } from '../actuator.js';
import { renderDispatcherList, SET_ANNOUNCEMENT, SET_CENTRES, type KamailioRenderInput } from './render.js';

/** The part of the RPC client the actuator uses (a fake stands in for it in unit tests). */
export type KamailioControl = Pick<KamailioRpc, 'coreUptime' | 'coreMainPid' | 'dispatcherList' | 'dispatcherSetState'>;

export interface KamailioActuatorOptions {
  rpc: KamailioControl;
  centres: { local: readonly string[]; backup: readonly string[] };
  verify?: {
    optionsTimeoutMs: number;
    /** Source address for the OPTIONS (the uplink calls use). */
    localAddress?: string;
    /** Replies besides 2xx that count as "the centre's SIP stack answers". */
    acceptCodes: readonly number[];
    /** Also place a real test call through Kamailio and require that `target` answers it. */
    testCall?: Omit<TestCallOptions, 'binary'>;
  };
  /**
   * Keep the dispatcher list file in step with the target (atomic rewrite, started
   * before the RPCs of each apply) so a Kamailio restart or reload does not fall back
   * to `local`. `dispatcherListPath` must be the file the running Kamailio's cfg names.
   */
  persist?: { dispatcherListPath: string; renderInput: Pick<KamailioRenderInput, 'centres' | 'announcement'> };
  /** Told when `core.uptime` shows Kamailio restarted since the previous look. */
  onRestart?: (info: { previousUpSince: string; upSince: string; mainPid: number; restarts: number }) => void;
  /** Injectable for unit tests. */
  sipOptions?: (p: SipOptionsParams) => Promise<SipOptionsResult>;
  testCall?: (o: TestCallOptions) => Promise<TestCallResult>;
  now?: () => number;
}

export type FirstChoice = 'local' | 'backup' | 'announcement' | 'none';

export interface KamailioSnapshot {
  at: number;
  destinations: DispatcherDestination[];
  /** The route the supervisor's switch is in (see `commandedRoute`). */
  commanded: RouteTarget | 'unknown';
  /** Where the next call goes first right now, keepalive state included. */
  firstChoice: FirstChoice;
  /** Configured URIs Kamailio does not know: its list file is not the rendered one. */
  missing: string[];
  upSince: string;
  uptimeS: number;
  mainPid: number;
  /** Kamailio restarted since the previous snapshot. */
  restarted: boolean;
  restarts: number;
}

export interface ApplyTiming {
  target: RouteTarget;
  /** set_state RPCs sent (0 when already there). */
  changes: number;
  /** From the first RPC to `dispatcher.list` confirming the new state. */
  confirmedMs: number;
}

/**
 * The switch position read from the dispatcher: `backup` when every local
 * destination is disabled, `local` when none is, `unknown` when mixed, when a
 * configured URI is missing, or when a backup destination is disabled (calls
 * would then not reach the backup either).
 */
export function commandedRoute(
  dests: readonly DispatcherDestination[],
  centres: { local: readonly string[]; backup: readonly string[] },
): RouteTarget | 'unknown' {
  const inSet = (uri: string) => dests.find((d) => d.set === SET_CENTRES && d.uri === uri);
  const local = centres.local.map(inSet);
  const backup = centres.backup.map(inSet);
  if (local.some((d) => d === undefined) || backup.some((d) => d === undefined)) return 'unknown';
  if (backup.some((d) => d?.state === 'disabled')) return 'unknown';
  const disabled = local.filter((d) => d?.state === 'disabled').length;
  if (disabled === local.length) return 'backup';
  if (disabled === 0) return 'local';
  return 'unknown';
}

/** Dispatcher algorithm 8 as Kamailio runs it: highest priority among selectable (active/trying). */
export function firstChoice(dests: readonly DispatcherDestination[], centres: { local: readonly string[]; backup: readonly string[] }): FirstChoice {
  const usable = dests.filter((d) => d.set === SET_CENTRES && (d.state === 'active' || d.state === 'trying')).sort((a, b) => b.priority - a.priority);
  const first = usable[0];
  if (first) {
    if (centres.local.includes(first.uri)) return 'local';
    if (centres.backup.includes(first.uri)) return 'backup';
  }
  // The cfg tries the announcement even when keepalives think it is down.
  return dests.some((d) => d.set === SET_ANNOUNCEMENT) ? 'announcement' : 'none';
}

export class KamailioActuator implements RouteActuator {
  readonly name = 'kamailio';
  private lastUpSince: string | null = null;
  private lastUptimeS = 0;
  private lastMainPid: number | null = null;
  private restarts = 0;
  private lastSnapshot: KamailioSnapshot | null = null;
  private lastTiming: ApplyTiming | null = null;
  private readonly now: () => number;

  constructor(private readonly opts: KamailioActuatorOptions) {
    if (opts.centres.local.length === 0 || opts.centres.backup.length === 0) {
      throw new Error('KamailioActuator needs at least one local and one backup centre URI (calls.centres in vaktpost.yaml)');
    }
    this.now = opts.now ?? Date.now;
  }

  /** The last snapshot taken (by observe/apply/inspect), if any. */
  get snapshot(): KamailioSnapshot | null {
    return this.lastSnapshot;
  }

  /** How long the last apply took from first RPC to confirmation. */
  get lastApply(): ApplyTiming | null {
    return this.lastTiming;
  }

  /** Read Kamailio's uptime and dispatcher state. Throws if Kamailio cannot be asked. */
  async inspect(): Promise<KamailioSnapshot> {
    const [uptime, mainPid] = await Promise.all([this.opts.rpc.coreUptime(), this.opts.rpc.coreMainPid()]);
    const destinations = await this.opts.rpc.dispatcherList();
    // up_since has 1 s resolution: a restart within the same second shows only as
    // a new main PID (core.ps) — or uptime going backwards.
    const restarted = this.lastUpSince !== null && (uptime.upSince !== this.lastUpSince || mainPid !== this.lastMainPid || uptime.uptimeS < this.lastUptimeS);
    if (restarted) {
      this.restarts++;
      this.opts.onRestart?.({ previousUpSince: this.lastUpSince as string, upSince: uptime.upSince, mainPid, restarts: this.restarts });
    }
    this.lastUpSince = uptime.upSince;
    this.lastUptimeS = uptime.uptimeS;
    this.lastMainPid = mainPid;
    const known = new Set(destinations.filter((d) => d.set === SET_CENTRES).map((d) => d.uri));
    const snap: KamailioSnapshot = {
      at: this.now(),
      destinations,
      commanded: commandedRoute(destinations, this.opts.centres),
      firstChoice: firstChoice(destinations, this.opts.centres),
      missing: [...this.opts.centres.local, ...this.opts.centres.backup].filter((u) => !known.has(u)),
      upSince: uptime.upSince,
      uptimeS: uptime.uptimeS,
      mainPid,
      restarted,
      restarts: this.restarts,
    };
    this.lastSnapshot = snap;
    return snap;
  }

  async observe(): Promise<RouteTarget | 'unknown'> {
    try {
      return (await this.inspect()).commanded;
    } catch {
      return 'unknown';
    }
  }

  async apply(target: RouteTarget): Promise<void> {
    // The list file first (and whatever Kamailio answers): a Kamailio that restarts at any
    // moment from here on — even one that is down right now — comes back on `target`.
    const persisted = this.opts.persist ? this.persistList(target) : Promise.resolve();
    const [rpc, file] = await Promise.allSettled([this.applyRpc(target), persisted]);
    if (rpc.status === 'rejected') throw rpc.reason;
    if (file.status === 'rejected') throw file.reason;
  }

  private async applyRpc(target: RouteTarget): Promise<void> {
    const t0 = performance.now();
    const before = await this.inspect();
    if (before.missing.length > 0) {
      throw new Error(
        `Kamailio's dispatcher list lacks ${before.missing.join(', ')} — its list file is not the one rendered from vaktpost.yaml; re-render it and run dispatcher.reload (or restart Kamailio)`,
      );
    }
    const state = (uri: string) => before.destinations.find((d) => d.set === SET_CENTRES && d.uri === uri)?.state;
    const changes: Array<{ flags: 'd' | 'ap'; uri: string }> = [];
    for (const uri of this.opts.centres.local) {
      const disabled = state(uri) === 'disabled';
      if (target === 'backup' && !disabled) changes.push({ flags: 'd', uri });
      if (target === 'local' && disabled) changes.push({ flags: 'ap', uri });
    }
    for (const uri of this.opts.centres.backup) {
      if (state(uri) === 'disabled') changes.push({ flags: 'ap', uri });
    }
    const tRpc = performance.now();
    for (const c of changes) await this.opts.rpc.dispatcherSetState(c.flags, SET_CENTRES, c.uri);
    const after = changes.length > 0 ? await this.inspect() : before;
    if (after.commanded !== target) {
      const seen = after.destinations
        .filter((d) => d.set === SET_CENTRES)
        .map((d) => `${d.uri}=${d.flags}`)
        .join(', ');
      throw new Error(`asked Kamailio to route to ${target} but dispatcher.list reads ${after.commanded} (${seen})`);
    }
    this.lastTiming = { target, changes: changes.length, confirmedMs: performance.now() - (changes.length > 0 ? tRpc : t0) };
  }

  /** Atomic: temp file, fsync, rename — Kamailio never reads half a list, a power cut leaves old or new. */
  private async persistList(target: RouteTarget): Promise<void> {
    const p = this.opts.persist;
    if (!p) return;
    const text = renderDispatcherList(p.renderInput, target);
    const tmp = `${p.dispatcherListPath}.tmp-${process.pid}`;
    try {
      await mkdir(path.dirname(p.dispatcherListPath), { recursive: true });
      const fh = await open(tmp, 'w', 0o644);
      try {
        await fh.writeFile(text);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, p.dispatcherListPath);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => {});
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(
        `writing ${p.dispatcherListPath} for route ${target} failed (${msg}): a Kamailio restart would fall back to the old list — check the directory's permissions/disk space`,
      );
    }
  }

  async verify(target: RouteTarget, signal?: AbortSignal): Promise<VerifyResult> {
    const t0 = performance.now();
    const aborted = () =>
      signal?.aborted ? { ok: false, detail: `${target}: verification aborted (${abortReason(signal)})`, durationMs: performance.now() - t0 } : null;
    const v = this.opts.verify;
    const parts: string[] = [];
    let ok = true;

    // 1. Kamailio itself must consider at least one destination of the target usable.
    let snap: KamailioSnapshot;
    try {
      snap = await this.inspect();
    } catch (err) {
      return { ok: false, detail: `cannot read Kamailio: ${err instanceof Error ? err.message : String(err)}`, durationMs: performance.now() - t0 };
    }
    const uris = this.opts.centres[target];
    const mine = snap.destinations.filter((d) => d.set === SET_CENTRES && uris.includes(d.uri));
    const usable = mine.filter((d) => d.state === 'active' || d.state === 'trying');
    parts.push(`Kamailio: ${mine.map((d) => `${d.uri} ${d.flags}`).join(', ') || 'no such destination'}`);
    if (usable.length === 0) ok = false;
    if (snap.firstChoice !== target) {
      ok = false;
      parts.push(`next call would go to ${snap.firstChoice}, not ${target}`);
    }

    // 2. The centre answers SIP OPTIONS on the path the calls take.
    if (v) {
      const probe = this.opts.sipOptions ?? sipOptions;
      let answered = false;
      for (const uri of uris) {
        const stop = aborted();
        if (stop) return stop;
        const u = parseSipUri(uri);
        const r = await probe({
          host: u.host,
          port: u.port,
          uri,
          timeoutMs: v.optionsTimeoutMs,
          ...(v.localAddress !== undefined ? { localAddress: v.localAddress } : {}),
        });
        const good = r.ok && r.status !== undefined && ((r.status >= 200 && r.status < 300) || v.acceptCodes.includes(r.status));
        parts.push(`OPTIONS ${uri}: ${r.detail}${r.ok && !good ? ' (not an accepted answer)' : ''}`);
        if (good) {
          answered = true;
          break;
        }
      }
      if (!answered) ok = false;

      // 3. Optionally a real call through Kamailio, answered by the target.
      if (v.testCall) {
        const stop = aborted();
        if (stop) return stop;
        const call = this.opts.testCall ?? runTestCall;
        // Aborted: the SIPp child is killed and the call ends at once.
        const r = await call({ ...v.testCall, ...(signal ? { signal } : {}) });
        const late = aborted();
        if (late) return late;
        parts.push(r.detail);
        if (!r.ok || r.answeredBy !== target) {
          ok = false;
          if (r.ok) parts.push(`the test call reached ${r.answeredBy ?? 'an unnamed destination'}, not ${target}`);
        }
      }
    }
    return { ok, detail: `${target}: ${parts.join('; ')}`, durationMs: performance.now() - t0 };
  }
}

function abortReason(signal: AbortSignal | undefined): string {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r.message : r === undefined ? 'aborted' : String(r);
}
