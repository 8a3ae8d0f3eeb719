// Node-RED loads node files as CommonJS from this folder (with vaktpost.html next to it).
// The nodes are written in TypeScript (../src) and compiled to ../dist by
// `npx tsc -p flows/tsconfig.json` (part of `make build`).
let impl;
try {
  impl = require('../dist/flows/src/nodes/index.js');
} catch (err) {
  throw new Error(`the vaktpost nodes are not built (${err.message}) — run \`npx tsc -p flows/tsconfig.json\` (make build)`);
}
module.exports = impl;
