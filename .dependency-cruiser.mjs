/**
 * The layer rule (`npm run lint:layers`, part of `npm test`): each layer of src/ imports
 * only from the layers below it, so "the flow goes one way" is checked, not hoped.
 * ARCHITECTURE.md explains the order; change it there and here together.
 *
 * Bottom to top. A layer may import from any layer listed before it, never after.
 */
const LAYERS = [
  // What every layer shares: the user-facing error, durations, byte sizes, points, series.
  ['core', '^src/core/'],
  // Infrastructure any layer may use: atomic state files, the logger, source-mapped stack traces.
  ['state', '^src/state/'],
  ['logger', '^src/telemetry/(logger|stack-traces)\\.ts$'],
  // Kubernetes API access every Kubernetes-facing layer shares: failures and their RBAC
  // hints, raw HTTP, the reflector. Below sources (the pod logs) and enrich (metadata).
  ['kube', '^src/kube/'],
  // The flow, in the order data moves through it.
  ['sources', '^src/sources/'],
  ['decode', '^src/decode/'],
  ['enrich', '^src/enrich/'],
  ['aggregate', '^src/aggregate/'],
  // Beside the flow: node collectors attribute with the resolver and add to the aggregator.
  ['collectors', '^src/collectors/'],
  ['sinks', '^src/sinks/'],
  // Configuration schemas, then the assembled pipeline, then what observes it.
  ['config', '^src/config/'],
  ['pipeline', '^src/pipeline/'],
  ['metrics', '^src/telemetry/metrics\\.ts$'],
  // The wiring: config -> components, the daemon's lifecycle, replay's and demo's assembly.
  ['daemon', '^src/daemon/'],
  // Only the command line adapts commander to the rest; nothing imports it.
  ['cli', '^src/cli/'],
];

const forbidden = LAYERS.slice(0, -1).map(([name, path], i) => ({
  name: `${name}-imports-upward`,
  comment: `${name} may import only from layers below it (${
    LAYERS.slice(0, i)
      .map(([n]) => n)
      .join(', ') || 'none'
  }); see ARCHITECTURE.md`,
  severity: 'error',
  from: { path },
  to: {
    path: LAYERS.slice(i + 1)
      .map(([, p]) => `(${p})`)
      .join('|'),
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...forbidden,
    {
      name: 'no-cli-imports',
      comment: 'src/cli adapts commander to the layers; nothing else (bin/ aside) may import it',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'no-circular',
      comment: 'modules in an import cycle cannot be understood (or tested) one at a time',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a type from a higher layer is still a dependency on it.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Package exports with the conditions Node resolves (rxjs's per-operator entry points).
    enhancedResolveOptions: {
      extensions: ['.ts', '.js'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
  },
};
