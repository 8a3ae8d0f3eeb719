import t from 'tap';
import { FlowsConfigSchema } from '../../../supervisor/src/config/flows.js';

t.test('flows config: off by default, strict, sane limits', async (t) => {
  const d = FlowsConfigSchema.parse({});
  t.equal(d.enabled, false);
  t.equal(d.proposalTimeoutMs, 500);
  t.equal(d.functionTimeoutS, 1);
  t.equal(d.dryRun.windowHours, 24);
  t.equal(d.initialTemplate, 'default');
  t.notOk(FlowsConfigSchema.safeParse({ enabled: true, proposalTimeout: 500 }).success, 'unknown key rejected');
  t.notOk(FlowsConfigSchema.safeParse({ dryRun: { window: 1 } }).success, 'unknown nested key rejected');
  t.notOk(FlowsConfigSchema.safeParse({ proposalTimeoutMs: 5 }).success, 'a timeout too short to be met');
  t.notOk(FlowsConfigSchema.safeParse({ credentialSecret: 'short' }).success, 'a weak credential secret');
});
