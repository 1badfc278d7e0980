#!/usr/bin/env node
// The packages ship TypeScript source; tsx compiles it on load (ESM imports and CJS requires).
import { register as registerEsm } from 'tsx/esm/api';
import { register as registerCjs } from 'tsx/cjs/api';

registerEsm();
registerCjs();
const { main } = await import('../src/main.ts');
process.exitCode = await main(process.argv.slice(2));
