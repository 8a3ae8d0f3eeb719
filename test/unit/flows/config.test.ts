import t from 'tap';
import { FlowsConfigSchema, flowsAdvice } from '../../../supervisor/src/config/flows.js';

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

t.test('flows isolation config: own user by default, file nodes off, a warning when not root', async (t) => {
  const d = FlowsConfigSchema.parse({});
  t.equal(d.user, 'vaktpost-flows');
  t.equal(d.fileNodes, false, 'file nodes off unless switched on');
  t.equal(d.homeDir, undefined, 'home beside the data dir unless set');
  t.notOk(FlowsConfigSchema.safeParse({ homeDir: 'relative/dir' }).success, 'the home must be an absolute path');
  t.notOk(FlowsConfigSchema.safeParse({ user: 'Root; rm' }).success, 'a user name, nothing else');
  const on = FlowsConfigSchema.parse({ enabled: true });
  t.same(flowsAdvice(on, 0), [], 'root: the child is isolated, nothing to say');
  t.same(flowsAdvice(on, 998, 0xc0n), [], 'not root but CAP_SETUID/CAP_SETGID (vaktpost.service): isolated, nothing to say');
  t.equal(flowsAdvice(on, 998, 0x80n).length, 1, 'CAP_SETUID alone is not enough: the warning stays');
  t.same(flowsAdvice(d, 1000), [], 'flows off: nothing to say');
  const w = flowsAdvice(on, 1000);
  t.equal(w.length, 1, 'not root: one warning');
  t.match(w[0]?.en, /NOT be isolated.*uid 1000/);
  t.match(w[0]?.nb, /IKKE isolert/);
});
