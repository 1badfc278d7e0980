import { parseWith } from '@tokenwise/core';
import { z } from 'zod';
import type { ClusterConfig } from './cluster-config';

/** Clusters one gateway routes to. */
export const clustersMax = 64;
/** Replicas per cluster: replica choice scans them on every request. */
export const replicasPerClusterMax = 64;
/** Served model names per cluster. */
export const modelsPerClusterMax = 64;
/** vLLM's max_num_seqs rarely exceeds 1024; more is a typo. */
export const concurrencyPerReplicaMax = 4096;
export const queueDepthMaxLimit = 100_000;
/** Ten minutes, in milliseconds: longer waits belong in a batch API. */
export const queueWaitMsMaxLimit = 600_000;

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}$/;
const nameMessage = 'must be 1..128 letters, digits and ._:/@+- starting with a letter or digit';

const positiveInt = (max: number, unit: string) =>
  z
    .number({ error: `must be a positive integer ${unit}` })
    .int(`must be a positive integer ${unit}`)
    .min(1, `must be at least 1 ${unit}`)
    .max(max, `must be at most ${max} ${unit}`);

const baseUrl = z
  .string({ error: 'must be an http(s) base URL such as "http://10.0.0.5:8000"' })
  .refine((value) => isHttpUrl(value), 'must be an http(s) base URL such as "http://10.0.0.5:8000"')
  .refine((value) => !/\/v1\/?$/.test(value), 'must be the base URL without /v1 (the gateway appends /v1/...)')
  .transform((value) => value.replace(/\/+$/, ''));

/** One replica: an id unique across clusters and the base URL of its vLLM server. */
export const replicaSchema = z.strictObject({ id: z.string().regex(namePattern, nameMessage), url: baseUrl });

/** Parameters beyond this are a typo (the largest published models have a few thousand billion). */
export const modelParamsBillionsMax = 100_000;

/**
 * What the carbon model needs of a served model (EcoLogits 0.11.3): total parameters set the GPU
 * count, active ones (a mixture of experts' routed share) the energy per token; a measured decode
 * speed replaces the latency regression.
 */
export const modelProfileSchema = z
  .strictObject({
    totalParamsBillions: z
      .number({ error: 'must be the total parameters in billions, such as 46.7' })
      .positive('must be greater than 0 (billions of parameters)')
      .max(modelParamsBillionsMax, `must be at most ${modelParamsBillionsMax} (billions of parameters)`),
    activeParamsBillions: z
      .number({ error: 'must be the parameters active per token in billions, such as 12.9 (= total when dense)' })
      .positive('must be greater than 0 (billions of parameters)')
      .max(modelParamsBillionsMax, `must be at most ${modelParamsBillionsMax} (billions of parameters)`),
    tokensPerSecond: z
      .number({ error: 'must be the measured decode speed in tokens per second' })
      .positive('must be greater than 0 tokens per second')
      .max(1_000_000, 'must be at most 1000000 tokens per second')
      .optional(),
  })
  .refine((profile) => profile.activeParamsBillions <= profile.totalParamsBillions, {
    message: 'activeParamsBillions must be at most totalParamsBillions',
    path: ['activeParamsBillions'],
  });

/** Where a grid-intensity figure comes from, free text such as "Ember 2024, DE annual average". */
export const gridIntensitySourceSchema = z
  .string({ error: 'must say where the grid intensity comes from, such as "Ember 2024, DE annual average"' })
  .trim()
  .min(1, 'must not be empty')
  .max(200, 'must be at most 200 characters');

/** The market-based factor (PPAs, certificates) next to the location-based one, as the GHG Protocol's Scope 2 asks. */
export const marketGridIntensitySchema = z
  .number({ error: 'must be a number of gCO2e per kWh (market-based)' })
  .min(0, 'must be at least 0 gCO2e/kWh')
  .max(2000, 'must be at most 2000 gCO2e/kWh');

/** `owned`: electricity Scope 2, hardware Scope 3 category 2; `rented`: all of it Scope 3 category 1. */
export const clusterOwnerships = ['owned', 'rented'] as const;
export const ownershipSchema = z.enum(clusterOwnerships, { error: 'must be "owned" or "rented"' });

