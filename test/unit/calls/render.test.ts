/** The Kamailio cfg and dispatcher list rendered from Vaktpost's config. */
import t from 'tap';
import { callsSchema } from '../../../supervisor/src/config/calls.js';
import {
  dispatcherEntries,
  type KamailioRenderInput,
  renderDispatcherList,
  renderInputFromConfig,
  renderKamailio,
} from '../../../supervisor/src/reconcilers/kamailio/render.js';

const calls = callsSchema.parse({
  sip: { address: '10.20.0.5', port: 5060 },
  trunk: { sources: ['195.18.0.0/24', '195.18.1.7'] },
  centres: {
    local: { uris: ['sip:legevakt@10.20.0.10:5060'] },
    backup: { uris: ['sip:backup@10.30.0.10:5060', 'sip:backup@10.30.0.11:5060'] },
  },
  announcement: { uris: ['sip:announcement@127.0.0.1:5090'] },
});
const input = renderInputFromConfig(calls, {
  dispatcherListPath: '/var/lib/vaktpost/kamailio/dispatcher.list',
  controlSecret: '0123456789abcdef0123456789abcdef',
});

t.test('cfg carries our timers, keepalives, dispatcher algorithm and failure routing', async (t) => {
  const { cfg } = renderKamailio(input);
  t.match(cfg, /#!define FR_TIMER 2000\n/, 'fr_timer 2000 ms');
  t.match(cfg, /#!define FR_INV_TIMER 20000\n/, 'fr_inv_timer 20000 ms');
  t.match(cfg, /modparam\("tm", "fr_timer", FR_TIMER\)/);
  t.match(cfg, /modparam\("dispatcher", "ds_ping_interval", 2\)/, 'keepalive every 2 s');
  t.match(cfg, /modparam\("dispatcher", "ds_probing_mode", 1\)/, 'probe every destination');
  t.match(cfg, /ds_ping_reply_codes", "code=403;code=404;code=405;code=501"/);
  t.match(cfg, /ds_select_dst\(SET_CENTRES, "8"\)/, 'algorithm 8: priority order');
  t.match(cfg, /failure_route\[CENTRE_FAILED\]/);
  t.match(cfg, /ds_next_dst\(\)/);
  t.match(cfg, /#!define WITH_KEEPALIVES/, 'keepalive-only logic enabled');
  t.match(cfg, /if \(ds_is_active\(SET_CENTRES, "\$var\(failed_uri\)"\)\) \{\n\t\t\tds_mark_dst\("ip"\);/, 'ds_mark_dst only for a destination still active');
  t.notMatch(cfg, /sl_reply_error\(\);\n\s*exit;\n\s*\}\n\s*record_route/, 'no stock "if(!t_relay()) sl_reply_error()" on the initial INVITE');
  t.match(cfg, /t_reply\(FINAL_CODE, FINAL_REASON\)/, 'last words are the configured final reply');
  t.match(cfg, /#!define FINAL_CODE "480"/);
  t.notMatch(cfg, /"486"|"600"|"603"/, 'no busy/decline code anywhere in the cfg');
  const xlogs = cfg.split('\n').filter((l) => l.includes('xlog('));
  t.ok(xlogs.length > 5 && xlogs.every((l) => /\\n"\);$/.test(l)), 'every xlog is one line ending in an escaped \\n');
});

t.test('listeners, RPC and run dir', async (t) => {
  const { cfg } = renderKamailio({ ...input, runDir: '/run/vaktpost/kamailio' });
  t.match(cfg, /^listen=udp:10\.20\.0\.5:5060$/m);
  t.match(cfg, /^listen=tcp:127\.0\.0\.1:5071$/m, 'RPC listener on loopback only');
  t.match(cfg, /^tcp_accept_no_cl=yes$/m);
  t.match(cfg, /modparam\("jsonrpcs", "transport", 1\)/, 'HTTP transport only (no FIFO in /run/kamailio)');
  t.match(cfg, /modparam\("ctl", "binrpc", "unix:\/run\/vaktpost\/kamailio\/kamailio_ctl"\)/);
  t.match(cfg, /if \(src_ip != 127\.0\.0\.1 \|\| \$Rp != RPC_PORT\)/, 'xhttp refuses anything but loopback on the RPC port');
  t.match(cfg, /#!ifdef WITH_RTPENGINE/, 'room for rtpengine');
  const tcp = renderKamailio({ ...input, listen: { ...input.listen, transports: ['udp', 'tcp'], advertise: '84.1.2.3' } }).cfg;
  t.match(tcp, /^listen=tcp:10\.20\.0\.5:5060 advertise 84\.1\.2\.3:5060$/m);
});

t.test('trunk sources become an allow-list (loopback always allowed)', async (t) => {
  const { cfg } = renderKamailio(input);
  t.match(cfg, /is_in_subnet\("\$si", "195\.18\.0\.0\/24"\) \|\| is_in_subnet\("\$si", "195\.18\.1\.7\/32"\)/);
  t.match(cfg, /if \(src_ip == 127\.0\.0\.1\) return;/);
  t.match(cfg, /sl_send_reply\("403", "Forbidden"\)/);
  const open = renderKamailio({ ...input, trunkSources: [] }).cfg;
  t.match(open, /route\[FROM_TRUNK\] \{\n\t# calls.trunk.sources is empty/);
});

t.test('peer settings: no keepalives → no ds_mark_dst (nothing would ever revive the centre)', async (t) => {
  const peer: KamailioRenderInput = {
    ...input,
    timers: { ...input.timers, noReplyMs: 30_000, ringNoAnswerMs: 120_000, keepaliveIntervalS: 0, keepaliveReplyCodes: [] },
  };
  const { cfg } = renderKamailio(peer);
  t.match(cfg, /ds_ping_interval", 0\)/);
  t.notMatch(cfg, /#!define WITH_KEEPALIVES/);
  t.match(cfg, /#!define FR_TIMER 30000/);
});

t.test('dispatcher list: priorities, roles, and the persisted failover', async (t) => {
  const entries = dispatcherEntries(input);
  t.same(
    entries.map((e) => [e.set, e.role, e.priority]),
    [
      [1, 'local', 200],
      [1, 'backup', 100],
      [1, 'backup', 99],
      [2, 'announcement', 100],
    ],
  );
  const list = renderDispatcherList(input);
  t.match(list, /^1 sip:legevakt@10\.20\.0\.10:5060 0 200 route=local$/m);
  t.match(list, /^2 sip:announcement@127\.0\.0\.1:5090 0 100 route=announcement$/m);
  const failed = renderDispatcherList(input, 'backup');
  t.match(failed, /^1 sip:legevakt@10\.20\.0\.10:5060 4 200 route=local$/m, 'local disabled (flag 4) when persisted as backup');
  t.match(failed, /^1 sip:backup@10\.30\.0\.10:5060 0 100 route=backup$/m, 'backup stays active');
});

t.test('render refuses inputs that would break routing', async (t) => {
  t.throws(() => renderKamailio({ ...input, finalReply: { code: 486, reason: 'Busy Here' } }), /never hear busy/);
  t.throws(() => renderKamailio({ ...input, centres: { local: [], backup: input.centres.backup } }), /no local centre/);
  t.throws(() => renderKamailio({ ...input, announcement: { ...input.announcement, uris: [] } }), /no announcement/);
  t.throws(() => renderKamailio({ ...input, centres: { local: ['sip:a"b@x'], backup: input.centres.backup } }), /quotes/);
  t.throws(() => renderKamailio({ ...input, centres: { local: input.centres.backup.slice(0, 1), backup: input.centres.backup } }), /twice/);
  t.throws(() => renderKamailio({ ...input, runDir: 'relative/dir' }), /absolute/);
});
