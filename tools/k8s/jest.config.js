// Jest for the local control plane's own tests. It reuses the repo's SWC transform but not the preset's
// globalSetup (tools/test/global-setup.ts starts PostgreSQL/Redis/RabbitMQ, which these tests don't need);
// the spec starts the cluster itself through tools/test/k8s.ts.
// Run: npx jest -c tools/k8s/jest.config.js
const { swcConfig } = require('../../jest.preset.js');

module.exports = {
  rootDir: __dirname,
  displayName: 'k8s-control-plane',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', swcConfig] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
  // Bringing the cluster up and waiting for controllers takes tens of seconds; a cold tool build longer.
  setupFilesAfterEnv: [require.resolve('../test/timeouts-long.ts')],
};
