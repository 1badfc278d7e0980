import { type VllmSim, type VllmSimOptions, startVllmSim } from './server';

/** One model of a simulated cluster: its server options and how many replicas to run. */
export interface SimClusterModel extends Omit<VllmSimOptions, 'port'> {
  replicas?: number;
  /** First port; replica i listens on basePort + i. Default 0 (free ports). */
  basePort?: number;
}

export interface SimClusterConfig {
  models: SimClusterModel[];
}

export interface VllmSimCluster {
  /** Every replica, in config order. */
  readonly replicas: ReadonlyArray<VllmSim>;
  /** Base URLs of each model's replicas. */
  urls(model: string): string[];
  close(): Promise<void>;
}

/** Replicas per model above this are refused: each is a server and a port. */
export const replicasPerModelMax = 64;

/** Starts one loopback HTTP server per replica of every model. */
export async function startVllmSimCluster(config: SimClusterConfig): Promise<VllmSimCluster> {
  const replicas: VllmSim[] = [];
  try {
    for (const { replicas: count = 1, basePort = 0, ...model } of config.models) {
      if (!Number.isInteger(count) || count < 1 || count > replicasPerModelMax) {
        throw new Error(`Model "${model.model}": replicas must be an integer 1..${replicasPerModelMax}, got ${count}.`);
      }
      for (let i = 0; i < count; i++) {
        // Replicas differ in seed so a load balancer test can tell them apart, yet each is deterministic.
        replicas.push(
          await startVllmSim({ ...model, seed: (model.seed ?? 0) + i, port: basePort === 0 ? 0 : basePort + i }),
        );
      }
    }
  } catch (error) {
    await Promise.all(replicas.map((replica) => replica.close()));
    throw error;
  }
  return {
    replicas,
    urls: (model) => replicas.filter((replica) => replica.model === model).map((replica) => replica.url),
    close: async () => {
      await Promise.all(replicas.map((replica) => replica.close()));
    },
  };
}
