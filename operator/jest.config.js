// Jest for the operator. Tests run from TypeScript sources through the workspace's SWC preset, with its globalSetup
// (real PostgreSQL, Redis and RabbitMQ: the tenant reconciler provisions them); the integration specs in test/ start
// the local Kubernetes control plane themselves through tools/test/k8s.ts.
//
// @kubernetes/client-node 1.x and the part of its dependency graph that is ESM-only are compiled to CommonJS by
// SWC, because jest's module loader cannot require() ES modules (Node 20.20 itself can, and does in production).
// See docs/adr/0003-operator-runtime.md.
const base = require('../jest.preset.js')(__dirname);

const ESM_ONLY_PACKAGES = ['@kubernetes/client-node', 'openid-client', 'oauth4webapi', 'jose'];

const esmToCommonJs = {
  jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

module.exports = {
  ...base,
  // Real API server: leader election and watches take longer than the preset's default (tools/test/timeouts.ts).
  setupFilesAfterEnv: [require.resolve('../tools/test/timeouts-long.ts')],
  transform: {
    ...base.transform,
    '^.+\\.m?js$': ['@swc/jest', esmToCommonJs],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // The cdk8s constructs (dedicated tenants' workloads, the CRD and its types) from their TypeScript sources, like
  // the preset maps the libraries: tests need no build of @rallyforge/cdk8s.
  moduleNameMapper: {
    ...base.moduleNameMapper,
    '^@rallyforge/cdk8s$': require('node:path').join(__dirname, '..', 'cdk8s', 'src', 'index.ts'),
  },
};
