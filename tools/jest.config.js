// Tests of the tooling itself and the end-to-end flow through a running platform.
const preset = require('../jest.preset.js')(__dirname);
module.exports = {
  ...preset,
  displayName: 'tools',
  testMatch: ['<rootDir>/infra/**/*.spec.ts', '<rootDir>/platform/**/*.spec.ts', '<rootDir>/e2e/**/*.spec.ts'],
  testTimeout: 300000,
};
