/**
 * Renders Kamailio's config and dispatcher list from Vaktpost's own config.
 * Pure: typed input in, text out — the caller writes the files. One source of
 * truth: the centres, the announcement and the timers live in vaktpost.yaml
 * (`calls:`), never hand-edited in /etc/kamailio.
 *
 * What the rendered config does with an inbound call (measured on Kamailio 5.6;
 * ops/kamailio/README.md):
 *   trunk INVITE → dispatcher set 1, algorithm 8 (priority order: local centre
 *   first, backup second) → any negative answer, no-reply timeout or
 *   synchronous send failure moves the call to the next destination within the
 *   same call → when every centre failed: the announcement (set 2, "ring 113") →
 *   if even that fails: `finalReply` (480 by default). Never 486/600/603.
 * Runtime control is JSON-RPC over xhttp on 127.0.0.1 only, and only with the
 * box's control secret (controlSecret.ts): the cfg holds the secret, so whoever
 * writes it must keep it owner-only (files.ts writes 0600).
 */
import { createHash } from 'node:crypto';
import type { CallsConfig } from '../../config/calls.js';
import { CONTROL_SECRET_FORMAT, controlKeys } from './controlSecret.js';

/** Dispatcher set holding the centres (local + backup, priority-ordered). */
export const SET_CENTRES = 1;
/** Dispatcher set holding the announcement server(s). */
export const SET_ANNOUNCEMENT = 2;

/** dispatcher.list flag: admin-disabled destination. */
const DS_FLAG_DISABLED = 4;

/** What a dispatcher destination is for; written as `route=<role>` in its attrs. */
export type DestinationRole = 'local' | 'backup' | 'announcement';

export interface KamailioRenderInput {
  listen: { address: string; port: number; transports: readonly ('udp' | 'tcp')[]; advertise?: string | undefined };
  /** IPv4 addresses / CIDRs allowed to send INVITEs; empty = any. 127.0.0.1 always. */
  trunkSources: readonly string[];
  centres: { local: readonly string[]; backup: readonly string[] };
  announcement: { uris: readonly string[]; answerTimeoutMs: number };
  finalReply: { code: number; reason: string };
  timers: {
    noReplyMs: number;
    ringNoAnswerMs: number;
    /** 0 = no keepalives (Kamailio's default). */
    keepaliveIntervalS: number;
    probingThreshold: number;
    inactiveThreshold: number;
    keepaliveReplyCodes: readonly number[];
  };
  rpcPort: number;
  /**
   * The box's control secret (controlSecret.ts). Two keys are derived from it:
   * JSON-RPC requests must carry `Authorization: Bearer <rpc key>` (the cfg holds
   * only a SHA-256 of that), and every call event carries the events key.
   */
  controlSecret: string;
  /** ctl socket lives here; pass the same dir as `-Y` and the pid file's dir. */
  runDir: string;
  /** Absolute path the dispatcher list will be written to. */
  dispatcherListPath: string;
  children: number;
  /** Kamailio `debug` level: 1 = errors+warnings … 3 = debug. */
  logLevel?: number;
  /** Call records for the evidence reports (see "Call records" at the end of this file); absent = none. */
  callRecords?: CallRecordsRenderInput | undefined;
  /** The audio log: media through rtpengine, recorded (see "Recording" at the end of this file); absent = media end to end. */
  rtpengine?: RecordingRenderInput | undefined;
}

export interface RenderedKamailio {
  cfg: string;
  dispatcherList: string;
}

export interface DispatcherEntry {
  set: number;
  uri: string;
  priority: number;
  role: DestinationRole;
}

/** Build the render input from the validated `calls:` section plus where the files go. */
export function renderInputFromConfig(calls: CallsConfig, paths: { dispatcherListPath: string; runDir?: string; controlSecret: string }): KamailioRenderInput {
  return {
    listen: { ...calls.sip, advertise: calls.sip.advertise },
    trunkSources: calls.trunk.sources,
    centres: { local: calls.centres.local.uris, backup: calls.centres.backup.uris },
    announcement: { uris: calls.announcement.uris, answerTimeoutMs: calls.announcement.answerTimeoutMs },
    finalReply: calls.finalReply,
    timers: calls.timers,
    rpcPort: calls.rpc.port,
    controlSecret: paths.controlSecret,
    runDir: paths.runDir ?? calls.runDir,
    dispatcherListPath: paths.dispatcherListPath,
    children: calls.children,
    callRecords: calls.callRecords.enabled ? { dir: calls.callRecords.dir } : undefined,
    rtpengine: recordingInputFromConfig(calls),
  };
}

/**
 * The dispatcher destinations in the order calls try them. Priorities are
 * descending (algorithm 8 tries the highest first): local 200…, backup 100…,
 * announcement in its own set.
 */
export function dispatcherEntries(input: Pick<KamailioRenderInput, 'centres' | 'announcement'>): DispatcherEntry[] {
  const out: DispatcherEntry[] = [];
  for (const [i, uri] of input.centres.local.entries()) out.push({ set: SET_CENTRES, uri, priority: 200 - i, role: 'local' });
  for (const [i, uri] of input.centres.backup.entries()) out.push({ set: SET_CENTRES, uri, priority: 100 - i, role: 'backup' });
  for (const [i, uri] of input.announcement.uris.entries()) out.push({ set: SET_ANNOUNCEMENT, uri, priority: 100 - i, role: 'announcement' });
  return out;
}

export function renderKamailio(input: KamailioRenderInput, target: 'local' | 'backup' = 'local'): RenderedKamailio {
  validate(input);
  return { cfg: renderCfg(input), dispatcherList: renderDispatcherList(input, target) };
}

