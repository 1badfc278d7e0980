// The gateway service's entry when run from its bundle (`npm run build`; `node packages/cli/dist/gateway.mjs`),
// as Compose runs it: the same service as `tokenwise gateway`, without a TypeScript loader in the process.
import { runGatewayCommand } from './commands/gateway';
import { reportError } from './report-error';

try {
  process.exitCode = await runGatewayCommand({ simulatedCluster: process.argv.includes('--simulated-cluster') });
} catch (error) {
  process.exitCode = reportError(error);
}
