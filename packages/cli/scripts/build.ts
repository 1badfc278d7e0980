// npm run build: the services that run from a bundle (packages/cli/dist/<name>.mjs).
import { fileURLToPath } from 'node:url';
import { bundleEntries } from '@tokenwise/devtools';

const cliDir = fileURLToPath(new URL('..', import.meta.url));
await bundleEntries({ gateway: `${cliDir}src/gateway-main.ts` }, `${cliDir}dist`);
process.stdout.write(`built ${cliDir}dist/gateway.mjs\n`);
