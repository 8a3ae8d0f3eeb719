/**
 * The whole call path with the real supervisor process: SIPp centres (local,
 * backup) and announcement, a real Kamailio rendered from Vaktpost's config, and
 * `vaktpost run` on the simulated box driving that Kamailio.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTestPrompt } from './audio/prompt.js';
import { startKamailio } from './kamailio.js';
import { startAnnouncement, startCentre, waitSipReady } from './sipp.js';
import { startSupervisor } from './supervisorProcess.js';
import { freePort, scratchDir } from './util.js';

interface TeardownHost {
  teardown(fn: () => unknown): void;
}

export async function startSupervisorCallLab(t: TeardownHost, timing: { failbackHoldS?: number; holdDownS?: number } = {}) {
  const { failbackHoldS = 600, holdDownS = 5 } = timing;
  const prompt = await makeTestPrompt(t);
  const [local, backup, announcement] = await Promise.all([startCentre(t, 'local'), startCentre(t, 'backup'), startAnnouncement(t, prompt.file)]);
  await Promise.all([local, backup, announcement].map((u) => waitSipReady(u.port)));
  const kam = await startKamailio(t, { centres: { local: [local.uri], backup: [backup.uri] }, announcementUris: [announcement.uri] });
  const { dir, cleanup } = await scratchDir('sup-calls');
  t.teardown(cleanup);
  const port = await freePort();
  const file = path.join(dir, 'vaktpost.yaml');
  writeFileSync(
    file,
    [
      'box:',
      '  name: calls-test',
      `  dataDir: ${path.join(dir, 'data')}`,
      '  hardware: simulated',
      'api:',
      '  listen: 127.0.0.1',
      `  port: ${port}`,
      'policy:',
      `  failbackHoldS: ${failbackHoldS}`,
      `  holdDownS: ${holdDownS}`,
      '  tickMs: 100',
      'sim:',
      '  reportMs: 200',
      'calls:',
      '  sip: { address: 127.0.0.1, port: ' + kam.sipPort + ' }',
      `  centres: { local: { uris: ["${local.uri}"] }, backup: { uris: ["${backup.uri}"] } }`,
      `  announcement: { uris: ["${announcement.uri}"] }`,
      `  rpc: { port: ${kam.rpcPort} }`,
      '  verify: { optionsTimeoutMs: 1000, testCall: { enabled: true, number: vaktpost-test, timeoutMs: 8000 } }',
      '  drill: { enabled: false }',
      '',
    ].join('\n'),
  );
  const start = () => startSupervisor(file, port);
  return { local, backup, announcement, kam, file, start };
}
