import { startApiService } from '../starters/api-starter';
import { loadScoringPlugins } from '../starters/worker-starter';
import { runService } from './service-command';

/**
 * `tokenwise api`: the tRPC API on TOKENWISE_API_PORT, listening on TOKENWISE_API_HOST. It loads
 * the scoring plugins too, for the plugins router (schemas, dry runs); their LLM calls go through
 * the gateway at TOKENWISE_GATEWAY_URL as judge usage, as the worker's do.
 */
export function runApiCommand(): Promise<number> {
  return runService({
    name: 'api',
    async start({ config, services, stack, log }) {
      const gatewayUrl =
        config.gatewayUrl ?? (config.gatewayPort === 0 ? undefined : `http://127.0.0.1:${config.gatewayPort}`);
      if (gatewayUrl === undefined)
        log(
          'Scoring plugins: not loaded (set TOKENWISE_GATEWAY_URL so their model calls reach a gateway); the plugins router refuses until then.',
        );
      const plugins =
        gatewayUrl === undefined
          ? undefined
          : await loadScoringPlugins({ services, gatewayUrl, dataDir: config.dataDir, log });
      await startApiService(stack, { services, port: config.apiPort, host: config.apiHost, plugins, log });
      return {};
    },
  });
}
