// The whole suite: every project's own jest config (each maps the workspace libraries to their sources).
const { existsSync, readdirSync } = require('node:fs');
const { join } = require('node:path');

const dirs = (base) => (existsSync(base) ? readdirSync(base).map((d) => join(base, d)) : []);
const candidates = [
  ...dirs('services/libs'),
  ...dirs('services'),
  'tools',
  'tools/k8s',
  'cdk8s',
  'operator',
].map((d) => join(d, 'jest.config.js'));

module.exports = {
  projects: candidates.filter((p) => existsSync(p)).map((p) => `<rootDir>/${p}`),
};
