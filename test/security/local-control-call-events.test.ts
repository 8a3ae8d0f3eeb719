/**
 * Issue #17 item 10, call events: Kamailio tells the supervisor over UDP on
 * loopback which calls it connected (and whether rtpengine records them) and
 * when they ended. Before the control secret any local account could send such
 * a datagram: a forged "connected, not recorded" put a call that never
 * happened into the audit and raised a false "call connected WITHOUT
 * recording" alarm. Here `nobody` forges events against the real supervisor
 * process; a real call through the real Kamailio + rtpengine still gets in.
 */
import t from 'tap';
import { startRecordingLab, talkingCalls } from '../helpers/rtpengine.js';
import { writeRecordingConfig } from '../helpers/supervisorCallLab.js';
import { startSupervisor } from '../helpers/supervisorProcess.js';
import { scratchDir, waitFor } from '../helpers/util.js';
import { asLocalUser, UDP_SEND_JS } from './localUser.js';

interface EventRow {
  kind: string;
  severity: string;
  en: string;
  nb: string;
  data: { callId?: string; total?: number; why?: string } | null;
}
interface CallRow {
  callId: string;
}
interface Status {
  actuators: Array<{ actuator: string; converged: boolean; observed: string }>;
}

const hex = (s: string) => `x${Buffer.from(s).toString('hex')}`;
const CALL_STATES = ['missing', 'incomplete', 'lost', 'recorded', 'active', 'ended'] as const;

t.test('forged call events from a local user are dropped and alarmed; Kamailio’s own still count', async (t) => {
  const lab = await startRecordingLab(t);
  const { dir, cleanup } = await scratchDir('sec-call-events');
  t.teardown(cleanup);
  const { file, port } = await writeRecordingConfig(dir, lab, {
    name: 'sec-call-events',
    calls: ['  verify: { optionsTimeoutMs: 1000, testCall: { enabled: false } }'],
  });
  const sup = await startSupervisor(file, port);
  t.teardown(() => sup.kill('SIGKILL'));

  // The supervisor (root, with the secret from calls.configDir) steers Kamailio.
  await waitFor(
    async () => {
      const k = (await sup.api<Status>('GET', '/api/status')).json.actuators.find((a) => a.actuator === 'kamailio');
      return k?.converged === true && k.observed === 'local';
    },
    { timeoutMs: 30_000, what: 'the supervisor to converge Kamailio on local over the authenticated RPC' },
  );

  const now = (Date.now() / 1000).toFixed(6);
  const forged = {
    // The old format: exactly what Kamailio sent before the secret.
    old: `VPCALL1 connected ${now} ${hex('forged-old@evil')} ${hex('4790000001')} ${hex('116117')} ${hex('local')} x 0 0 ${hex('a')} ${hex('b')}`,
    // The new format with a guessed secret.
    guessed: `VPCALL2 ${'ab'.repeat(32)} connected ${now} ${hex('forged-guess@evil')} ${hex('4790000002')} ${hex('116117')} ${hex('local')} x 0 0 ${hex('a')} ${hex('b')}`,
  };
  for (const [name, text] of Object.entries(forged)) {
    const r = await asLocalUser(process.execPath, ['-e', UDP_SEND_JS, Buffer.from(text).toString('base64'), String(lab.eventsPort)]);
    t.equal(r.stdout.trim(), 'sent', `nobody can send the ${name} forgery to the events port (it is open on loopback)`);
  }

  const rejected = await waitFor(
    async () => {
      const evs = (await sup.api<{ events: EventRow[] }>('GET', '/api/events?kind=recording.callEventRejected&limit=10')).json.events;
      return evs.length > 0 ? evs : null;
    },
    { timeoutMs: 15_000, what: 'the recording.callEventRejected alarm' },
  );
  t.equal(rejected.length, 1, 'the drop is alarmed, once (at most one alarm a minute)');
  const alarm = rejected[0];
  t.equal(alarm?.severity, 'alarm', 'as an alarm');
  t.match(alarm?.en, /without the control secret was dropped .*kamailio-render/, 'English: the cause and the fix');
  t.match(alarm?.nb, /uten kontrollhemmeligheten ble forkastet/, 'bokmål too');
  t.equal(alarm?.data?.why, 'no-secret');
  t.ok((alarm?.data?.total ?? 0) >= 1, 'with the running count');

  // A real call after the forgeries: Kamailio's events queue behind them on the same socket,
  // so once the supervisor has this call, it has also judged both forgeries.
  const call = await talkingCalls(t, lab, { caller: '4790000009', holdMs: 1500 });
  t.equal(call.result.stats?.successful, 1, 'the real call went through');
  const realId = [...call.callIds.values()][0] ?? '';
  const allCalls = async () => {
    const ids = new Set<string>();
    for (const state of CALL_STATES) {
      const r = await sup.api<{ calls: CallRow[] }>('GET', `/api/audiolog/calls?state=${state}&limit=1000`);
      for (const c of r.json.calls) ids.add(c.callId);
    }
    return ids;
  };
  const ids = await waitFor(async () => ((await allCalls()).has(realId) ? allCalls() : null), {
    timeoutMs: 30_000,
    what: "the real call's Kamailio event in the supervisor's call audit",
  });
  t.ok(ids.has(realId), "Kamailio's own event (with the secret) is taken");
  t.notOk(ids.has('forged-old@evil'), 'the old-format forgery is not in the audit');
  t.notOk(ids.has('forged-guess@evil'), 'the guessed-secret forgery is not in the audit');
  const notRecording = (await sup.api<{ events: EventRow[] }>('GET', '/api/events?kind=recording.notRecording&limit=50')).json.events;
  t.same(
    notRecording.filter((e) => /forged/.test(e.data?.callId ?? '')),
    [],
    'no false "connected WITHOUT recording" alarm for a call that never happened',
  );
});
