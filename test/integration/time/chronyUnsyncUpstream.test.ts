/**
 * Acceptance (issue #4): an upstream that answers but calls itself
 * unsynchronised (leap 3 "alarm", stratum 16 — ntpd/chronyd that lost their
 * own time) is explicitly unusable: `time.source` fails within seconds, not
 * after maxSourceLossS, although chronyd's tracking still says "Normal" and
 * `chronyc sources` still shows `*` with the last good stratum for a few polls.
 * chronyd shows it only in `chronyc ntpdata` (leap / stratum of the last packet).
 */
import t from 'tap';
import { startTimeRig, waitAllOk } from './setup.js';

t.test('the only upstream turns stratum 16 / leap 3: time fails within seconds; back when it recovers', async (t) => {
  const rig = await startTimeRig(t);
  await waitAllOk(rig);

  const at = rig.server.setUnsynchronised(true);
  const fail = await rig.log.next('time.source', (s) => s.status === 'fail', 30_000, 'time.source fail');
  const afterS = (fail.mono - at) / 1000;
  t.comment(`stratum 16 / leap 3 → time.source fail after ${afterS.toFixed(2)} s (maxSourceLossS ${30} s in this rig): ${fail.detail}`);
  t.match(fail.detail, /no usable NTP source: 127\.0\.0\.1 \(says unsynchronised: leap Not synchronised, stratum 16\)/);
  t.equal(fail.value, null);

  // What chronyd itself says meanwhile.
  const [tr, sources, packets] = await Promise.all([rig.client.tracking(), rig.client.sources(), rig.client.ntpData()]);
  t.equal(tr.leapStatus, 'Normal', 'chronyc tracking: still Normal');
  t.equal(rig.log.status('time.leap'), 'ok');
  t.equal(packets[0]?.leapStatus, 'Not synchronised', 'chronyc ntpdata: leap of the last packet');
  t.equal(packets[0]?.stratum, 16, 'chronyc ntpdata: stratum of the last packet');
  t.comment(`chronyc sources meanwhile: state ${sources[0]?.state}, stratum ${sources[0]?.stratum}, reach ${sources[0]?.reach.toString(8)}`);

  rig.server.setUnsynchronised(false);
  await rig.log.next('time.source', (s) => s.status === 'ok', 30_000, 'time.source ok after the upstream recovered');
  t.pass('time.source ok again once the upstream answers synchronised');

  // Stratum 16 with leap 0 (a server that only sets the stratum) is just as unusable.
  rig.server.setStratum(16);
  await rig.log.next('time.source', (s) => s.status === 'fail', 30_000, 'time.source fail on stratum 16 alone');
  rig.server.setStratum(1);
  await rig.log.next('time.source', (s) => s.status === 'ok', 30_000, 'time.source ok again');
});