function validate(input: KamailioRenderInput): void {
  const problems: string[] = [];
  if (input.centres.local.length === 0) problems.push('no local centre URI');
  if (input.centres.backup.length === 0) problems.push('no backup centre URI');
  if (input.announcement.uris.length === 0) problems.push('no announcement URI');
  if ([486, 600, 603].includes(input.finalReply.code)) {
    problems.push(`finalReply ${input.finalReply.code} is a busy/decline code — a caller must never hear busy`);
  }
  if (!CONTROL_SECRET_FORMAT.test(input.controlSecret)) problems.push('the control secret must be 32–128 lowercase hex characters');
  if (input.rpcPort === input.listen.port && input.listen.transports.includes('tcp')) {
    problems.push(`rpcPort ${input.rpcPort} collides with the SIP TCP port`);
  }
  const all = [...input.centres.local, ...input.centres.backup, ...input.announcement.uris];
  for (const u of all) {
    // These strings land inside Kamailio cfg string literals and the list file.
    if (!/^sip:[^\s"\\]+$/.test(u)) problems.push(`URI ${JSON.stringify(u)} has spaces, quotes or backslashes`);
  }
  if (new Set(all).size !== all.length) problems.push('the same URI appears twice among centres/announcement');
  if (!/^[\x20-\x7e]+$/.test(input.finalReply.reason) || input.finalReply.reason.includes('"')) {
    problems.push('finalReply.reason must be printable ASCII without quotes');
  }
  for (const p of [input.runDir, input.dispatcherListPath, ...(input.callRecords ? [input.callRecords.dir] : [])]) {
    if (!p.startsWith('/') || /["\s]/.test(p)) problems.push(`path ${JSON.stringify(p)} must be absolute, no spaces or quotes`);
  }
  if (input.rtpengine) problems.push(...validateRecording(input.rtpengine));
  if (problems.length > 0) {
    throw new Error(`cannot render the Kamailio config: ${problems.join('; ')} (fix the calls: section of vaktpost.yaml)`);
  }
}

/**
 * The dispatcher list file. With `target: 'backup'` the local destinations are
 * written disabled (flag 4), so a Kamailio restart or reload keeps the failover
 * (the actuator's `persist` option); default: every destination active.
 */
export function renderDispatcherList(input: Pick<KamailioRenderInput, 'centres' | 'announcement'>, target: 'local' | 'backup' = 'local'): string {
  const lines = [
    '# Rendered by Vaktpost from vaktpost.yaml (calls:) - do not edit, it is overwritten.',
    '# setid uri flags priority attrs',
    `# set ${SET_CENTRES}: centres (algorithm 8: highest priority first); set ${SET_ANNOUNCEMENT}: announcement.`,
    `# Route at render time: ${target}${target === 'backup' ? ' (local destinations disabled: flag 4)' : ''}.`,
  ];
  for (const e of dispatcherEntries(input)) {
    const flags = target === 'backup' && e.role === 'local' ? DS_FLAG_DISABLED : 0;
    lines.push(`${e.set} ${e.uri} ${flags} ${e.priority} route=${e.role}`);
  }
  return `${lines.join('\n')}\n`;
}

/** What the cfg compares an RPC request's Authorization header against (lowercase hex, as `{s.sha256}` prints). */
export function rpcAuthorizationSha256(rpcKey: string): string {
  return createHash('sha256').update(`Bearer ${rpcKey}`).digest('hex');
}

function kamailioString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function renderListen(input: KamailioRenderInput): string[] {
  const { address, port, transports, advertise } = input.listen;
  const adv = advertise ? ` advertise ${advertise}:${port}` : '';
  const lines = transports.map((t) => `listen=${t}:${address}:${port}${adv}`);
  // xhttp needs a TCP listener; this one is loopback-only and refuses SIP (see request_route).
  lines.push(`listen=tcp:127.0.0.1:${input.rpcPort}`);
  return lines;
}

function renderTrunkCheck(sources: readonly string[]): string {
  if (sources.length === 0) {
    return ['route[FROM_TRUNK] {', '\t# calls.trunk.sources is empty: INVITEs are accepted from any address (lab setting).', '\treturn;', '}'].join('\n');
  }
  const tests = sources.map((s) => `is_in_subnet("$si", "${s.includes('/') ? s : `${s}/32`}")`).join(' || ');
  return [
    'route[FROM_TRUNK] {',
    '\t# The box itself (verification test calls).',
    '\tif (src_ip == 127.0.0.1) return;',
    `\tif (${tests}) return;`,
    '\txlog("L_WARN", "vaktpost: INVITE from $si:$sp is not from the trunk (calls.trunk.sources) - refused\\n");',
    '\tsl_send_reply("403", "Forbidden");',
    '\texit;',
    '}',
  ].join('\n');
}

function renderCfg(input: KamailioRenderInput): string {
  const t = input.timers;
  const keepalive = t.keepaliveIntervalS > 0;
  const replyCodes = t.keepaliveReplyCodes.map((c) => `code=${c}`).join(';');
  const firstAnnouncement = input.announcement.uris[0] as string;
  const defines = [
    `#!define SET_CENTRES ${SET_CENTRES}`,
    `#!define SET_ANNOUNCEMENT ${SET_ANNOUNCEMENT}`,
    `#!define RPC_PORT ${input.rpcPort}`,
    // SHA-256 of the whole expected Authorization header: the cfg compares hashes, so
    // the comparison's timing says nothing about the secret.
    `#!define RPC_AUTH_SHA256 "${rpcAuthorizationSha256(controlKeys(input.controlSecret).rpc)}"`,
    `#!define FR_TIMER ${t.noReplyMs}`,
    `#!define FR_INV_TIMER ${t.ringNoAnswerMs}`,
    `#!define ANNOUNCEMENT_FR_INV_TIMER ${input.announcement.answerTimeoutMs}`,
    `#!define ANNOUNCEMENT_FIRST_URI ${kamailioString(firstAnnouncement)}`,
    `#!define ANNOUNCEMENT_MAX_TRIES ${input.announcement.uris.length}`,
    `#!define FINAL_CODE "${input.finalReply.code}"`,
    `#!define FINAL_REASON ${kamailioString(input.finalReply.reason)}`,
    // Flag on transactions started by the box's own verification call.
    '#!define FLT_PROBE 1',
    ...ringWatchDefines(input),
  ];
  if (keepalive) defines.push('#!define WITH_KEEPALIVES');
  const cr = callRecordHooks(input);
  if (input.callRecords) defines.push('#!define WITH_CALL_RECORDS');
  const rec = recordingHooks(input);
  defines.push(...rec.defines);

  return `#!KAMAILIO
#
# Vaktpost call routing for Kamailio 5.6 — RENDERED from vaktpost.yaml (calls:) by
# supervisor/src/reconcilers/kamailio/render.ts. Do not edit: it is overwritten.
#
# Inbound call -> dispatcher set SET_CENTRES in priority order (local first, backup
# second) -> a negative answer, no-reply timeout or send failure moves the call to the
# next destination within the same call -> the announcement ("ring 113") -> FINAL_CODE.
# The caller never gets a busy/decline code from this box.
# Media is end to end for now; rtpengine (audio log) plugs in under WITH_RTPENGINE.

${defines.join('\n')}

####### Global parameters #########
debug=${input.logLevel ?? 2}
log_stderror=no
log_facility=LOG_LOCAL0
log_prefix="{$mt $ci} "
children=${input.children}
tcp_children=2
auto_aliases=no
dns_try_ipv6=no
${renderListen(input).join('\n')}
# xhttp: HTTP requests without Content-Length are accepted (curl/Node keep-alive bodies).
tcp_accept_no_cl=yes
tcp_connection_lifetime=60
enable_tls=no
server_header="Server: Vaktpost"
user_agent_header="User-Agent: Vaktpost"
# The ring watch walks every ringing call in one loop.
max_while_loops=1000

####### Modules #########
# tm before sl (rtpengine needs that order later).
loadmodule "jsonrpcs.so"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "ctl.so"
loadmodule "xhttp.so"
loadmodule "ipops.so"
loadmodule "dispatcher.so"
${RING_WATCH_MODULES}${cr.modules}
${rec.modules}

# JSON-RPC over HTTP only: the FIFO/datagram transports would default to /run/kamailio.
modparam("jsonrpcs", "transport", 1)
modparam("jsonrpcs", "pretty_format", 0)
modparam("ctl", "binrpc", ${kamailioString(`unix:${input.runDir}/kamailio_ctl`)})

# No reply at all within FR_TIMER ms -> next destination (Kamailio default 30 s).
modparam("tm", "fr_timer", FR_TIMER)
# Ringing without answer for FR_INV_TIMER ms -> next destination (default 120 s).
modparam("tm", "fr_inv_timer", FR_INV_TIMER)
# failure_route sees only the last serial-forking leg's replies.
modparam("tm", "failure_reply_mode", 3)

modparam("rr", "enable_full_lr", 0)
modparam("rr", "append_fromtag", 0)

modparam("dispatcher", "list_file", ${kamailioString(input.dispatcherListPath)})
# Bit 2: keep the rest of the priority list in XAVPs for ds_next_dst() (serial failover).
modparam("dispatcher", "flags", 2)
modparam("dispatcher", "xavp_dst", "_dsdst_")
modparam("dispatcher", "ds_ping_from", "sip:vaktpost@localhost")
# OPTIONS keepalive every N s to every destination (probing mode 1); 0 = none.
modparam("dispatcher", "ds_ping_interval", ${t.keepaliveIntervalS})
modparam("dispatcher", "ds_probing_mode", 1)
modparam("dispatcher", "ds_probing_threshold", ${t.probingThreshold})
modparam("dispatcher", "ds_inactive_threshold", ${t.inactiveThreshold})
# 2xx always counts; these prove a live SIP stack too. Never 408 (generated locally).
modparam("dispatcher", "ds_ping_reply_codes", ${kamailioString(replyCodes)})

${rec.modparams}

${ringWatchModparams(t.ringNoAnswerMs)}

####### Routing logic #########

request_route {
	# The RPC listener is loopback HTTP, not SIP.
	if ($Rp == RPC_PORT) {
		drop;
	}

	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if (!sanity_check()) {
		xlog("L_WARN", "vaktpost: malformed $rm from $si:$sp dropped\\n");
		exit;
	}

	# Before the in-dialog check: some UAs put the 1xx's To-tag on their CANCEL.
	if (is_method("CANCEL")) {
		if (t_check_trans()) {${rec.cancel}
			t_relay();
		}
		exit;
	}

	if (has_totag()) {
		route(IN_DIALOG);
		exit;
	}

	# Retransmissions of a request already being handled.
	if (!is_method("ACK")) {
		if (t_precheck_trans()) {
			t_check_trans();
			exit;
		}
		t_check_trans();
	} else {
		# ACK without to-tag belongs to a negative reply tm already absorbed.
		exit;
	}

	# Keepalives from the trunk (and anyone asking "are you there"): this box answers itself.
	if (is_method("OPTIONS")) {
		sl_send_reply("200", "OK");
		exit;
	}

	if (!is_method("INVITE")) {
		append_to_reply("Allow: INVITE, ACK, BYE, CANCEL, OPTIONS\\r\\n");
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}

	route(FROM_TRUNK);

	if ($hdr(X-Vaktpost-Probe) != $null && src_ip == 127.0.0.1) {
		setflag(FLT_PROBE);
	}

	if (!t_newtran()) {
		xlog("L_ERR", "vaktpost: could not create a transaction for $ci\\n");
		sl_send_reply("500", "Server Internal Error");
		exit;
	}
	record_route();${cr.arrived}
${rec.offer}

	if (!ds_select_dst(SET_CENTRES, "8")) {
		xlog("L_ERR", "vaktpost: no centre in rotation (all disabled or down) - announcement for $ci\\n");
		route(ANNOUNCEMENT);
		exit;
	}
	route(RELAY_CENTRE);
}

${renderTrunkCheck(input.trunkSources)}

# Send to the current dispatcher destination; a synchronous send failure (unresolvable
# host, no route) moves on to the next one instead of answering the caller with an error.
route[RELAY_CENTRE] {
	$var(trying) = 1;
	while ($var(trying) == 1) {
		$avp(vp_route) = $(xavp(_dsdst_=>attrs){param.value,route});${rec.relay}
		route(RING_WATCH_START);
		t_on_failure("CENTRE_FAILED");
		t_on_reply("CALL_REPLY");
		if (t_relay()) {
			exit;
		}
		xlog("L_ERR", "vaktpost: could not send $ci to $avp(vp_route) $du - next destination\\n");
		route(RING_WATCH_STOP);
		if (!ds_next_dst()) {
			route(ANNOUNCEMENT);
			exit;
		}
	}
}

failure_route[CENTRE_FAILED] {
	route(RING_WATCH_STOP);
	# The caller hung up: nothing to rescue, and no other centre must ring.
	if (t_is_canceled()) {
		xlog("L_INFO", "vaktpost: caller hung up $ci before $avp(vp_route) answered\\n");${cr.abandoned}
		exit;
	}
	# $du is not kept in failure_route; the tried destination heads the dispatcher XAVP list.
	$var(failed_uri) = $xavp(_dsdst_=>uri);
	route(CALL_OUTCOME_FAILED);
	if (isflagset(FLT_DST_DOWN)) {
		xlog("L_WARN", "vaktpost: $avp(vp_route) $var(failed_uri) was taken out of rotation while $ci rang there - next destination\\n");
	}
#!ifdef WITH_KEEPALIVES
	# Not a single reply: take the centre out of rotation now instead of costing the
	# next callers FR_TIMER each; the keepalives put it back when it answers. A centre
	# the supervisor disabled meanwhile stays disabled (ds_is_active is false for it).
	if (t_branch_timeout() && !t_branch_replied()) {
		if (ds_is_active(SET_CENTRES, "$var(failed_uri)")) {
			ds_mark_dst("ip");
		}
	}
#!endif
	xlog("L_WARN", "vaktpost: $avp(vp_route) $var(failed_uri) answered $T_reply_code for $ci - next destination\\n");
	if (ds_next_dst()) {
		route(RELAY_CENTRE);
		exit;
	}
	route(ANNOUNCEMENT);
}

# Every centre failed: answer with the announcement ("ring 113 ved akutt sykdom").
route[ANNOUNCEMENT] {
	$avp(vp_route) = "announcement";
	$avp(vp_ann_tries) = 0;
	if (!ds_select_dst(SET_ANNOUNCEMENT, "8")) {
		# Keepalives think it is down; trying it anyway beats a reject.
		$du = ANNOUNCEMENT_FIRST_URI;
	}
	t_set_fr(ANNOUNCEMENT_FR_INV_TIMER, FR_TIMER);
	route(RELAY_ANNOUNCEMENT);
}

route[RELAY_ANNOUNCEMENT] {
	$var(trying) = 1;
	while ($var(trying) == 1) {
		$avp(vp_ann_tries) = $avp(vp_ann_tries) + 1;
		# $du is gone in failure_route: keep the URI for the log there.
		$avp(vp_ann_uri) = $du;${rec.relay}
		t_on_failure("ANNOUNCEMENT_FAILED");
		t_on_reply("CALL_REPLY");
		if (t_relay()) {
			exit;
		}
		xlog("L_ERR", "vaktpost: could not send $ci to the announcement $du\\n");
		if ($avp(vp_ann_tries) >= ANNOUNCEMENT_MAX_TRIES || !ds_next_dst()) {
			route(LAST_WORDS);
			exit;
		}
	}
}

failure_route[ANNOUNCEMENT_FAILED] {
	if (t_is_canceled()) {${cr.abandoned}
		exit;
	}
	xlog("L_ERR", "vaktpost: announcement $avp(vp_ann_uri) answered $T_reply_code for $ci\\n");
	if ($avp(vp_ann_tries) < ANNOUNCEMENT_MAX_TRIES && ds_next_dst()) {
		route(RELAY_ANNOUNCEMENT);
		exit;
	}
	route(LAST_WORDS);
}

# Nothing answered at all. Explicitly reply FINAL_CODE so no centre's busy reply
# is ever relayed to the caller.
route[LAST_WORDS] {
	xlog("L_CRIT", "vaktpost: no centre and no announcement answered $ci - replying FINAL_CODE\\n");${cr.rejected}${rec.lastWords}
	t_reply(FINAL_CODE, FINAL_REASON);
	exit;
}

onreply_route[CALL_REPLY] {
	route(RING_WATCH_REPLY);
	route(CALL_OUTCOME_TAKEN);${cr.answered}${rec.reply}
	# The box's own verification calls learn which destination answered.
	if (isflagset(FLT_PROBE)) {
		append_hf("X-Vaktpost-Route: $avp(vp_route)\\r\\n");
	}
}

route[IN_DIALOG] {
	if (loose_route()) {${cr.ended}${rec.inDialog}
		if (!t_relay()) {
			sl_reply_error();
		}
		exit;
	}
	if (is_method("ACK")) {
		if (t_check_trans()) {
			t_relay();
		}
		exit;
	}
	sl_send_reply("404", "Not Here");
	exit;
}

event_route[dispatcher:dst-down] {
	xlog("L_WARN", "vaktpost: destination down: $ru\\n");
}

event_route[dispatcher:dst-up] {
	xlog("L_NOTICE", "vaktpost: destination up: $ru\\n");
}

# JSON-RPC for the supervisor: loopback, RPC port, /RPC only, and only with the
# box's control secret (any local user can reach this port; the secret is what
# keeps them from moving the calls).
event_route[xhttp:request] {
	set_reply_close();
	set_reply_no_connect();
	if (src_ip != 127.0.0.1 || $Rp != RPC_PORT) {
		xhttp_reply("403", "Forbidden", "text/plain", "loopback only\\n");
		exit;
	}
	if (!is_present_hf("Authorization") || $(hdr(Authorization){s.sha256}) != RPC_AUTH_SHA256) {
		xlog("L_WARN", "vaktpost: JSON-RPC without the control secret refused (from $si:$sp)\\n");
		xhttp_reply("403", "Forbidden", "text/plain", "control secret required\\n");
		exit;
	}
	if ($hu =~ "^/RPC") {
		jsonrpc_dispatch();
		exit;
	}
	xhttp_reply("404", "Not Found", "text/plain", "use POST /RPC\\n");
}
${RING_WATCH_ROUTES}${CALL_OUTCOME_ROUTES}${cr.routes}${rec.routes}`;
}

// ---------------------------------------------------------------------------
// Ring watch (issue #16): a call ringing at a centre that is taken out of
// rotation moves to the next destination at once, instead of ringing out
// FR_INV_TIMER (20 s) at a centre nobody will answer at — whoever took it out:
// the supervisor (dispatcher.set_state) or Kamailio's own keepalives.
//
// Why this way, on Kamailio 5.6: event_route[dispatcher:dst-down] runs only for
// keepalive marks (not for an RPC set_state) and has no transaction to act on;
// t_cancel_branches() works only inside a reply to the same call. So each call
// notes its Call-ID, CSeq and current destination in an htable while a centre
// has it (route RING_WATCH_START/STOP), and an rtimer route checks every
// RING_WATCH_MS whether that destination is still active (ds_is_active). If not,
// tmx's t_cancel_callid() CANCELs the branch and sets FLT_DST_DOWN; that does not
// mark the transaction as cancelled by the caller (t_is_canceled() stays false),
// so failure_route CENTRE_FAILED moves the call on with ds_next_dst() as for any
// other failed centre. The watch runs in its own timer process (rtimer mode 1):
// it never waits behind SIP traffic.

/** How often the ring watch looks at the destinations of ringing calls. */
export const RING_WATCH_MS = 200;

/**
 * A ringing call whose centre was CANCELled and has not answered the CANCEL
 * after this long gets the 503 the dead centre cannot send (see RING_WATCH).
 */
export const RING_WATCH_CANCEL_WAIT_MS = 400;

function ringWatchDefines(input: KamailioRenderInput): string[] {
  // Where the watch hands Kamailio the dead centre's reply: its own SIP listener.
  const { address, port, transports } = input.listen;
  const host = address === '0.0.0.0' ? '127.0.0.1' : address;
  const transport = transports.includes('udp') ? '' : ';transport=tcp';
  return [
    '#!define FLT_DST_DOWN 2',
    `#!define RING_WATCH_SELF_URI "sip:${host}:${port}${transport}"`,
    `#!define RING_WATCH_CANCEL_WAIT_US ${RING_WATCH_CANCEL_WAIT_MS * 1000}`,
  ];
}

const RING_WATCH_MODULES = ['# Ring watch: calls at a centre taken out of rotation move at once.', 'loadmodule "htable.so"', 'loadmodule "rtimer.so"'].join(
  '\n',
);

function ringWatchModparams(ringNoAnswerMs: number): string {
  // An entry outlives any call that still rings (fr_inv_timer) with room to spare;
  // normally the call's own routes remove it.
  const expireS = Math.ceil(ringNoAnswerMs / 1000) + 60;
  return [
    `modparam("htable", "htable", "vp_ringing=>size=10;autoexpire=${expireS};")`,
    `modparam("htable", "htable", "vp_ringcseq=>size=10;autoexpire=${expireS};")`,
    `modparam("htable", "htable", "vp_ringhead=>size=10;autoexpire=${expireS};")`,
    `modparam("htable", "htable", "vp_ringcancel=>size=10;autoexpire=${expireS};")`,
    // Call outcomes per centre role (read by the supervisor, see CALL_OUTCOME_ROUTES).
    'modparam("htable", "htable", "vp_outcome=>size=4;")',
    `modparam("rtimer", "timer", "name=ringwatch;interval=${RING_WATCH_MS * 1000}u;mode=1;")`,
    'modparam("rtimer", "exec", "timer=ringwatch;route=RING_WATCH")',
  ].join('\n');
}

const RING_WATCH_ROUTES = `
# Ring watch: note the call while a centre has it ($du is the destination tried now,
# heading the dispatcher XAVP list). Only when another centre follows: one lost
# keepalive marks a centre inactive, and a call ringing at the last centre (the
# backup) must not be cut over to the recorded message for that.
route[RING_WATCH_START] {
	if ($xavp(_dsdst_[1]=>uri) == $null) {
		route(RING_WATCH_STOP);
		return;
	}
	$sht(vp_ringing=>$ci) = $du;
	$sht(vp_ringcseq=>$ci) = $cs;
	$sht(vp_ringhead=>$ci) = $null;
	$sht(vp_ringcancel=>$ci) = $null;
}

route[RING_WATCH_STOP] {
	$sht(vp_ringing=>$ci) = $null;
	$sht(vp_ringcseq=>$ci) = $null;
	$sht(vp_ringhead=>$ci) = $null;
	$sht(vp_ringcancel=>$ci) = $null;
}

# A centre's reply: answered = no longer watched; ringing = keep the headers a
# reply on this branch carries (Kamailio's own Via with the branch's id first).
route[RING_WATCH_REPLY] {
	if ($sht(vp_ringing=>$ci) == $null || !is_method("INVITE")) {
		return;
	}
	if ($rs >= 200 && $rs < 300) {
		route(RING_WATCH_STOP);
	} else if ($rs > 100 && $rs < 200 && $sht(vp_ringhead=>$ci) == $null) {
		$sht(vp_ringhead=>$ci) = "Via: " + $(hdr(Via)[0]) + "\\r\\nFrom: " + $hdr(From) + "\\r\\nTo: " + $hdr(To) + "\\r\\nCall-ID: " + $ci + "\\r\\nCSeq: " + $hdr(CSeq) + "\\r\\n";
	}
}

# Every RING_WATCH_MS, in the rtimer process. A call whose centre is no longer
# active (disabled by the supervisor, inactive by keepalive) is CANCELled there;
# a live centre answers 487 and failure_route moves the call on (FLT_DST_DOWN).
# A dead centre answers nothing, and tm would wait out FR_INV_TIMER for the 487
# (measured: 19–20 s): when the CANCEL is still unanswered after
# RING_WATCH_CANCEL_WAIT_US, the watch hands Kamailio the 503 the centre cannot
# send — a reply on the ringing branch (its Via, tags and CSeq from the 180),
# sent to Kamailio's own SIP port, so tm ends the branch and failure_route
# moves the call on the same way.
route[RING_WATCH] {
	sht_iterator_start("vprw", "vp_ringing");
	while (sht_iterator_next("vprw")) {
		if (!ds_is_active(SET_CENTRES, "$shtitval(vprw)")) {
			$var(vprw_ci) = $shtitkey(vprw);
			if ($sht(vp_ringcancel=>$var(vprw_ci)) == $null) {
				xlog("L_WARN", "vaktpost: $shtitval(vprw) is out of rotation - cancelling $var(vprw_ci) ringing there\\n");
				$sht(vp_ringcancel=>$var(vprw_ci)) = $TV(Sn);
				$var(vprw_cs) = $sht(vp_ringcseq=>$var(vprw_ci));
				$var(vprw_fl) = FLT_DST_DOWN;
				t_cancel_callid("$var(vprw_ci)", "$var(vprw_cs)", "$var(vprw_fl)");
			} else if ($sht(vp_ringhead=>$var(vprw_ci)) != $null && $sht(vp_ringcancel=>$var(vprw_ci)) != "sent") {
				# Microseconds since the CANCEL (both $TV(Sn) are "s.µs").
				$var(vprw_cancelled) = $sht(vp_ringcancel=>$var(vprw_ci));
				$var(vprw_now) = $TV(Sn);
				$var(vprw_age) = ($(var(vprw_now){s.select,0,.}{s.int}) - $(var(vprw_cancelled){s.select,0,.}{s.int})) * 1000000 + $(var(vprw_now){s.select,1,.}{s.int}) - $(var(vprw_cancelled){s.select,1,.}{s.int});
				if ($var(vprw_age) >= RING_WATCH_CANCEL_WAIT_US) {
					xlog("L_WARN", "vaktpost: $shtitval(vprw) did not answer the CANCEL of $var(vprw_ci) - ending its branch with 503\\n");
					$sht(vp_ringcancel=>$var(vprw_ci)) = "sent";
					send_data(RING_WATCH_SELF_URI, "SIP/2.0 503 Centre Out Of Rotation\\r\\n" + $sht(vp_ringhead=>$var(vprw_ci)) + "Content-Length: 0\\r\\n\\r\\n");
				}
			}
		}
	}
	sht_iterator_end("vprw");
}
`;

// ---------------------------------------------------------------------------
// Call records (evidence, issue #10). Everything below and every `${cr.…}` hook
// above belongs to this block; with `callRecords` absent it renders nothing.
//
// Why acc + db_flatstore: Kamailio itself appends one line per call milestone to
// local files, so no record depends on the supervisor being up (it ingests the
// files later, idempotently: supervisor/src/evidence/ingest.ts). Each Kamailio
// process writes its own file (no locks); a failed write is logged by Kamailio
// and the call goes on — accounting never sits in the call's way. evapi/HTTP
// events would be lost while the supervisor is down.

/** Where Kamailio appends call records; db_flatstore names the files `<table>_<process>.log`. */
export interface CallRecordsRenderInput {
  /** Absolute directory; must exist before Kamailio writes (the supervisor creates it). */
  dir: string;
}

/** db_flatstore table name: the files are `vaktpost_calls_<process rank>.log`. */
export const CALL_RECORDS_TABLE = 'vaktpost_calls';

/**
 * The acc extras, in this order after acc's own columns (method, from_tag,
 * to_tag, callid, sip_code, sip_reason, time). Parsed by
 * supervisor/src/evidence/callRecordLine.ts — change both together.
 */
export const CALL_RECORD_EXTRAS = ['ts', 'role', 'caller', 'pai', 'called', 'probe'] as const;

interface CallRecordHooks {
  modules: string;
  arrived: string;
  abandoned: string;
  rejected: string;
  answered: string;
  ended: string;
  routes: string;
}

function callRecordHooks(input: KamailioRenderInput): CallRecordHooks {
  if (!input.callRecords) return { modules: '', arrived: '', abandoned: '', rejected: '', answered: '', ended: '', routes: '' };
  const hook = (indent: string, body: string) => `\n#!ifdef WITH_CALL_RECORDS\n${indent}${body}\n#!endif`;
  const extras = ['ts=$TV(Sn)', 'role=$avp(vp_route)', 'caller=$avp(vpcr_caller)', 'pai=$avp(vpcr_pai)', 'called=$avp(vpcr_called)', 'probe=$avp(vpcr_probe)'];
  return {
    modules: [
      '',
      '#!ifdef WITH_CALL_RECORDS',
      '# Call records: acc writes through db_flatstore (append-only local files).',
      'loadmodule "db_flatstore.so"',
      'loadmodule "acc.so"',
      `modparam("acc", "db_url", ${kamailioString(`flatstore:${input.callRecords.dir}`)})`,
      `modparam("acc", "db_extra", "${extras.join(';')}")`,
      '#!endif',
    ].join('\n'),
    arrived: hook('\t', 'route(CALL_ARRIVED);'),
    abandoned: hook('\t\t', 'acc_db_request("487 abandoned", "' + CALL_RECORDS_TABLE + '");'),
    rejected: hook('\t', `acc_db_request("${input.finalReply.code} rejected", "${CALL_RECORDS_TABLE}");`),
    answered: hook('\t', 'if (is_method("INVITE") && $rs >= 200 && $rs < 300) { acc_db_request("$rs answered", "' + CALL_RECORDS_TABLE + '"); }'),
    ended: hook('\t\t', 'if (is_method("BYE")) { acc_db_request("ended", "' + CALL_RECORDS_TABLE + '"); }'),
    routes: `
#!ifdef WITH_CALL_RECORDS
# Call records: the first milestone. The caller's number follows the case (KoKom
# T22): From user and, when the trunk sends it, the P-Asserted-Identity user.
# Later milestones of the same transaction carry these AVPs along.
route[CALL_ARRIVED] {
	$avp(vpcr_caller) = $fU;
	if ($ai != $null) {
		$avp(vpcr_pai) = $(ai{uri.user});
	}
	$avp(vpcr_called) = $rU;
	$avp(vpcr_probe) = 0;
	if (isflagset(FLT_PROBE)) {
		$avp(vpcr_probe) = 1;
	}
	acc_db_request("arrived", "${CALL_RECORDS_TABLE}");
}
#!endif
`,
  };
}

// ---------------------------------------------------------------------------
// Recording (the audio log, issue #7). Everything below and every `${rec.…}` hook
// above belongs to this block; without `rtpengine` the hooks render exactly the
// old placeholders and the cfg is unchanged.
//
// Media is anchored in rtpengine (userspace, recording-method=pcap) so every call
// is recorded on the box; ops/rtpengine/README.md. Recording never sits in the
// call's way: a dead rtpengine costs the first call at most offerTimeoutMs × 2,
// then rtpengine is skipped for retryAfterS and calls go on with media end to
// end — UNRECORDED, which the supervisor notices through the call events below
// ("calls Kamailio connected without a recording", matched by Call-ID).

export interface RecordingRenderInput {
  /** rtpengine's ng control socket. */
  ng: { host: string; port: number };
  /** Per-try deadline of an ng command (rtpengine_tout_ms); two tries. */
  offerTimeoutMs: number;
  /** After a failure rtpengine is skipped this long (rtpengine_disable_tout). */
  retryAfterS: number;
  /** UDP port on 127.0.0.1 where the supervisor hears `connected`/`ended` call events. */
  eventsPort: number;
  /** Request-URI user of the box's own known-audio test call (probe only): routed to the announcement. */
  testNumber: string;
}

/**
 * Datagram prefix of the call events (parsed by supervisor/src/audiolog/callEvents.ts — change both together).
 * Version 2: the box's control secret follows the prefix, so no other local process can forge an event.
 */
export const CALL_EVENT_PREFIX = 'VPCALL2';

function recordingInputFromConfig(calls: CallsConfig): RecordingRenderInput | undefined {
  const r = calls.recording;
  if (!r.enabled) return undefined;
  return {
    ng: r.rtpengine,
    offerTimeoutMs: r.offerTimeoutMs,
    retryAfterS: r.retryAfterS,
    eventsPort: r.eventsPort,
    testNumber: r.testNumber,
  };
}

function validateRecording(r: RecordingRenderInput): string[] {
  const problems: string[] = [];
  if (!/^[A-Za-z0-9+*#._-]+$/.test(r.testNumber)) {
    problems.push(`recording.testNumber ${JSON.stringify(r.testNumber)} may hold digits, letters, + * # . _ - only`);
  }
  if (!/^[0-9.]+$/.test(r.ng.host)) problems.push(`recording.rtpengine.host ${JSON.stringify(r.ng.host)} must be an IPv4 address`);
  return problems;
}

interface RecordingHooks {
  defines: string[];
  modules: string;
  modparams: string;
  offer: string;
  cancel: string;
  relay: string;
  lastWords: string;
  reply: string;
  inDialog: string;
  routes: string;
}

function recordingHooks(input: KamailioRenderInput): RecordingHooks {
  const r = input.rtpengine;
  if (!r) {
    return {
      defines: [],
      modules: '#!ifdef WITH_RTPENGINE\nloadmodule "rtpengine.so"\n#!endif',
      modparams: '#!ifdef WITH_RTPENGINE\n# modparam("rtpengine", "rtpengine_sock", RTPENGINE_SOCK)\n#!endif',
      offer: '#!ifdef WITH_RTPENGINE\n\t# rtpengine_offer("record-call=yes");\n#!endif',
      cancel: '',
      relay: '',
      lastWords: '',
      reply: '',
      inDialog: '',
      routes: '',
    };
  }
  const hook = (indent: string, body: string) => `\n#!ifdef WITH_RTPENGINE\n${indent}${body}\n#!endif`;
  const defines = [
    '#!define WITH_RTPENGINE',
    `#!define RTPENGINE_SOCK "udp:${r.ng.host}:${r.ng.port}"`,
    `#!define RECORDING_EVENTS_URI "sip:127.0.0.1:${r.eventsPort}"`,
    `#!define RECORDING_TEST_NUMBER ${kamailioString(r.testNumber)}`,
    // Recording flags on every offer/answer: rtpengine rewrites the SDP to itself
    // (media anchored on the box) and records the call to pcap.
    '#!define RTPENGINE_FLAGS "replace-origin replace-session-connection ICE=remove"',
  ];
  return {
    defines,
    modules: '#!ifdef WITH_RTPENGINE\nloadmodule "rtpengine.so"\n#!endif',
    modparams: [
      '#!ifdef WITH_RTPENGINE',
      "# The audio log's recorder (loopback ng socket). A dead rtpengine costs the first call",
      '# at most 2 x rtpengine_tout_ms, then it is skipped for rtpengine_disable_tout seconds',
      '# (calls go on unrecorded and the supervisor raises the alarm).',
      'modparam("rtpengine", "rtpengine_sock", RTPENGINE_SOCK)',
      `modparam("rtpengine", "rtpengine_tout_ms", ${r.offerTimeoutMs})`,
      'modparam("rtpengine", "rtpengine_retr", 1)',
      `modparam("rtpengine", "rtpengine_disable_tout", ${r.retryAfterS})`,
      '#!endif',
    ].join('\n'),
    offer: hook('\t', 'route(RECORDING_OFFER);'),
    cancel: hook('\t\t\t', 'rtpengine_delete();'),
    relay: hook('\t\t', '$avp(vprec_centre) = $du;'),
    lastWords: hook('\t', 'rtpengine_delete();'),
    reply: hook('\t', 'route(RECORDING_REPLY);'),
    inDialog: hook('\t\t', 'route(RECORDING_IN_DIALOG);'),
    routes: `
#!ifdef WITH_RTPENGINE
# Recording: the offer. rtpengine records the call (pcap) with Vaktpost's metadata;
# every value hex-encoded so nothing a caller sends can add a field or a space
# (rtpengine splits its flags on spaces). Parsed by hardware/rtpengine/metadata.ts.
route[RECORDING_OFFER] {
	$avp(vprec_initial) = 1;
	$avp(vprec_ok) = 0;
	$avp(vprec_caller) = $(fU{s.encode.hexa});
	$avp(vprec_called) = $(rU{s.encode.hexa});
	$avp(vprec_meta) = "vaktpost=1|callid=" + $(ci{s.encode.hexa}) + "|caller=" + $avp(vprec_caller) + "|called=" + $avp(vprec_called);
	if (isflagset(FLT_PROBE)) {
		$avp(vprec_meta) = $avp(vprec_meta) + "|test=31";
	}
	if (has_body("application/sdp")) {
		if (rtpengine_offer(RTPENGINE_FLAGS + " record-call=yes metadata=" + $avp(vprec_meta))) {
			$avp(vprec_ok) = 1;
		} else {
			xlog("L_ERR", "vaktpost: rtpengine did not take the offer for $ci - this call is NOT RECORDED\\n");
		}
	} else {
		xlog("L_WARN", "vaktpost: INVITE without SDP for $ci - not recorded (late offer is not anchored)\\n");
	}
	# The box's known-audio test call goes to the announcement (a known prompt), never to a nurse.
	if (isflagset(FLT_PROBE) && $rU == RECORDING_TEST_NUMBER) {
		route(ANNOUNCEMENT);
		exit;
	}
}

# Recording: the answer, and the "connected" event the supervisor matches against
# the recordings by Call-ID.
route[RECORDING_REPLY] {
	if (!is_method("INVITE") || $rs < 180 || $rs >= 300) {
		return;
	}
	if ($avp(vprec_ok) == 1 && has_body("application/sdp")) {
		if (!rtpengine_answer(RTPENGINE_FLAGS + " metadata=" + $avp(vprec_meta) + "|route=" + $(avp(vp_route){s.encode.hexa}) + "|centre=" + $(avp(vprec_centre){s.encode.hexa}))) {
			$avp(vprec_ok) = 0;
			xlog("L_ERR", "vaktpost: rtpengine did not take the answer for $ci - this call is NOT RECORDED\\n");
		}
	}
	if ($rs >= 200 && $avp(vprec_initial) == 1 && $avp(vprec_connected) != 1) {
		$avp(vprec_connected) = 1;
		$var(probe) = 0;
		if (isflagset(FLT_PROBE)) {
			$var(probe) = 1;
		}
		# Fields are hex with an "x" in front, so an empty value still takes its place.
		# The events key after the prefix: the supervisor drops events without it.
		# The tags let the supervisor play the recording notice to the caller (audiolog/notice.ts).
		send_data(RECORDING_EVENTS_URI, "${CALL_EVENT_PREFIX} ${controlKeys(input.controlSecret).events} connected $TV(Sn) x$(ci{s.encode.hexa}) x$avp(vprec_caller) x$avp(vprec_called) x$(avp(vp_route){s.encode.hexa}) x$(avp(vprec_centre){s.encode.hexa}) $avp(vprec_ok) $var(probe) x$(ft{s.encode.hexa}) x$(tt{s.encode.hexa})");
	}
}

# Recording in the dialog: a re-INVITE keeps the media on rtpengine (else it would
# slip to end-to-end and the rest of the call would go unrecorded), BYE ends it.
route[RECORDING_IN_DIALOG] {
	if (is_method("BYE")) {
		rtpengine_delete();
		send_data(RECORDING_EVENTS_URI, "${CALL_EVENT_PREFIX} ${controlKeys(input.controlSecret).events} ended $TV(Sn) x$(ci{s.encode.hexa})");
	} else if (is_method("INVITE") && has_body("application/sdp")) {
		rtpengine_offer(RTPENGINE_FLAGS + " record-call=yes");
		t_on_reply("RECORDING_REINVITE_REPLY");
	} else if (is_method("ACK") && has_body("application/sdp")) {
		rtpengine_answer(RTPENGINE_FLAGS);
	}
}

onreply_route[RECORDING_REINVITE_REPLY] {
	if ($rs >= 180 && $rs < 300 && has_body("application/sdp")) {
		rtpengine_answer(RTPENGINE_FLAGS);
	}
}
#!endif
`,
  };
}

// ---------------------------------------------------------------------------
// Call outcomes (issue #16): what the calls themselves say about each centre.
// A centre can answer every OPTIONS keepalive and still drop or refuse every
// INVITE; the keepalives then keep putting it back in rotation and callers pay
// the no-reply timer again and again. Kamailio counts, per role (local,
// backup), the INVITEs a centre failed (no reply at all — 408 — or a 5xx) and
// took (180–299), and how many failed in a row since it last took one. The
// supervisor reads the table over JSON-RPC (`htable.dump vp_outcome`,
// monitors/callOutcomeMonitor.ts) and judges it (core/callOutcomes.ts). A busy
// centre (486), a caller's hang-up and a centre the box took out of rotation
// while it rang (after its 180) say nothing about whether it takes calls: not counted.

/** The htable the supervisor reads: `<role>::failed`, `<role>::taken`, `<role>::streak`, `<role>::code`. */
export const CALL_OUTCOME_TABLE = 'vp_outcome';

const CALL_OUTCOME_ROUTES = `
# Call outcomes: a centre failed this INVITE (failure_route, not a hang-up).
route[CALL_OUTCOME_FAILED] {
	if ($avp(vp_route) != "local" && $avp(vp_route) != "backup") {
		return;
	}
	# Ringing when the box took the centre out of rotation: the centre took the call
	# (counted then); the 503/487 that ended the branch is the box's doing. A branch
	# the centre never answered at all is a drop whoever cancelled it.
	if (isflagset(FLT_DST_DOWN) && t_branch_replied()) {
		return;
	}
	if ($T_reply_code == 408 || ($T_reply_code >= 500 && $T_reply_code < 600)) {
		$var(vpco_key) = $avp(vp_route) + "::failed";
		route(CALL_OUTCOME_INC);
		$var(vpco_key) = $avp(vp_route) + "::streak";
		route(CALL_OUTCOME_INC);
		$sht(${CALL_OUTCOME_TABLE}=>$avp(vp_route)::code) = $T_reply_code;
	}
}

# $shtinc creates no missing key: start it at 0 first.
route[CALL_OUTCOME_INC] {
	if ($sht(${CALL_OUTCOME_TABLE}=>$var(vpco_key)) == $null) {
		$sht(${CALL_OUTCOME_TABLE}=>$var(vpco_key)) = 0;
	}
	$var(vpco) = $shtinc(${CALL_OUTCOME_TABLE}=>$var(vpco_key));
}

# Call outcomes: a centre took the call (ringing or answered); counted once per branch.
route[CALL_OUTCOME_TAKEN] {
	if (!is_method("INVITE") || $rs < 180 || $rs >= 300 || ($avp(vp_route) != "local" && $avp(vp_route) != "backup")) {
		return;
	}
	if ($avp(vpco_taken) == $avp(vp_route)) {
		return;
	}
	$avp(vpco_taken) = $avp(vp_route);
	$var(vpco_key) = $avp(vp_route) + "::taken";
	route(CALL_OUTCOME_INC);
	$sht(${CALL_OUTCOME_TABLE}=>$avp(vp_route)::streak) = 0;
}
`;