/** One cluster's configuration (what an operator adds through the API); `clusterConfigSchema` also checks uniqueness across clusters. */
export const clusterSchema = z.strictObject({
  name: z.string().regex(namePattern, nameMessage),
  models: z
    .array(z.string().regex(namePattern, nameMessage))
    .min(1, 'must list at least one served model')
    .max(modelsPerClusterMax, `must list at most ${modelsPerClusterMax} models`),
  replicas: z
    .array(replicaSchema)
    .min(1, 'must list at least one replica')
    .max(replicasPerClusterMax, `must list at most ${replicasPerClusterMax} replicas`),
  maxConcurrencyPerReplica: positiveInt(concurrencyPerReplicaMax, 'requests'),
  priorityScheduling: z.boolean({
    error: 'must be true when the replicas run vLLM with --scheduling-policy priority, else false',
  }),
  queueDepthMax: positiveInt(queueDepthMaxLimit, 'requests'),
  queueWaitMsMax: positiveInt(queueWaitMsMaxLimit, 'ms'),
  region: z.string().min(1, 'must name the region, such as "eu-west-1"').max(64, 'must be at most 64 characters'),
  gridIntensityGCo2ePerKwh: z
    .number({ error: 'must be a number of gCO2e per kWh' })
    .min(0, 'must be at least 0 gCO2e/kWh')
    .max(2000, 'must be at most 2000 gCO2e/kWh'),
  pue: z
    .number({ error: 'must be a power usage effectiveness such as 1.2' })
    .min(1, 'must be at least 1 (PUE)')
    .max(3, 'must be at most 3 (PUE)')
    .optional(),
  gridIntensitySource: gridIntensitySourceSchema.optional(),
  marketGridIntensityGCo2ePerKwh: marketGridIntensitySchema.optional(),
  ownership: ownershipSchema.optional(),
  /** Per served model; a model without one is metered as dense at its price list weight, flagged `carbon_assumed`. */
  modelProfiles: z
    .record(z.string().regex(namePattern, nameMessage), modelProfileSchema)
    .optional()
    .refine((profiles) => profiles === undefined || Object.keys(profiles).length <= modelsPerClusterMax, {
      message: `must have at most ${modelsPerClusterMax} profiles`,
    }),
});

/**
 * ClusterConfig[]: unique cluster names and replica ids, positive limits, http(s) URLs. A model may be
 * served by several clusters (the router chooses per request, by carbon or by load).
 */
export const clusterConfigSchema = z
  .array(clusterSchema)
  .min(1, 'must list at least one cluster')
  .max(clustersMax, `must list at most ${clustersMax} clusters`)
  .superRefine((clusters, ctx) => {
    const clusterByName = new Map<string, number>();
    const clusterByReplica = new Map<string, string>();
    clusters.forEach((cluster, index) => {
      for (const model of Object.keys(cluster.modelProfiles ?? {}))
        if (!cluster.models.includes(model))
          ctx.addIssue({
            code: 'custom',
            path: [index, 'modelProfiles', model],
            message: `"${model}" is not among the cluster's models; a profile describes a served model`,
          });
      if (clusterByName.has(cluster.name))
        ctx.addIssue({
          code: 'custom',
          path: [index, 'name'],
          message: `"${cluster.name}" names two clusters; cluster names must be unique`,
        });
      clusterByName.set(cluster.name, index);
      cluster.models.forEach((model, modelIndex) => {
        if (cluster.models.indexOf(model) !== modelIndex)
          ctx.addIssue({
            code: 'custom',
            path: [index, 'models', modelIndex],
            message: `"${model}" is listed twice in cluster "${cluster.name}"`,
          });
      });
      cluster.replicas.forEach((replica, replicaIndex) => {
        const owner = clusterByReplica.get(replica.id);
        if (owner !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [index, 'replicas', replicaIndex, 'id'],
            message: `"${replica.id}" is already a replica id in cluster "${owner}"; replica ids must be unique across clusters`,
          });
        else clusterByReplica.set(replica.id, cluster.name);
      });
    });
  });

// The schema's output must stay assignable to the contract's ClusterConfig.
const _outputMatchesContract: (value: z.output<typeof clusterConfigSchema>) => ClusterConfig[] = (value) => value;

/** Validates cluster configuration, throwing one ValidationError whose message names every bad field. */
export function parseClusterConfigs(input: unknown): ClusterConfig[] {
  return parseWith(clusterConfigSchema, input, 'clusters');
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (
    (url.protocol === 'http:' || url.protocol === 'https:') &&
    url.search === '' &&
    url.hash === '' &&
    url.username === '' &&
    url.password === ''
  );
}
