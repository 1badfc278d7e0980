import { startApiService } from '../starters/api-starter';
import { runService } from './service-command';

/** `tokenwise api`: the tRPC API on TOKENWISE_API_PORT, listening on TOKENWISE_API_HOST. */
export function runApiCommand(): Promise<number> {
  return runService({
    name: 'api',
    async start({ config, services, stack, log }) {
      // The plugins router's registry goes here (ApiStarterOptions.plugins) once this process loads the scoring plugins.
      await startApiService(stack, { services, port: config.apiPort, host: config.apiHost, log });
      return {};
    },
  });
}
