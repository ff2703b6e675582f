// Tests of the tooling itself and the end-to-end flow through a running platform.
const preset = require('../jest.preset.js')(__dirname);
module.exports = {
  ...preset,
  displayName: 'tools',
  testMatch: ['<rootDir>/infra/**/*.spec.ts', '<rootDir>/platform/**/*.spec.ts', '<rootDir>/e2e/**/*.spec.ts'],
  // The end-to-end flow builds and starts the whole platform (see tools/test/timeouts.ts for why not testTimeout).
  setupFilesAfterEnv: [require.resolve('./test/timeouts-long.ts')],
};
