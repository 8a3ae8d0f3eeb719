import t from 'tap';
import { flowsCommand } from '../../../supervisor/src/flows/cli.js';

t.test('vaktpost flows … calls the API and prints the answer', async (t) => {
  const calls: Array<[string, string, unknown]> = [];
  const call = async (method: string, path: string, body?: unknown) => {
    calls.push([method, path, body]);
    if (path === '/api/flows/rollback') return { id: 9 };
    if (path === '/api/flows/deploy') return { id: 10, diff: { summary: '+1 −0 ~0 nodes' }, dryRunId: 4 };
    if (path.startsWith('/api/flows/versions'))
      return { versions: [{ id: 3, at: 0, actor: 'kari', kind: 'rollback', restoredFrom: 1, diff: { summary: '+0 −1 ~0 nodes' }, dryRunId: null }] };
    if (path === '/api/flows/dry-run')
      return {
        id: 5,
        report: {
          window: { from: 0, to: 86_400_000 },
          evaluations: 1440,
          samples: 100,
          durationMs: 10,
          current: { kind: 'flows', version: 2, routeChanges: 0 },
          candidate: { routeChanges: 2 },
          differences: [
            { from: 3_600_000, to: 5_400_000, candidate: { route: 'backup', reason: { en: 'WAN link down' } }, current: { route: 'local', reason: null } },
          ],
          warnings: [],
        },
      };
    throw new Error(`unexpected ${path}`);
  };
  t.equal(await flowsCommand('rollback', ['2'], { reason: 'bad deploy' }, call), 'rolled back to v2 (now v9)');
  t.same(calls.at(-1), ['POST', '/api/flows/rollback', { version: 2, comment: 'bad deploy' }]);
  t.match(await flowsCommand('deploy', [], { template: 'analog-backup-lines' }, call), /v10 .*dry-run #4/);
  t.same(calls.at(-1)?.[2], { template: 'analog-backup-lines' });
  t.match(await flowsCommand('versions', [], {}, call), /v3 .*kari .*rollback of v1 .*\(no dry-run\)/);
  const dr = await flowsCommand('dry-run', [], { version: '2' }, call);
  t.match(dr, /dry-run #5/);
  t.match(dr, /01:00:00 – 1970-01-01 01:30:00\s+candidate backup\s+current local\s+— WAN link down/);
  await t.rejects(flowsCommand('rollback', ['x'], {}, call), /usage/);
  await t.rejects(flowsCommand('dry-run', [], { template: 'a', version: '1' }, call), /exactly one/);
  await t.rejects(flowsCommand('deploy', [], { version: '1' }, call), /exactly one of --template, --file$/);
  await t.rejects(flowsCommand('bogus', [], {}, call), /usage: vaktpost flows/);
});
