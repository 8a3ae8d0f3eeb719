/**
 * ops/chrony/chrony.conf is valid for chronyd 4.3, and a chronyd running it
 * (paths and networks swapped for the test's, -x so the system clock is not
 * touched) serves the time it follows to the LAN: an NTP client on the "LAN"
 * sees the upstream's offset, through the box.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { ChronycClient } from '../../../hardware/chrony/index.js';
import { renderChronyConf } from '../../../supervisor/src/apply/chrony.js';
import { loadConfigFile } from '../../../supervisor/src/config/load.js';
import { sntpQuery } from '../../../hardware/ntp/index.js';
import { CHRONYC, CHRONYD, startChronyd } from '../../helpers/chronyd.js';
import { startNtpServer, withinNtpBound } from '../../helpers/ntpServer.js';
import { freePort, waitFor } from '../../helpers/util.js';

const execFileP = promisify(execFile);
const OPS_CONF = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../ops/chrony/chrony.conf');

/** Directives that point at the real box's paths/networks; the test rig supplies its own. */
const BOX_ONLY =
  /^(sourcedir|confdir|driftfile|rtcsync|logdir|log|keyfile|ntsdumpdir|dumpdir|pidfile|bindcmdaddress|cmdport|port|allow|binddevice|bindaddress)\b/;

t.test('chronyd accepts ops/chrony/chrony.conf as written, with what `vaktpost apply` renders into its confdir', async (t) => {
  const { stdout } = await execFileP(CHRONYD, ['-p', '-f', OPS_CONF]);
  t.match(stdout, /^local stratum 10 orphan$/m);
  t.match(stdout, /^cmdport 0$/m);
  // The box's part (sources, LAN access) comes from the example config through apply's renderer.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'vaktpost-chrony-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const cfg = loadConfigFile(path.resolve(path.dirname(OPS_CONF), '../vaktpost.example.yaml'));
  await mkdir(path.join(dir, 'conf.d'));
  await writeFile(path.join(dir, 'conf.d', 'vaktpost.conf'), renderChronyConf(cfg));
  const text = await readFile(OPS_CONF, 'utf8');
  t.match(text, /^confdir \/etc\/chrony\/conf\.d$/m, 'chrony.conf reads the rendered file from /etc/chrony/conf.d');
  await writeFile(path.join(dir, 'chrony.conf'), text.replace(/^confdir .*$/m, `confdir ${path.join(dir, 'conf.d')}`));
  const both = await execFileP(CHRONYD, ['-p', '-f', path.join(dir, 'chrony.conf')]);
  t.match(both.stdout, /^allow 10\.20\.0\.0\/24$/m, 'allow for the LAN (firewall.lanNetworks)');
  t.match(both.stdout, /^allow 10\.20\.9\.0\/24$/m, 'allow for the management network');
  t.match(both.stdout, /^pool no\.pool\.ntp\.org iburst maxpoll 6 maxsources 4$/m, 'the upstream pool, maxpoll 6');
});

t.test('the box config serves the followed time to LAN clients', async (t) => {
  const upstream = await startNtpServer({ offsetS: 0.3 });
  t.teardown(() => upstream.close());
  const text = await readFile(OPS_CONF, 'utf8');
  const baseConf = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !BOX_ONLY.test(l));
  t.ok(baseConf.includes('local stratum 10 orphan'), 'orphan fallback kept');
  t.ok(baseConf.includes('makestep 1 3'));
  const ntpPort = await freePort();
  const box = await startChronyd({ serverPort: upstream.port, ntpPort, baseConf, extraConf: ['allow 127.0.0.1'] });
  t.teardown(() => box.stop());

  // Wait until chronyd has settled on the upstream's +0.3 s, then ask the box as a LAN client would.
  const client = new ChronycClient({ chronycPath: CHRONYC, host: box.socketPath });
  // Both: the offset taken AND the upstream selected as reference (stratum 2,
  // synchronised) — under load the first was once seen while chronyd still
  // served its orphan stratum 10.
  await waitFor(
    async () => {
      const tr = await client.tracking();
      return tr.stratum === 2 && tr.leapStatus === 'Normal' && Math.abs(tr.systemTimeS - 0.3) < 0.002;
    },
    {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'box chronyd to follow the +0.3 s upstream',
    },
  );
  const before = (await client.serverStats()).ntpPacketsReceived;
  const r = await sntpQuery('127.0.0.1', { port: ntpPort, timeoutMs: 1000 });
  // SNTP is exact to half the round trip; chronyd itself was settled to 2 ms above.
  t.ok(
    withinNtpBound(r.offsetS, 0.3, r.delayS, 0.0025),
    `LAN client sees the box +0.3 s ahead of its own clock: ${r.offsetS.toFixed(4)} s (round trip ${(r.delayS * 1000).toFixed(2)} ms)`,
  );
  t.equal(r.stratum, 2, 'served one stratum below the upstream');
  t.equal(r.hostSynchronised, true);
  const after = (await client.serverStats()).ntpPacketsReceived;
  t.ok(after > before, `chronyd counted the LAN query (serverstats ${before} → ${after})`);
});
