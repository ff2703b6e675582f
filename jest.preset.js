// Shared jest settings: SWC with legacy decorators and decorator metadata (NestJS DI needs both),
// and workspace libraries mapped to their TypeScript sources so tests never need a build first.
const path = require('node:path');

const swcConfig = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

const libs = path.join(__dirname, 'services', 'libs');

module.exports = (rootDir) => ({
  rootDir,
  displayName: path.basename(rootDir),
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['@swc/jest', swcConfig] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/src/**/*.int-spec.ts', '<rootDir>/test/**/*.spec.ts'],
  moduleNameMapper: {
    '^@rallyforge/(contracts|service-kit|bus)$': path.join(libs, '$1', 'src', 'index.ts'),
    '^@rallyforge/(contracts|service-kit|bus)/(.*)$': path.join(libs, '$1', 'src', '$2'),
  },
  globalSetup: path.join(__dirname, 'tools', 'test', 'global-setup.ts'),
  globalTeardown: path.join(__dirname, 'tools', 'test', 'global-teardown.ts'),
  setupFiles: [path.join(__dirname, 'tools', 'test', 'setup-env.ts')],
  setupFilesAfterEnv: [path.join(__dirname, 'tools', 'test', 'timeouts.ts')],
});
module.exports.swcConfig = swcConfig;
