/**
 * Which way dependencies may point (docs/architecture.md, "Dependencies"),
 * checked by `npm run lint:deps` in CI.
 *
 * - src/core/ (errors, numbers, the request context, the viewer and its
 *   permissions, the unit of work) imports nothing else of Mulu: services,
 *   REST routes, the CLI and GraphQL all build on it.
 * - Module folders form layers, lowest first. A module imports only modules
 *   of lower layers; modules of one layer do not import each other. Statistics
 *   sit above what they count: they read the catalogue, mounts, subscriptions
 *   and supervision tables and are fed by their changes (flush subscribers),
 *   and none of those modules calls back into them.
 *
 * A new module folder goes into LAYERS (the rule below refuses one that is
 * not placed).
 */
const LAYERS = [
  ['audit'],
  ['regions'],
  ['departments'],
  ['auth'],
  ['catalogue'],
  ['mounts', 'subscriptions', 'supervision'],
  ['sharing'],
  ['stats'],
  ['reports'],
  ['imports'],
];

const placed = LAYERS.flat();
const upward = LAYERS.map((layer, index) => ({
  name: `modules-point-down:${layer.join('+')}`,
  comment: `${layer.join(', ')} may import only modules of lower layers (${LAYERS.slice(0, index).flat().join(', ') || 'none'}).`,
  severity: 'error',
  from: { path: `^src/modules/(${layer.join('|')})/` },
  to: {
    path: `^src/modules/(${LAYERS.slice(index).flat().join('|')})/`,
    pathNot: `^src/modules/$1/`,
  },
}));

module.exports = {
  forbidden: [
    {
      name: 'core-is-the-bottom',
      comment: 'src/core is shared by services, routes, the CLI and GraphQL; it imports nothing else of Mulu.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: '^src/', pathNot: '^src/core/' },
    },
    ...upward,
    {
      name: 'modules-are-placed',
      comment: `Every module folder has a layer in .dependency-cruiser.cjs (LAYERS): ${placed.join(', ')}.`,
      severity: 'error',
      from: { path: `^src/modules/(?!(${placed.join('|')})/)` },
      to: {},
    },
    {
      name: 'services-without-graphql',
      comment: 'Services hold the rules and are called from GraphQL, REST and the CLI alike; they never import GraphQL types.',
      severity: 'error',
      from: { path: '^src/modules/.+[.]service[.]ts$' },
      to: { path: ['^src/graphql/', '(^|/)node_modules/(type-graphql|graphql|@apollo)/'] },
    },
    {
      name: 'src-not-to-test',
      comment: 'Production code does not import test code.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^dist/' },
  },
};
