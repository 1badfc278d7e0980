import type { PriceListInput } from '@tokenwise/core';
import { ConfigError } from '@tokenwise/core';
import { parseClusterConfigs, type ClusterConfig } from '@tokenwise/control';
import { readFile } from 'node:fs/promises';
import { startVllmSimCluster } from '@tokenwise/vllm-sim';

export interface InferenceCluster {
  clusters: ClusterConfig[];
  /** A price list for these models, published on first start when none exists. */
  defaultPrices: PriceListInput;
  describe: string;
  close(): Promise<void>;
}

/**
 * The simulated models `npm start` serves without VLLM_URL: a small dense model (2 replicas) and a
 * MoE, each with the carbon profile of the model it stands for (Llama 3.1 8B: 8.03 B parameters,
 * dense; Mixtral 8x7B: 46.7 B in all, 12.9 B active per token, Mistral AI's model card).
 */
const simulatedModels = [
  {
    model: 'sim/llama-3.1-8b-instruct',
    replicas: 2,
    weightBillions: '8.03',
    cInputPerMTok: '150000',
    cOutputPerMTok: '600000',
    profile: { totalParamsBillions: 8.03, activeParamsBillions: 8.03 },
  },
  {
    model: 'sim/mixtral-8x7b-instruct',
    replicas: 1,
    weightBillions: '46.7',
    cInputPerMTok: '600000',
    cOutputPerMTok: '1800000',
    profile: { totalParamsBillions: 46.7, activeParamsBillions: 12.9 },
  },
] as const;

function pricesFor(
  models: { model: string; weightBillions: string; cInputPerMTok: string; cOutputPerMTok: string }[],
): PriceListInput {
  return {
    version: 'default-1',
    models: Object.fromEntries(
      models.map((entry) => [
        entry.model,
        {
          currency: 'innovation',
          cInputPerMTok: entry.cInputPerMTok,
          cOutputPerMTok: entry.cOutputPerMTok,
          weightBillions: entry.weightBillions,
          cModelPerBParam: '100',
          tiers: {
            low: { fee: '0', currency: 'innovation' },
            normal: { fee: '0', currency: 'innovation' },
            high: { fee: '50000', currency: 'innovation' },
            urgent: { fee: '100000', currency: 'priority' },
          },
        },
      ]),
    ),
  };
}

const clusterDefaults = {
  queueDepthMax: 1_000,
  queueWaitMsMax: 30_000,
  region: 'eu-west-1',
  gridIntensityGCo2ePerKwh: 250,
  gridIntensitySource: 'demo figure (set the real one with `tokenwise clusters set-carbon --source`)',
  pue: 1.2,
  ownership: 'owned' as const,
};

/** The clusters of TOKENWISE_CLUSTERS_FILE, a real vLLM at VLLM_URL (its models read from /v1/models), or the simulated cluster. */
export async function startInferenceCluster(options: {
  clustersFile?: string;
  vllmUrl: string | undefined;
  priorityScheduling: boolean;
}): Promise<InferenceCluster> {
  if (options.clustersFile !== undefined) {
    const text = await readFile(options.clustersFile, 'utf8').catch((error: unknown) => {
      throw new ConfigError(
        `TOKENWISE_CLUSTERS_FILE=${options.clustersFile} cannot be read: ${(error as Error).message}`,
      );
    });
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ConfigError(
        `TOKENWISE_CLUSTERS_FILE=${options.clustersFile} is not JSON: it must hold an array of clusters.`,
      );
    }
    const clusters = parseClusterConfigs(json);
    const models = clusters.flatMap((cluster) => cluster.models);
    return {
      clusters,
      defaultPrices: pricesFor(
        models.map((model) => ({ model, weightBillions: '8', cInputPerMTok: '150000', cOutputPerMTok: '600000' })),
      ),
      describe: `${clusters.length} configured cluster(s) (${models.join(', ')})`,
      close: async () => {},
    };
  }
  if (options.vllmUrl !== undefined) {
    const response = await fetch(`${options.vllmUrl}/v1/models`, { signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`VLLM_URL=${options.vllmUrl} answered ${response.status} to GET /v1/models.`);
    const models = ((await response.json()) as { data?: { id: string }[] }).data?.map((entry) => entry.id) ?? [];
    if (models.length === 0) throw new Error(`VLLM_URL=${options.vllmUrl} serves no models.`);
    return {
      clusters: [
        {
          name: 'vllm',
          models,
          replicas: [{ id: 'vllm-0', url: options.vllmUrl }],
          maxConcurrencyPerReplica: 256,
          priorityScheduling: options.priorityScheduling,
          ...clusterDefaults,
        },
      ],
      defaultPrices: pricesFor(
        models.map((model) => ({ model, weightBillions: '8', cInputPerMTok: '150000', cOutputPerMTok: '600000' })),
      ),
      describe: `vLLM at ${options.vllmUrl} (${models.join(', ')})`,
      close: async () => {},
    };
  }
  const sim = await startVllmSimCluster({
    models: simulatedModels.map(({ model, replicas }) => ({
      model,
      replicas,
      schedulingPolicy: 'priority' as const,
      maxNumSeqs: 64,
    })),
  });
  const clusters: ClusterConfig[] = simulatedModels.map(({ model, profile }, index) => ({
    name: `sim-${index}`,
    models: [model],
    modelProfiles: { [model]: { ...profile } },
    replicas: sim.replicas
      .filter((replica) => replica.model === model)
      .map((replica, n) => ({ id: `sim-${index}-${n}`, url: replica.url })),
    maxConcurrencyPerReplica: 64,
    priorityScheduling: true,
    ...clusterDefaults,
  }));
  return {
    clusters,
    defaultPrices: pricesFor([...simulatedModels]),
    describe: `simulated vLLM cluster (${simulatedModels.map((entry) => `${entry.model} x${entry.replicas}`).join(', ')})`,
    close: () => sim.close(),
  };
}
