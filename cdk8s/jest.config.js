// Tests run from TypeScript sources through SWC. They need no PostgreSQL, Redis or RabbitMQ, so the
// preset's globalSetup (which starts them) is switched off; the Kubernetes suites start the local
// control plane themselves (tools/test/k8s.ts).
module.exports = {
  ...require('../jest.preset.js')(__dirname),
  globalSetup: undefined,
};
