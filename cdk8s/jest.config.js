// Tests run from TypeScript sources through SWC. They need no PostgreSQL, Redis or RabbitMQ, so the
// preset's globalSetup (which starts them) is switched off; the Kubernetes suites (test/*.int-spec.ts)
// start the local control plane themselves through tools/test/k8s.ts.
const preset = require('../jest.preset.js')(__dirname);

module.exports = {
  ...preset,
  globalSetup: undefined,
  globalTeardown: undefined,
  // helm install --wait against the local control plane (see tools/test/timeouts.ts for why not testTimeout).
  setupFilesAfterEnv: [require.resolve('../tools/test/timeouts-long.ts')],
  testMatch: [...preset.testMatch, '<rootDir>/test/**/*.int-spec.ts'],
};
