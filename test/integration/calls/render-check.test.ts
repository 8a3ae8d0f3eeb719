/**
 * Every cfg variant the renderer produces passes Kamailio's own parser
 * (`kamailio -c`), with no warnings — and the checked-in example is current.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t, { type Test } from 'tap';
import { renderKamailio, type KamailioRenderInput } from '../../../supervisor/src/reconcilers/kamailio/render.js';
import { KAMAILIO, KAMAILIO_DEFAULT_TIMERS, OUR_TIMERS } from '../../helpers/kamailio.js';
import { scratchDir } from '../../helpers/util.js';

const run = promisify(execFile);

async function check(t: Test, name: string, patch: Partial<KamailioRenderInput>) {
  const s = await scratchDir('kamcheck');
  t.teardown(() => s.cleanup());
  const input: KamailioRenderInput = {
    listen: { address: '127.0.0.1', port: 25060, transports: ['udp'] },
    trunkSources: [],
    centres: { local: ['sip:local@127.0.0.1:25061'], backup: ['sip:backup@127.0.0.1:25062'] },
    announcement: { uris: ['sip:announcement@127.0.0.1:25063'], answerTimeoutMs: 5000 },
    finalReply: { code: 480, reason: 'Temporarily Unavailable' },
    timers: OUR_TIMERS,
    rpcPort: 25071,
    controlSecret: '0123456789abcdef0123456789abcdef',
    runDir: s.dir,
    dispatcherListPath: path.join(s.dir, 'dispatcher.list'),
    children: 2,
    ...patch,
  };
  const r = renderKamailio(input);
  await writeFile(path.join(s.dir, 'kamailio.cfg'), r.cfg);
  await writeFile(input.dispatcherListPath, r.dispatcherList);
  const out = await run(KAMAILIO, ['-c', '-f', path.join(s.dir, 'kamailio.cfg')]).catch((e: { stderr?: string; message: string }) => ({
    stdout: '',
    stderr: e.stderr ?? e.message,
    failed: true,
  }));
  t.notOk('failed' in out, `${name}: kamailio -c accepts it${'failed' in out ? `\n${out.stderr}` : ''}`);
  t.match(`${out.stdout}${out.stderr}`, /config file ok/, `${name}: config file ok`);
  t.notMatch(out.stderr, /WARNING|ERROR/, `${name}: no parser warnings`);
}

t.test('kamailio -c accepts every variant', async (t) => {
  await check(t, 'our settings', {});
  await check(t, 'Kamailio default timers (the bench peer)', { timers: KAMAILIO_DEFAULT_TIMERS });
  await check(t, 'trunk allow-list + tcp + advertise', {
    trunkSources: ['10.0.0.0/8', '192.0.2.7'],
    listen: { address: '127.0.0.1', port: 25060, transports: ['udp', 'tcp'], advertise: '192.0.2.1' },
  });
  await check(t, 'several centres and announcements', {
    centres: { local: ['sip:a@127.0.0.1:25061', 'sip:b@127.0.0.1:25064'], backup: ['sip:c@127.0.0.1:25062', 'sip:d@pbx.invalid'] },
    announcement: { uris: ['sip:e@127.0.0.1:25063', 'sip:f@127.0.0.1:25065'], answerTimeoutMs: 3000 },
  });
});
