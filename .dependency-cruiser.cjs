// The layering rules of docs/architecture.md, checked by `npm test` (scripts/check-layers.mjs).
// Paths are relative to the repository root. Type-only imports count: a type is a dependency too.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle makes two parts one: find the lower layer and move the shared piece there.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'schemas-are-the-bottom',
      comment: 'schemas/ holds the kinds and their JSON Schemas; everything may use it, it uses nothing of ours.',
      severity: 'error',
      from: { path: '^schemas/' },
      to: { path: '^(resources|adapters|controller|cli|test|bench|scripts)/' },
    },
    {
      name: 'resources-are-pure-rules',
      comment: 'resources/ holds pure rules: it may use schemas/ and itself, nothing with side effects.',
      severity: 'error',
      from: { path: '^resources/' },
      to: { path: '^(adapters|controller|cli|test|bench|scripts)/' },
    },
    {
      name: 'resources-do-no-io',
      comment: 'No file system, processes, network, database or logging in the pure rules.',
      severity: 'error',
      from: { path: '^resources/' },
      to: {
        dependencyTypes: ['core', 'npm'],
        path: '^(node:)?(fs|fs/promises|child_process|net|http|https|dgram|dns|os|cluster|worker_threads)$|better-sqlite3|execa|pino|prom-client|etcd3',
      },
    },
    {
      name: 'adapters-do-not-know-their-callers',
      comment: 'Adapters are used by the controllers and the CLI, never the other way round.',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^(controller|cli|test|bench|scripts)/' },
    },
    {
      name: 'node-adapters-share-only-posix-helpers',
      comment: 'One node adapter never imports another; what they share lives in adapters/node/posix/.',
      severity: 'error',
      from: { path: '^adapters/node/([^/]+)/' },
      to: { path: '^adapters/node/([^/]+)/', pathNot: ['^adapters/node/$1/', '^adapters/node/posix/'] },
    },
    {
      name: 'the-store-stands-alone',
      comment: 'The store engine and backends depend on the rules and shared helpers only.',
      severity: 'error',
      from: { path: '^adapters/store/' },
      to: { path: '^adapters/', pathNot: ['^adapters/store/', '^adapters/support/'] },
    },
    {
      name: 'the-client-library-is-not-the-server',
      comment: 'adapters/api/client/ speaks the protocol (routes.ts) and the store contract, not the servers.',
      severity: 'error',
      from: { path: '^adapters/api/client/' },
      to: { path: '^adapters/', pathNot: ['^adapters/api/client/', '^adapters/api/routes\\.ts$', '^adapters/store/contract\\.ts$'] },
    },
    {
      name: 'cli-uses-the-client-library',
      comment: 'slvctl talks to slvd through adapters/api/client/ only, never through server or daemon files.',
      severity: 'error',
      from: { path: '^cli/' },
      to: { path: '^(adapters|controller)/', pathNot: '^adapters/api/client/' },
    },
    {
      name: 'cli-opens-no-tls',
      comment:
        'bin/slvctl hides NODE_EXTRA_CA_CERTS from Node at start (docs/performance.md "Start-up"): a TLS connection made by slvctl would not trust those CAs unless it adds them itself: tls.rootCertificates and the PEMs of the file process.env.NODE_EXTRA_CA_CERTS names (bin/slvctl.js puts the variable back).',
      severity: 'error',
      from: { path: '^(cli|adapters/api/client)/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(tls|https|http2)$' },
    },
    {
      name: 'runtime-knows-no-controllers',
      comment: 'controller/runtime/ is generic: the controllers and the daemon build on it.',
      severity: 'error',
      from: { path: '^controller/runtime/' },
      to: { path: '^controller/(controllers|daemon)/' },
    },
    {
      name: 'controllers-know-no-daemon',
      comment: 'The daemon wires the controllers; a controller does not reach into the daemon.',
      severity: 'error',
      from: { path: '^controller/controllers/' },
      to: { path: '^controller/daemon/' },
    },
    {
      name: 'prom-client-without-its-index',
      comment:
        'prom-client\'s index also loads its default metrics and @opentelemetry/api, ~100 ms of CPU at every start (docs/performance.md "Start-up"): product code takes its classes from adapters/support/prometheus.ts. Type-only imports load nothing.',
      severity: 'error',
      from: { path: '^(schemas|resources|adapters|controller|cli)/' },
      to: { dependencyTypes: ['npm'], dependencyTypesNot: ['type-only'], path: 'node_modules/prom-client/' },
    },
    {
      name: 'product-code-does-not-use-tests',
      severity: 'error',
      from: { path: '^(schemas|resources|adapters|controller|cli)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|native/build|data|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.json'] },
  },
};
