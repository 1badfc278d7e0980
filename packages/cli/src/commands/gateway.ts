import { startGatewayService } from '../starters/gateway-starter';
import { runService } from './service-command';

/**
 * `tokenwise gateway`: the metering proxy, one of several replicas on a shared PostgreSQL. It also
 * sweeps lapsed holds (idempotent across replicas). Never a simulated cluster unless asked for.
 */
export function runGatewayCommand(options: { simulatedCluster: boolean }): Promise<number> {
  return runService({
    name: 'gateway',
    requires: (config) =>
      config.vllmUrl === undefined && config.clustersFile === undefined && !options.simulatedCluster
        ? [
            'needs VLLM_URL (a vLLM server) or TOKENWISE_CLUSTERS_FILE (a JSON file of clusters); for a simulated cluster, pass --simulated-cluster.',
          ]
        : [],
    async start({ config, services, stack, log }) {
      await startGatewayService(stack, {
        services,
        clusters: {
          clustersFile: config.clustersFile,
          vllmUrl: config.vllmUrl,
          priorityScheduling: config.vllmPriorityScheduling,
        },
        port: config.gatewayPort,
        host: config.gatewayHost,
        actor: 'system:gateway',
        log,
      });
      return {};
    },
  });
}
