import { startWorkerService } from '../starters/worker-starter';
import { runService } from './service-command';

/**
 * `tokenwise worker`: the Temporal worker with the scoring plugins, the outbox relay and the
 * reconcile Schedule. Stateless: run as many as the settlement load needs.
 */
export function runWorkerCommand(): Promise<number> {
  return runService({
    name: 'worker',
    requires: (config) => [
      ...(config.temporalAddress === undefined
        ? [
            'needs TEMPORAL_ADDRESS (host:port of a Temporal server, e.g. temporal:7233); only `tokenwise dev` starts a local one.',
          ]
        : []),
      ...(config.gatewayUrl === undefined && config.gatewayPort === 0
        ? [
            'needs TOKENWISE_GATEWAY_URL (the judge plugin calls models through a gateway) when TOKENWISE_GATEWAY_PORT is 0.',
          ]
        : []),
    ],
    async start({ config, services, stack, log, signal }) {
      const temporalAddress = config.temporalAddress as string;
      const gatewayUrl = config.gatewayUrl ?? `http://127.0.0.1:${config.gatewayPort}`;
      log(
        `Temporal: ${temporalAddress} (namespace ${config.temporalNamespace}); scoring plugins call models through the gateway at ${gatewayUrl}.`,
      );
      const { running } = await startWorkerService(stack, {
        services,
        temporalAddress,
        temporalNamespace: config.temporalNamespace,
        gatewayUrl,
        dataDir: config.dataDir,
        log,
        signal,
      });
      return { running };
    },
  });
}
