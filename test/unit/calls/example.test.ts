/**
 * ops/kamailio/vaktpost.cfg.example and dispatcher.list.example are what the
 * renderer makes of the `calls:` section of ops/vaktpost.example.yaml. Regenerate after a renderer
 * change with: VAKTPOST_WRITE_EXAMPLES=1 npx tap test/unit/calls/example.test.ts
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import YAML from 'yaml';
import { callsSchema } from '../../../supervisor/src/config/calls.js';
import { renderInputFromConfig, renderKamailio } from '../../../supervisor/src/reconcilers/kamailio/render.js';

const OPS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../ops/kamailio');

t.test('the checked-in example cfg is the current rendering of the example config', async (t) => {
  const doc = YAML.parse(await readFile(path.join(OPS, '..', 'vaktpost.example.yaml'), 'utf8')) as { calls: unknown };
  const calls = callsSchema.parse(doc.calls);
  const r = renderKamailio(
    renderInputFromConfig(calls, {
      dispatcherListPath: path.join(calls.configDir, 'dispatcher.list'),
      // The example shows the shape; a real box renders its own secret (control.secret).
      controlSecret: 'e0a0b0c0d0e0f0a0b0c0d0e0f0a0b0c0',
    }),
  );
  if (process.env.VAKTPOST_WRITE_EXAMPLES === '1') {
    await writeFile(path.join(OPS, 'vaktpost.cfg.example'), r.cfg);
    await writeFile(path.join(OPS, 'dispatcher.list.example'), r.dispatcherList);
  }
  t.equal(await readFile(path.join(OPS, 'vaktpost.cfg.example'), 'utf8'), r.cfg, 'vaktpost.cfg.example is current');
  t.equal(await readFile(path.join(OPS, 'dispatcher.list.example'), 'utf8'), r.dispatcherList, 'dispatcher.list.example is current');
});
