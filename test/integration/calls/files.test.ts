/**
 * writeKamailioFiles / writeAnnouncementFiles: what the systemd units run from.
 * Real espeak-ng + sox for the prompt, real `kamailio -c` on the written cfg.
 */
import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { callsSchema } from '../../../supervisor/src/config/calls.js';
import { writeAnnouncementFiles, writeKamailioFiles } from '../../../supervisor/src/reconcilers/kamailio/files.js';
import { KAMAILIO } from '../../helpers/kamailio.js';
import { scratchDir } from '../../helpers/util.js';

const run = promisify(execFile);

t.test('rendered files are written atomically, only when they change, and Kamailio accepts them', async (t) => {
  const s = await scratchDir('calls-files');
  t.teardown(() => s.cleanup());
  const calls = callsSchema.parse({
    centres: { local: { uris: ['sip:lv@127.0.0.1:25061'] }, backup: { uris: ['sip:backup@127.0.0.1:25062'] } },
    announcement: { uris: ['sip:announcement@127.0.0.1:25063'] },
    configDir: path.join(s.dir, 'kamailio'),
    runDir: s.dir,
    sip: { address: '127.0.0.1', port: 25060 },
    rpc: { port: 25071 },
  });
  const first = await writeKamailioFiles(calls);
  t.ok(first.cfg.changed && first.dispatcherList.changed, 'first write creates both files');
  const again = await writeKamailioFiles(calls);
  t.notOk(again.cfg.changed || again.dispatcherList.changed, 'same config: nothing rewritten (no needless reload)');
  const failed = await writeKamailioFiles(calls, 'backup');
  t.ok(failed.dispatcherList.changed && !failed.cfg.changed, 'a persisted failover changes only the list');
  t.match(await readFile(failed.dispatcherList.path, 'utf8'), /^1 sip:lv@127\.0\.0\.1:25061 4 200 route=local$/m);
  const check = await run(KAMAILIO, ['-c', '-f', first.cfg.path]);
  t.match(`${check.stdout}${check.stderr}`, /config file ok/, 'kamailio -c accepts the written cfg');

  const ann = await writeAnnouncementFiles(calls, path.join(s.dir, 'announcement'));
  t.ok((await stat(ann.promptFile)).size > 8000, `prompt recorded (${ann.promptMs?.toFixed(0)} ms of speech)`);
  t.match(await readFile(ann.scenario.path, 'utf8'), new RegExp(`rtp_stream="${ann.promptFile},-1,0,PCMU/8000"`));
});
