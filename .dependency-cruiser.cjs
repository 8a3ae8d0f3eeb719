/**
 * The import rules of the layout (README "Layout"): the pure core imports no I/O and nothing
 * from hardware/, the store or the API; hardware/ never imports supervisor/; the flows nodes
 * reach the supervisor only over IPC. Enforced by `make test` (lint step).
 */
const IO =
  '^(fs|net|dgram|http|https|http2|child_process|worker_threads|cluster|tls|dns|os|readline)$|^node:(fs|net|dgram|http|https|http2|child_process|worker_threads|cluster|tls|dns|os|readline)';
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'supervisor/src/core does no I/O',
      severity: 'error',
      from: { path: '^supervisor/src/core' },
      to: { path: IO, dependencyTypes: ['core'] },
    },
    {
      name: 'core-imports-only-core',
      comment: 'the pure core imports nothing from the edges',
      severity: 'error',
      from: { path: '^supervisor/src/core' },
      to: { path: '^(hardware|supervisor/src/(store|api|monitors|reconcilers|flows|jobs|audiolog|cli))' },
    },
    {
      name: 'hardware-is-standalone',
      comment: 'hardware/ never imports supervisor/',
      severity: 'error',
      from: { path: '^hardware' },
      to: { path: '^supervisor' },
    },
    {
      name: 'api-reaches-hardware-through-services',
      comment: 'the API uses the supervisor, not drivers (the simulator control is the one exception)',
      severity: 'error',
      from: { path: '^supervisor/src/api' },
      to: { path: '^hardware', pathNot: '^hardware/sim' },
    },
    {
      name: 'flows-only-via-ipc',
      comment: 'flows/ nodes reach the supervisor only through the IPC protocol',
      severity: 'error',
      from: { path: '^flows' },
      to: { path: '^(supervisor|hardware)', pathNot: '^supervisor/src/flows/protocol' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.cjs', '.mjs'] },
  },
};
