// Lets a child process run the kit's TypeScript sources directly (node -r ./test/swc-register.js fixture.ts),
// with the same SWC settings as jest: decorator metadata included, which Nest's DI needs.
const fs = require('node:fs');
const { transformSync } = require('@swc/core');
const { swcConfig } = require('../../../../jest.preset.js');

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...swcConfig, filename });
  module._compile(code, filename);
};
