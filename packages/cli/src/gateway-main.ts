// The gateway service's entry when run from its bundle (`npm run build`; `node packages/cli/dist/gateway.mjs`),
// as Compose runs it: the same service as `tokenwise gateway`, without a TypeScript loader in the process.
import { isDomainError } from '@tokenwise/core';
import { runGatewayCommand } from './commands/gateway';

try {
  process.exitCode = await runGatewayCommand({ simulatedCluster: process.argv.includes('--simulated-cluster') });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(isDomainError(error) ? `tokenwise: ${message}\n` : `tokenwise: unexpected error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
  process.exitCode = 1;
}
