// Tests run from TypeScript sources through SWC; workspace libraries resolve to their src.
module.exports = require('../../../jest.preset.js')(__dirname);
